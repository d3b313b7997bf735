"""Surgical editors for configuration files: change only the lines that must change.

Each editor parses with a real parser (to validate the file and to locate keys), edits the text
at those places, then parses the result again and refuses to hand it back when anything it was
not asked to touch would mean something different. Nothing here writes files; the steps hand
the new text to an ``EditFile`` action (backup, atomic write, redacted diff).

- ``yaml_text``: top-level keys of a YAML file such as Synapse's ``homeserver.yaml``.
- ``toml_text``: keys of one table of a TOML file such as Traefik's static configuration.
"""
