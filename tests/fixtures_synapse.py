"""A real, unhardened Synapse for the synapse step's tests.

- ``synapse_image`` (session): ``tests.infra.synapse_image.ensure_synapse_image``; built once,
  then reused by tag.
- ``synapse_template`` (module): a config folder made by Synapse's own ``--generate-config``
  (SQLite, signing key, log config) for ``SERVER_NAME``, then opened up the way a careless
  host would be: public room directory readable without a login, open registration, guests
  allowed. Listener on 0.0.0.0:8008, ``trusted_key_servers: []`` (no outside network).
- ``synapse`` (function): that folder copied into the test's ``--root`` tree at
  ``/opt/matrix/synapse/`` and bind-mounted as the container's ``/data`` (a folder, not the file:
  a file bind mount keeps the old inode after an atomic rename), port 8008 published on
  127.0.0.1 at a free port, a container named ``unique("synapse")``, and an engine whose
  ``[synapse]`` settings point at it with every plan option ticked. Ready when ``/health`` answers.

Use them by importing: ``from tests.fixtures_synapse import synapse, synapse_image, synapse_template``.
"""

from __future__ import annotations

import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.engine.runner import Engine
from tests.fixtures_core import make_engine

SERVER_NAME = "hs.test"
CONFIG = "/opt/matrix/synapse/homeserver.yaml"
TURN_SECRET = "TURN#s3cret&*shared=0123456789"
# Opened up at the end, above the generated file's closing "# vim:ft=yaml" (it has no final newline).
OPEN_SETTINGS = f"""\
allow_public_rooms_without_auth: true
allow_public_rooms_over_federation: true
enable_registration: true
enable_registration_without_verification: true
allow_guest_access: true
turn_shared_secret: "{TURN_SECRET}"
turn_allow_guests: true
"""


@dataclass
class RunningSynapse:
    engine: Engine
    container: object  # docker.models.containers.Container
    url: str
    config_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "homeserver.yaml"


@pytest.fixture(scope="session")
def synapse_image(docker_client, images) -> str:
    from tests.infra.synapse_image import ensure_synapse_image

    return ensure_synapse_image(docker_client)


def open_up(generated: str) -> str:
    """The generated config with the listener on every interface, no key servers, and the
    directory, registration and guests open."""
    text = generated.replace("    - ::1\n    - 127.0.0.1\n", "    - 0.0.0.0\n")
    text = text.replace('trusted_key_servers:\n  - server_name: "matrix.org"\n', "trusted_key_servers: []\n")
    assert "0.0.0.0" in text and "trusted_key_servers: []" in text, "the generated config changed shape"
    head, sep, tail = text.rpartition("\n\n# vim:ft=yaml")
    assert sep, "the generated config no longer ends with its vim modeline"
    return head + "\n" + OPEN_SETTINGS.rstrip("\n") + sep + tail


@pytest.fixture(scope="module")
def synapse_template(synapse_image, docker_client, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synapse-template")
    docker_client.containers.run(
        synapse_image, ["python", "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
                        "--config-path", "/data/homeserver.yaml", "--data-directory", "/data",
                        "--generate-config", "--report-stats=no"],
        volumes={str(folder): {"bind": "/data", "mode": "rw"}}, remove=True)
    config = folder / "homeserver.yaml"
    config.write_bytes(open_up(config.read_bytes().decode("utf-8")).encode("utf-8"))
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(url: str, container, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        container.reload()
        if container.status == "exited":
            break
        time.sleep(0.5)
    logs = container.logs(tail=30).decode("utf-8", "replace")
    raise AssertionError(f"Synapse did not answer at {url}/health (status {container.status}):\n{logs}")


@pytest.fixture
def synapse(tmp_path, unique, images, synapse_image, synapse_template, docker_client):
    config_dir = (tmp_path / "root" / CONFIG.lstrip("/")).parent
    shutil.copytree(synapse_template, config_dir)
    port = free_port()
    container = docker_client.containers.run(
        synapse_image, name=unique("synapse"), detach=True,
        volumes={str(config_dir): {"bind": "/data", "mode": "rw"}},
        ports={"8008/tcp": ("127.0.0.1", port)})
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, container)
    engine = make_engine(tmp_path, unique, images, synapse={
        "container": container.name, "config": CONFIG, "server_name": SERVER_NAME, "url": url,
        "restart_timeout": 90, "disable_registration": True, "disable_guest_access": True,
        "disable_turn_guests": True})
    yield RunningSynapse(engine, container, url, config_dir)
    engine.host.close()
