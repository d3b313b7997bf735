"""Opening the one SSH connection an ``SshHost`` uses, as OpenSSH's ``ssh`` would.

``~/.ssh/config`` (Host aliases, HostName, User, Port, IdentityFile, UserKnownHostsFile,
ProxyCommand), the agent (``SSH_AUTH_SOCK``), the default keys, and known_hosts strictly: an
unknown or changed host key is refused with its fingerprint and how to trust it; no key is ever
added. paramiko is imported here, where it is used, never when ``app.host`` is imported.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import HostKeyChanged, HostKeyUnknown, SshError, short_reason
from app.host.target import SshTarget

if TYPE_CHECKING:
    import paramiko

_DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


@dataclass(frozen=True)
class Endpoint:
    """Where ``~/.ssh/config`` says a target is, and how to log in there."""

    hostname: str
    port: int
    user: str
    key_files: tuple[str, ...]
    known_hosts: tuple[str, ...]
    proxy_command: str | None

    @property
    def known_name(self) -> str:
        """The host's name in known_hosts (``[host]:port`` off port 22, as OpenSSH writes it)."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"


def endpoint(target: SshTarget, ssh_config: Path | None = None) -> Endpoint:
    import paramiko

    path = Path(ssh_config) if ssh_config else Path.home() / ".ssh" / "config"
    try:
        conf = paramiko.SSHConfig.from_path(str(path)) if path.is_file() else paramiko.SSHConfig()
        found = conf.lookup(target.host)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise SshError(f"cannot read the ssh config {path} ({short_reason(exc)}); fix it") from None
    known = found.get("userknownhostsfile", _DEFAULT_KNOWN_HOSTS).split()
    try:
        port = target.port or int(found.get("port", 22))
    except ValueError:
        raise SshError(f"{path}: Port {found.get('port')!r} for {target.host} is not a number; fix it") from None
    return Endpoint(hostname=found.get("hostname", target.host), port=port,
                    user=target.user or found.get("user") or getpass.getuser(),
                    key_files=tuple(os.path.expanduser(f) for f in found.get("identityfile", [])),
                    known_hosts=tuple(os.path.expanduser(f) for f in known),
                    proxy_command=found.get("proxycommand"))


def fingerprint(key: "paramiko.PKey") -> str:
    """As ``ssh-keygen -l`` prints it: ``SHA256:`` and the unpadded base64 of the key's digest."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


def open_client(target: SshTarget, where: Endpoint, timeout: float) -> "paramiko.SSHClient":
    """A connected, authenticated client; SshError (exit 2) with what to do when it cannot be."""
    import paramiko

    client = paramiko.SSHClient()
    for file in where.known_hosts:
        if os.path.isfile(file):
            client.load_system_host_keys(file)  # the "system" set: paramiko never writes it back
    client.set_missing_host_key_policy(_refuse_unknown(paramiko, target, where))
    sock = paramiko.ProxyCommand(where.proxy_command) if where.proxy_command else None
    try:
        client.connect(where.hostname, where.port, where.user, key_filename=list(where.key_files) or None,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, sock=sock)
    except BaseException as exc:
        client.close()
        if isinstance(exc, SshError):
            raise
        if isinstance(exc, paramiko.BadHostKeyException):
            raise _changed(target, where, exc.expected_key, exc.key) from None
        if isinstance(exc, paramiko.AuthenticationException) or "No authentication methods" in str(exc):
            raise SshError(f"{target}: the host refused the login as {where.user} ({short_reason(exc)}); add your key "
                           "to the agent (ssh-add) or name it with IdentityFile in ~/.ssh/config, and check "
                           f"it is in {where.user}'s authorized_keys there") from None
        if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
            raise SshError(f"{target}: cannot connect to {where.hostname} port {where.port} ({short_reason(exc)}); "
                           f"check the name, the port and that sshd runs there (try: {_ssh_command(where)})") from None
        raise
    return client


def _refuse_unknown(paramiko: Any, target: SshTarget, where: Endpoint) -> "paramiko.MissingHostKeyPolicy":
    class RefuseUnknown(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: "paramiko.PKey") -> None:
            keyscan = f"ssh-keyscan -p {where.port} {where.hostname} >> {where.known_hosts[0]}"
            raise HostKeyUnknown(
                f"{target}: the host key of {where.known_name} is not in known_hosts ({fingerprint(key)}); "
                "hardstep never trusts a key silently: check that fingerprint on the host "
                "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then trust it by logging in once with "
                f"`{_ssh_command(where)}` or with `{keyscan}`")

    return RefuseUnknown()


def _changed(target: SshTarget, where: Endpoint, old: "paramiko.PKey", new: "paramiko.PKey") -> HostKeyChanged:
    remove = f"ssh-keygen -R '{where.known_name}'" + (
        f" -f {where.known_hosts[0]}" if where.known_hosts[0] != os.path.expanduser(_DEFAULT_KNOWN_HOSTS) else "")
    return HostKeyChanged(
        f"{target}: the host key of {where.known_name} CHANGED, possibly an attack (someone between you and the "
        f"host): known_hosts has {fingerprint(old)}, the host offers {fingerprint(new)}; if the host was "
        f"reinstalled, check the new fingerprint on it, then `{remove}` and log in once with `{_ssh_command(where)}`")


def _ssh_command(where: Endpoint) -> str:
    return f"ssh -p {where.port} {where.user}@{where.hostname}"

