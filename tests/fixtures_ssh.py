"""A real OpenSSH server as the remote host for the tests of ``SshHost``.

- ``sshd_image`` (session): ``tests.infra.sshd_image.ensure_sshd_image`` (Debian's openssh-server
  and the docker CLI on the tools image), built once, then reused by tag.
- ``ssh_server`` (function): a container ``unique("sshd")`` from it with a host key and a user key
  made for this test (ssh-keygen, Debian's openssh-client), root login by key only, sshd on a port
  published on 127.0.0.1 only, CAP_SYS_ADMIN as root has on a real host, the engine's socket at /var/run/docker.sock, ``pid_mode="host"``
  (the remote's /proc shows the engine's processes, as on a real host), and the test's folder
  ``tmp_path`` mounted at the same path inside: files the remote edits are where the engine's
  bind mounts find them. ``ssh_server.config`` is an ssh config (Host alias, HostName 127.0.0.1,
  Port, User root, IdentityFile, UserKnownHostsFile holding the server's key) in ``tmp_path/ssh``.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.host.ssh import SshHost
from app.host.target import parse_target

ALIAS = "hardstep-remote"
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
    folder: Path  # tmp_path: the same path on this machine and on the remote
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
        lines = [f"Host {ALIAS}", "  HostName 127.0.0.1", f"  Port {self.port}", "  User root",
                 f"  UserKnownHostsFile {self.known_hosts}"]
        self.config.write_text("\n".join(lines + ([f"  IdentityFile {self.user_key}"] if identity else [])) + "\n")
        return self.config

    def host(self, **options) -> SshHost:
        return SshHost(parse_target(ALIAS), ssh_config=self.config, **options)

    def logins(self) -> int:
        """How many SSH logins the server accepted so far."""
        return self.container.logs().decode("utf-8", "replace").count("Accepted publickey for root")


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


@pytest.fixture(scope="session")
def sshd_image(docker_client, images) -> str:
    from tests.infra.sshd_image import ensure_sshd_image

    return ensure_sshd_image(docker_client)


@pytest.fixture
def ssh_server(tmp_path, unique, sshd_image, docker_client):
    keys = tmp_path / "ssh"
    keys.mkdir()
    host_key, user_key = keygen(keys / "host_key", "hardstep-test-host"), keygen(keys / "id_ed25519", "hardstep-test")
    container = docker_client.containers.create(
        # CAP_SYS_ADMIN: root on a real host has it, and without it trusted.* attributes are invisible.
        sshd_image, name=unique("sshd"), pid_mode="host", cap_add=["SYS_ADMIN"], ports={"22/tcp": ("127.0.0.1", None)},
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                 str(tmp_path): {"bind": str(tmp_path), "mode": "rw"}})
    container.put_archive("/", _tar({
        "etc/ssh/ssh_host_ed25519_key": (host_key.read_bytes(), 0o600),
        "etc/ssh/ssh_host_ed25519_key.pub": (host_key.with_suffix(".pub").read_bytes(), 0o644),
        "etc/ssh/sshd_config.d/hardstep-test.conf": (SSHD_CONFIG.encode(), 0o644),
        "root/.ssh/authorized_keys": (user_key.with_suffix(".pub").read_bytes(), 0o600)}))
    container.start()
    container.reload()
    port = int(container.attrs["NetworkSettings"]["Ports"]["22/tcp"][0]["HostPort"])
    server = SshServer(container, port, tmp_path, keys, host_key.with_suffix(".pub"))
    kind, key = server.host_key.read_text().split()[:2]
    server.known_hosts.write_text(f"[127.0.0.1]:{port} {kind} {key}\n")
    server.write_config()
    deadline = time.monotonic() + 20
    while "Server listening on" not in container.logs().decode("utf-8", "replace"):
        container.reload()
        if container.status == "exited" or time.monotonic() > deadline:
            raise AssertionError("sshd did not start:\n" + container.logs().decode("utf-8", "replace"))
        time.sleep(0.1)
    yield server
