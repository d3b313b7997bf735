"""A real OpenSSH server as a remote host, started from ``hardstep-test/sshd`` (tests/infra/sshd_image.py),
for the tests of hardstep over SSH (tests/fixtures_ssh.py) and ``make bench``'s SSH vs local check.

``start_ssh_server(client, image, name, folder)``: a container with a host key and a user key made
for it (ssh-keygen, Debian's openssh-client), root login by key only, sshd on a port published on
127.0.0.1 only and one on ::1 (``port6``: hardstep reaching a host by its IPv6 address), CAP_SYS_ADMIN as root has on a real host, the engine's socket at
/var/run/docker.sock, ``pid_mode="host"`` (the remote's /proc shows the engine's processes, as on
a real host), and ``folder`` mounted at the same path inside: files the remote edits are where the
engine's bind mounts find them. ``SshServer.config`` is an ssh config (Host alias, HostName
127.0.0.1, Port, User root, IdentityFile, UserKnownHostsFile holding the server's key) in
``folder/ssh``; a ``Host ::1`` block gives the IPv6 address the same key and known_hosts. The same key logs in as the image's non-root users: ``host(user=RANCHER)``
(password-less sudo and the docker group, as on BurmillaOS) and ``user=ADMIN`` (sudo asks for a
password, not in the docker group, as on a typical VPS).
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.host.ssh import SshHost
from app.host.target import parse_target

ALIAS = "hardstep-remote"
RANCHER, ADMIN = "rancher", "admin"  # users of the image (tests/infra/sshd_image.py)
SSHD_CONFIG = """\
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
HostKey /etc/ssh/ssh_host_ed25519_key
"""


@dataclass
class SshServer:
    container: object  # docker.models.containers.Container
    port: int
    port6: int  # the same sshd on [::1]
    folder: Path  # the same path on this machine and on the remote
    dir: Path  # keys, known_hosts and the ssh config
    host_key: Path  # the server's public key

    @property
    def config(self) -> Path:
        return self.dir / "config"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def user_key(self) -> Path:
        return self.dir / "id_ed25519"

    def write_config(self, identity: bool = True) -> Path:
        identity_line = [f"  IdentityFile {self.user_key}"] if identity else []
        lines = [f"Host {ALIAS}", "  HostName 127.0.0.1", f"  Port {self.port}", "  User root",
                 f"  UserKnownHostsFile {self.known_hosts}", *identity_line,
                 "Host ::1", f"  UserKnownHostsFile {self.known_hosts}", *identity_line]
        self.config.write_text("\n".join(lines) + "\n")
        return self.config

    def host(self, user: str | None = None, **options) -> SshHost:
        """The host over SSH, logged in as ``user`` (None: the config's, root)."""
        return SshHost(parse_target(f"{user}@{ALIAS}" if user else ALIAS), ssh_config=self.config, **options)

    def logins(self, user: str = "root") -> int:
        """How many SSH logins as ``user`` the server accepted so far."""
        return self.container.logs().decode("utf-8", "replace").count(f"Accepted publickey for {user} ")


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True)
    return path


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def start_ssh_server(client, image: str, name: str, folder: Path) -> SshServer:
    """Start the server (see the module's docstring); the caller removes ``server.container``."""
    keys = folder / "ssh"
    keys.mkdir()
    host_key, user_key = keygen(keys / "host_key", "hardstep-test-host"), keygen(keys / "id_ed25519", "hardstep-test")
    container = client.containers.create(
        # CAP_SYS_ADMIN: root on a real host has it, and without it trusted.* attributes are invisible.
        image, name=name, pid_mode="host", cap_add=["SYS_ADMIN"], ports={"22/tcp": [("127.0.0.1", None), ("::1", None)]},
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                 str(folder): {"bind": str(folder), "mode": "rw"}})
    container.put_archive("/", _tar({
        "etc/ssh/ssh_host_ed25519_key": (host_key.read_bytes(), 0o600),
        "etc/ssh/ssh_host_ed25519_key.pub": (host_key.with_suffix(".pub").read_bytes(), 0o644),
        "etc/ssh/sshd_config.d/hardstep-test.conf": (SSHD_CONFIG.encode(), 0o644),
        "root/.ssh/authorized_keys": (user_key.with_suffix(".pub").read_bytes(), 0o600)}))
    container.start()
    # The test's key for the non-root users too, and rancher in the group of the engine's socket.
    gid = os.stat("/var/run/docker.sock").st_gid
    done = container.exec_run(["sh", "-ec", f"""
        for u in {RANCHER} {ADMIN}; do
            install -d -o $u -m 700 /home/$u/.ssh && install -o $u -m 600 /root/.ssh/authorized_keys /home/$u/.ssh/
        done
        getent group {gid} >/dev/null || groupadd -g {gid} docker-host
        usermod -aG "$(getent group {gid} | cut -d: -f1)" {RANCHER}"""])
    if done.exit_code != 0:
        raise RuntimeError(f"sshd test server: adding its users failed: {done.output!r}")
    container.reload()
    published = {p["HostIp"]: int(p["HostPort"]) for p in container.attrs["NetworkSettings"]["Ports"]["22/tcp"]}
    port, port6 = published["127.0.0.1"], published["::1"]
    server = SshServer(container, port, port6, folder, keys, host_key.with_suffix(".pub"))
    kind, key = server.host_key.read_text().split()[:2]
    server.known_hosts.write_text(f"[127.0.0.1]:{port} {kind} {key}\n[::1]:{port6} {kind} {key}\n")
    server.write_config()
    deadline = time.monotonic() + 20
    while "Server listening on" not in container.logs().decode("utf-8", "replace"):
        container.reload()
        if container.status == "exited" or time.monotonic() > deadline:
            raise RuntimeError("sshd did not start:\n" + container.logs().decode("utf-8", "replace"))
        time.sleep(0.1)
    return server
