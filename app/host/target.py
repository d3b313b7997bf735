"""Which remote host ``--host`` names: ``ssh://[user@]host[:port]``, a bare ``[user@]host[:port]``
or an alias of ``~/.ssh/config``. Stdlib only: the command line parses it before anything loads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import HardstepError

# A leading '-' would reach ssh as an option; brackets hold an IPv6 address.
_HOST = r"(?P<host>[A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])"
_TARGET = re.compile(r"(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9._-]*)@)?" + _HOST + r"(?::(?P<port>[0-9]{1,5}))?")


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        """The name of this host's folder on this machine: the host and a port other than 22
        (the same machine reached as another user keeps its state)."""
        name = self.host.strip("[]").replace(":", "_").lower()
        return f"{name}_{self.port}" if self.port not in (None, 22) else name

    def __str__(self) -> str:
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return "ssh://" + (f"{self.user}@" if self.user else "") + host + (f":{self.port}" if self.port else "")


def parse_target(text: str) -> SshTarget:
    raw = text.strip()
    body = raw[len("ssh://"):] if raw.lower().startswith("ssh://") else raw
    match = _TARGET.fullmatch(body.rstrip("/"))
    port = int(match["port"]) if match and match["port"] else None
    if not match or (port is not None and not 0 < port < 65536):
        raise HardstepError(f"--host {raw!r} is not a host: write ssh://[user@]host[:port], "
                            "[user@]host[:port] or a Host alias of ~/.ssh/config")
    return SshTarget(match["host"].strip("[]"), match["user"], port)
