"""Secrets never leave hardstep: every diff, log line, audit entry and report passes through here."""

from __future__ import annotations

import re

REDACTED = "<redacted>"

# Keys whose values are secrets, in YAML (key: value), TOML/INI (key = value),
# coturn (key=value) and environment (KEY=value) form.
_SECRET_KEY = (
    r"[A-Za-z0-9_.-]*(?:secret|password|passwd|token|private[_-]?key|api[_-]?key|"
    r"macaroon|signing[_-]?key|credential|auth[_-]?key|pkey[_-]pwd)[A-Za-z0-9_.-]*"
)
# Plain strings with their flags inline: ``re`` compiles each on first use and keeps it, so
# importing this module (the engine does, before the wizard's first frame) compiles nothing.
_ASSIGNMENT = (
    rf"(?im)(?P<lead>^[ \t]*[-+ ]?[ \t]*#?[ \t]*(?:export[ \t]+)?[\"']?(?P<key>{_SECRET_KEY})[\"']?[ \t]*[:=][ \t]*)"
    r"(?P<value>\S.*?)(?P<tail>[ \t]*(?:\r)?)$"
)
_URL_PASSWORD = r"(?i)(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]+:)(?P<password>[^@\s/]+)(?=@)"
# coturn's static users: ``user=<name>:<password or 0x key>`` (the name may stay visible).
_TURN_USER = r"(?m)(?P<lead>^[ \t]*[-+ ]?[ \t]*#?[ \t]*user[ \t]*=[ \t]*[^:\s]+:)(?P<value>[^\r\n]+)"
_PEM = r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"


def redact(text: str) -> str:
    """Replace secret values with ``<redacted>``, keeping keys and layout so diffs stay readable."""
    if not text:
        return text
    text = re.sub(_PEM, f"-----BEGIN PRIVATE KEY----- {REDACTED} -----END PRIVATE KEY-----", text)
    text = re.sub(_ASSIGNMENT, _replace_value, text)
    text = re.sub(_TURN_USER, lambda m: m.group("lead") + REDACTED, text)
    return re.sub(_URL_PASSWORD, lambda m: m.group("scheme") + REDACTED, text)


def _replace_value(match: re.Match) -> str:
    value = match.group("value")
    # An empty mapping start (``password:`` then a block) or a boolean is not a secret.
    if value.lower() in {"true", "false", "yes", "no", "null", "~", "''", '""', "{}", "[]"}:
        return match.group(0)
    return f"{match.group('lead')}{REDACTED}{match.group('tail')}"


def redact_value(key: str, value: str) -> str:
    """Redact one key/value pair (environment variables, labels)."""
    return REDACTED if re.fullmatch(_SECRET_KEY, key, re.IGNORECASE) and value else value
