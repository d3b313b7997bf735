"""Errors the user can act on. Each carries a one-line message that says what to do next."""

from app.redact import redact

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2  # all passed; a check (or an apply) failed; hardstep could not act


class HardstepError(Exception):
    """Base for every error shown to the user as a message, never as a traceback."""

    exit_code = 2


class ConfigError(HardstepError):
    """The configuration file is missing a value, malformed, or holds an invalid value."""


class DockerUnavailable(HardstepError):
    """The Docker engine does not answer."""


class UnknownStep(HardstepError):
    """A step id that is not in the registry."""


class ApplyError(HardstepError):
    """An action failed while it was applied; what was done before it stays recorded."""


class CommandTimeout(HardstepError):
    """A command the host facade ran did not finish in time (it was killed)."""


class SshError(HardstepError):
    """The SSH connection to the managed host could not be made or was refused."""


class HostKeyUnknown(SshError):
    """The host's key is not in known_hosts: hardstep never trusts a key silently."""


class HostKeyChanged(SshError):
    """The host's key differs from the one in known_hosts (possible attack)."""


def describe_error(exc: BaseException) -> str:
    """One line for any failure, secrets redacted; SDK errors carry their engine message."""
    if isinstance(exc, HardstepError):
        return redact(str(exc))
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {text[0] if text else 'no details'}")


def short_reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type when it has none), at most 160 characters."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]
