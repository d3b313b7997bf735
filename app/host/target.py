"""Where ``--host`` points: ``ssh://[user@]host[:port]``, ``[user@]host[:port]`` or an ssh-config alias.
An IPv6 address goes in brackets, as in URLs and OpenSSH's known_hosts: ``ssh://root@[2001:db8::7]:2222``.

Standard library only: the command line parses a target before anything heavy is imported.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from app.errors import HardstepError

# A DNS name, an IPv4 address or an ssh-config alias (letters, digits, ".", "-", "_").
_HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9._-]{0,252})")
# POSIX portable user names (useradd's rule, "$" for machine accounts aside).
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,31}")
_FORMS = "ssh://[user@]host[:port], [user@]host[:port] or a Host alias from ~/.ssh/config"


def is_ipv6(text: str) -> bool:
    """A plain IPv6 address (no zone: ``%eth0`` names an interface of the machine typing it)."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return "%" not in text


@dataclass(frozen=True)
class SshTarget:
    host: str  # the alias, name or address as typed (IPv6 without brackets); ~/.ssh/config may map it
    user: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        """A file-name-safe name for this host's folder, e.g. ``admin@matrix.example.org_2222``,
        ``ipv6-2001-db8--7_22``."""
        # An IPv6 address: no colon in a folder name, and no name starting with "-" (``::1``).
        host = "ipv6-" + self.host.replace(":", "-") if ":" in self.host else self.host
        name = f"{self.user}@{host}" if self.user else host
        return name + (f"_{self.port}" if self.port else "")

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"


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
    if hostport.startswith("["):
        host, bracket, after = hostport[1:].partition("]")
        if not bracket or not is_ipv6(host) or after[:1] not in ("", ":"):
            raise HardstepError(f"host {text!r}: {hostport!r} is not an IPv6 address in brackets "
                                f"(such as [2001:db8::7]:22); use {_FORMS}")
        colon, port_text = after[:1], after[1:]
    elif is_ipv6(hostport):
        raise HardstepError(f"host {text!r}: put an IPv6 address in brackets, [{hostport}], "
                            "so that a port can follow it; use " + _FORMS)
    else:
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
