"""A REAL coTURN (Debian's coturn 4.6.1 in ``hardstep-test/tools``) for the coturn-tls tests.

``coturn`` (function fixture): the lab's unhardened ``turnserver.conf`` at
``<tmp>/root/opt/coturn/turnserver.conf`` and an empty certificate folder ``<tmp>/root/opt/certs``,
both bind-mounted at the same paths into a container named ``unique("coturn")`` that runs
``turnserver -c /opt/coturn/turnserver.conf``; port 5349 published on 127.0.0.1 at one free port
for TCP and UDP. A trustme CA is written to ``<tmp>/root/etc/turn-ca.pem``. ``values`` holds the
``[turn]`` settings aimed at it (domain ``turn.hs.test``, ``tls_address`` the published port).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

from app.assets import read_asset
from tests.infra.certs import write_ca

DOMAIN = "turn.hs.test"
CONF = "/opt/coturn/turnserver.conf"
CERTS = "/opt/certs"
CA_FILE = "/etc/turn-ca.pem"


@dataclass
class RunningCoturn:
    container: object  # docker.models.containers.Container
    root: Path
    port: int
    ca: trustme.CA
    values: dict = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.root / CONF.lstrip("/")

    @property
    def certs(self) -> Path:
        return self.root / CERTS.lstrip("/")

    def restart(self) -> None:
        self.container.restart(timeout=5)
        wait_until_up(self.container)


def free_tcp_udp_port() -> int:
    """A port free on 127.0.0.1 for both TCP and UDP."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both TCP and UDP")


def wait_until_up(container, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if b"turn server id=" in container.logs(tail=200) or container.status != "running":
            break
        time.sleep(0.3)
    assert container.status == "running", container.logs(tail=20).decode("utf-8", "replace")
    time.sleep(0.5)  # the listeners open right after the server threads


@pytest.fixture
def coturn(tmp_path, unique, images, docker_client):
    root = tmp_path / "root"
    (root / CONF.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (root / CONF.lstrip("/")).write_text(read_asset("lab", "turnserver.conf"))
    (root / CERTS.lstrip("/")).mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    write_ca(root / CA_FILE.lstrip("/"), ca)
    port = free_tcp_udp_port()
    container = docker_client.containers.run(
        images["tools"], ["turnserver", "-c", CONF], name=unique("coturn"), detach=True,
        volumes={str(root / "opt/coturn"): {"bind": "/opt/coturn", "mode": "rw"},
                 str(root / CERTS.lstrip("/")): {"bind": CERTS, "mode": "ro"}},
        ports={"5349/tcp": ("127.0.0.1", port), "5349/udp": ("127.0.0.1", port)})
    wait_until_up(container)
    values = {"domain": DOMAIN, "container": container.name, "config": CONF, "certs_dir": CERTS,
              "tls_address": f"127.0.0.1:{port}", "ca_file": CA_FILE}
    return RunningCoturn(container, root, port, ca, values)
