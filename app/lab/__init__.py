"""The practice lab: a whole Matrix host, running on its own Docker engine, for walking every step
once before touching a real host.

- ``app.lab.guard``: the ``hslab-`` guard (light: the wizard asks it before its first frame);
- ``app.lab.files``: the lab host's files and config (``build_lab``);
- ``app.lab.engine``: the lab's own dockerd in its own network namespace;
- ``app.lab.stack``: what runs on it (Traefik, Synapse, Element's page, coTURN, the lab CA, DNS);
- ``app.lab.run``: ``start_lab`` and ``stop_lab``.

Nothing is imported here, so asking the guard loads none of the rest.
"""
