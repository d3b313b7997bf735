"""Secrets out of structure, where hardstep has it: a parsed YAML/TOML/JSON/turnserver.conf
document, a container's environment, command arguments and labels, the state and audit data.
Structure knows which value belongs to which key, so a value goes whole, whatever its shape
(several lines, a number, a nested mapping); every value taken out is remembered (``known``), so
the text rules take it out of any later text too."""

from __future__ import annotations

from typing import Any, Iterable

from app.redact import known
from app.redact.names import REDACTED, harmless, is_credential_list, is_secret_key
from app.redact.text import credentials, redact

# coturn's short flags whose next argument holds a credential (README.turnserver): -u user,
# -e psql-userdb, -M mysql-userdb, -J mongo-userdb, -N redis-userdb, -O redis-statsdb.
_COTURN_FLAGS = {"-u": "user", "-e": "psql-userdb", "-M": "mysql-userdb", "-J": "mongo-userdb",
                 "-N": "redis-userdb", "-O": "redis-statsdb"}


def redact_value(key: str, value: str) -> str:
    """One key/value pair (an environment variable, a label, an option): a secret key's value
    goes whole, a ``name:password`` list keeps its names, any other value gets the text rules."""
    if is_secret_key(key):
        return _gone(value)
    if is_credential_list(key):
        return credentials(value)
    return redact(value)


def redact_argv(argv: Iterable[str], program: str = "") -> list[str]:
    """A command line with its secrets out: ``--secret=x``, ``--secret x``, ``user=name:pw``,
    ``--user name:pw``, connection strings; coturn's short flags when ``program`` (image,
    entrypoint) is coturn's."""
    flags = _COTURN_FLAGS if "turnserver" in program or "coturn" in program else {}
    out: list[str] = []
    option = ""  # the option whose value the next argument is
    for arg in argv:
        if option and not arg.startswith("-"):
            out.append(redact_value(option, arg))
            option = ""
            continue
        option = ""  # a flag that takes no value (--use-auth-secret), followed by the next flag
        name, eq, value = arg.partition("=")
        if eq and name and not any(c.isspace() for c in name):
            out.append(f"{name}={redact_value(name, value)}")
        elif arg.startswith("-") and (arg in flags or is_secret_key(arg) or is_credential_list(arg)):
            option = flags.get(arg, arg)
            out.append(arg)
        else:
            out.append(redact(arg))
    return out


def redact_tree(value: Any, key: str = "", keep: frozenset[str] = frozenset()) -> Any:
    """Every string at any depth through the text rules; everything under a secret key goes
    whole. Keys in ``keep`` are left as they are (hardstep's own machine data)."""
    if key and is_secret_key(key):
        return _all_gone(value)
    if isinstance(value, dict):
        return {str(k): v if str(k) in keep else redact_tree(v, str(k), keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v, key, keep) for v in value]
    if isinstance(value, str):
        return redact_value(key, value) if key else redact(value)
    return value


def remember_secrets(document: Any) -> None:
    """Learn the secrets of a parsed document, so no text hardstep shows later can quote them."""
    redact_tree(document)


def _all_gone(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _all_gone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_all_gone(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (str, int, float)):
        return _gone(str(value))
    return value


def _gone(value: str) -> str:
    if harmless(value):
        return value
    known.remember(value)
    return REDACTED
