"""Where ``--host`` points: ``ssh://[user@]host[:port]``, ``[user@]host[:port]`` or an ssh-config alias.

Standard library only: the command line parses a target before anything heavy is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import HardstepError

# A DNS name, an IPv4 address or an ssh-config alias (letters, digits, ".", "-", "_").
_HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9._-]{0,252})")
# POSIX portable user names (useradd's rule, "$" for machine accounts aside).
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,31}")
_FORMS = "ssh://[user@]host[:port], [user@]host[:port] or a Host alias from ~/.ssh/config"


@dataclass(frozen=True)
class SshTarget:
    host: str  # the alias or name as typed; ~/.ssh/config may map it to another HostName
    user: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        """A file-name-safe name for this host's folder, e.g. ``admin@matrix.example.org_2222``."""
        name = f"{self.user}@{self.host}" if self.user else self.host
        return name + (f"_{self.port}" if self.port else "")

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{self.host}{port}"


def parse_target(text: str) -> SshTarget:
    """The target ``text`` names; HardstepError saying what is wrong and the accepted forms."""
    raw = text.strip()
    rest = raw[len("ssh://"):] if raw.lower().startswith("ssh://") else raw
    rest = rest.rstrip("/")
    if "://" in rest:
        raise HardstepError(f"host {text!r}: only ssh:// is supported; use {_FORMS}")
    user, sep, hostport = rest.rpartition("@")
    if sep and not _USER.fullmatch(user):
        raise HardstepError(f"host {text!r}: {user!r} is not a valid user name; use {_FORMS}")
    host, colon, port_text = hostport.partition(":")
    if not _HOST.fullmatch(host) or ".." in host:
        raise HardstepError(f"host {text!r}: {host or 'the host name'!r} is not a valid host name or alias; "
                            f"use {_FORMS}")
    port = None
    if colon:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise HardstepError(f"host {text!r}: the port must be a number from 1 to 65535; use {_FORMS}")
        port = int(port_text)
    return SshTarget(host, user if sep else None, port)
