"""Opening the one SSH connection an ``SshHost`` uses, as OpenSSH's ``ssh`` would.

``~/.ssh/config`` (Host aliases, HostName, User, Port, IdentityFile, UserKnownHostsFile,
ProxyCommand, ProxyJump), the agent (``SSH_AUTH_SOCK``), the default keys, and known_hosts strictly: an
unknown or changed host key is refused with its fingerprint and how to trust it; no key is ever
added. paramiko is imported here, where it is used, never when ``app.host`` is imported.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import logging
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import HardstepError, HostKeyChanged, HostKeyUnknown, SshError, short_reason
from app.host.target import SshTarget, parse_target

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
    proxy_jump: tuple[SshTarget, ...] = ()  # the hops, in order, each found in the same ssh config
    ssh_config: Path | None = None

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
                    proxy_command=found.get("proxycommand"), proxy_jump=_jumps(found, target, path),
                    ssh_config=ssh_config)


def _jumps(found: dict[str, Any], target: SshTarget, path: Path) -> tuple[SshTarget, ...]:
    """ProxyJump's hops (``[user@]host[:port]`` or ``ssh://`` URIs, comma-separated; ``none``: none)."""
    value = (found.get("proxyjump") or "").strip()
    if not value or value.lower() == "none":
        return ()
    if found.get("proxycommand"):
        raise SshError(f"{path}: {target.host} has both ProxyCommand and ProxyJump; keep one of them")
    try:
        return tuple(parse_target(hop) for hop in value.split(","))
    except HardstepError as exc:
        raise SshError(f"{path}: ProxyJump {value!r} for {target.host}: {exc}") from None


def fingerprint(key: "paramiko.PKey") -> str:
    """As ``ssh-keygen -l`` prints it: ``SHA256:`` and the unpadded base64 of the key's digest."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


def open_client(target: SshTarget, where: Endpoint, timeout: float) -> "paramiko.SSHClient":
    """A connected, authenticated client; SshError (exit 2) with what to do when it cannot be.
    Through ProxyJump's hops when the config names them (the client closes them with itself)."""
    import paramiko

    # paramiko's transport thread logs a traceback for a failed handshake; the error raised here
    # says it in one line instead (nothing configured: Python would print it to stderr).
    quiet = logging.getLogger("paramiko")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    jumps = _open_jumps(paramiko, where, timeout)
    try:
        if jumps:
            sock = _tunnel(paramiko, jumps[-1], target, where, timeout)
        else:
            sock = paramiko.ProxyCommand(where.proxy_command) if where.proxy_command else None
        client = _connect(paramiko, target, where, timeout, sock)
    except BaseException:
        for hop in reversed(jumps):
            hop.close()
        raise
    client.jumps = jumps
    return client


def _open_jumps(paramiko: Any, where: Endpoint, timeout: float) -> list["paramiko.SSHClient"]:
    """A connection to each ProxyJump hop, each through the one before, as ``ssh -J`` makes them,
    with the same strict host keys (a hop's own ProxyJump or ProxyCommand is not followed)."""
    opened: list[paramiko.SSHClient] = []
    try:
        for hop in where.proxy_jump:
            hop_where = replace(endpoint(hop, where.ssh_config), proxy_command=None, proxy_jump=())
            sock = _tunnel(paramiko, opened[-1], hop, hop_where, timeout) if opened else None
            opened.append(_connect(paramiko, hop, hop_where, timeout, sock))
    except BaseException:
        for client in reversed(opened):
            client.close()
        raise
    return opened


def _tunnel(paramiko: Any, jump: "paramiko.SSHClient", target: SshTarget, where: Endpoint, timeout: float) -> Any:
    """A ``direct-tcpip`` channel from the jump host to the next host: the socket the next SSH
    connection runs over (the name is resolved by the jump host, as with ``ssh -J``)."""
    try:
        return jump.get_transport().open_channel("direct-tcpip", (where.hostname, where.port), ("127.0.0.1", 0),
                                                 timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise SshError(f"{target}: the jump host would not connect to {where.hostname} port {where.port} "
                       f"({short_reason(exc)}); check that name as the jump host sees it, and AllowTcpForwarding "
                       "in the jump host's sshd_config") from None


def _connect(paramiko: Any, target: SshTarget, where: Endpoint, timeout: float, sock: Any) -> "paramiko.SSHClient":
    client = _client_type(paramiko)()
    for file in where.known_hosts:
        if os.path.isfile(file):
            client.load_system_host_keys(file)  # the "system" set: paramiko never writes it back
    client.set_missing_host_key_policy(_refuse_unknown(paramiko, target, where))
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
    tcp = client.get_transport().sock
    if isinstance(tcp, socket.socket):  # a TCP socket, not a ProxyCommand's pipe or a jump's channel
        # Many small request/answer exchanges (SFTP, the Docker API): Nagle's wait for the ACK of a
        # request's first packet would stall each of them (OpenSSH's ssh sets it as well).
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


_CLIENT_TYPE: Any = None


def _client_type(paramiko: Any) -> Any:
    """paramiko's client that also closes the jump hosts' connections it runs through."""
    global _CLIENT_TYPE
    if _CLIENT_TYPE is None:
        class Client(paramiko.SSHClient):
            jumps: list = []  # set per client by open_client

            def close(self) -> None:
                super().close()
                for hop in reversed(self.jumps):
                    hop.close()

        _CLIENT_TYPE = Client
    return _CLIENT_TYPE


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

