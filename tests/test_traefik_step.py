"""The traefik step against the real engine, with a stand-in for the Traefik container.

No Traefik binary can be installed here, so ``TRAEFIK_STANDIN`` is busybox's httpd dressed as
Traefik: the Docker socket mounted, traefik.toml mounted as a file, labels, a published port,
environment, a restart policy, the web network. It serves ``/_matrix/client/versions`` like a
route to Synapse would, and exits at start when its traefik.toml names a proxy called
``failing-...`` (a Traefik that refuses its new configuration).
"""

from __future__ import annotations

import pytest

from app.assets import asset_path
from app.containers.commands import read_text
from app.engine.model import Status
from tests.fixtures_core import failing, make_engine
from tests.fixtures_registry import free_port

pytestmark = pytest.mark.docker

TRAEFIK_STANDIN = [
    "sh", "-c",
    "if grep -q failing- /etc/traefik/traefik.toml; then echo refusing config >&2; exit 3; fi; "
    "mkdir -p /www/_matrix/client && echo '{\"versions\":[]}' > /www/_matrix/client/versions && "
    "exec httpd -f -p 80 -h /www",
]
KEPT = ("Image", "Cmd", "Env", "Labels", "Entrypoint", "WorkingDir", "User", "ExposedPorts")


@pytest.fixture
def lab(tmp_path, unique, images, docker_client):
    """A host with the proxy in place and an unhardened Traefik stand-in; returns (engine, port)."""
    port = free_port()
    engine = make_engine(tmp_path, unique, images, synapse={"url": f"http://127.0.0.1:{port}"})
    return start(engine, docker_client, images, port)


def start(engine, docker_client, images, port):
    engine.host.write_text(engine.config.traefik.config, asset_path("lab", "traefik.toml").read_text())
    config = engine.host.machine_path(engine.config.traefik.config)
    docker_client.networks.create(engine.config.traefik.web_network)
    assert engine.apply("private-network").ok
    assert engine.apply("socket-proxy").ok
    docker_client.containers.run(
        images["busybox"], TRAEFIK_STANDIN, name=engine.config.traefik.container, detach=True,
        network=engine.config.traefik.web_network, restart_policy={"Name": "unless-stopped"},
        volumes=["/var/run/docker.sock:/var/run/docker.sock", f"{config}:/etc/traefik/traefik.toml:ro"],
        ports={"80/tcp": ("127.0.0.1", port)}, environment={"TRAEFIK_LOG_LEVEL": "INFO"},
        labels={"traefik.enable": "true", "traefik.http.routers.api.rule": "Host(`traefik.example.com`)"},
    )
    return engine


def test_unhardened_traefik_fails_its_checks(lab):
    assert failing(lab.check("traefik")) == ["config points at the proxy", "no docker.sock mount",
                                             f"on the {lab.config.docker.private_network} network"]


def test_apply_rewires_traefik_keeping_everything_else(lab, docker_client):
    name = lab.config.traefik.container
    before = docker_client.containers.get(name).attrs
    original_text = lab.host.read_text(lab.config.traefik.config)

    outcome = lab.apply("traefik")
    assert outcome.ok, (outcome.error, failing(outcome.checks), [c.detail for c in outcome.checks if not c.ok])
    checks = {c.check: c for c in outcome.checks}
    assert checks["route through Traefik answers"].ok is True
    assert checks["proxy answers GET /containers/json"].ok is True

    after = docker_client.containers.get(name).attrs
    assert after["Id"] != before["Id"]
    for key in KEPT:
        assert after["Config"].get(key) == before["Config"].get(key), key
    for key in ("PortBindings", "RestartPolicy", "Privileged", "CapAdd", "LogConfig"):
        assert after["HostConfig"][key] == before["HostConfig"][key], key
    assert [m["Destination"] for m in after["Mounts"]] == ["/etc/traefik/traefik.toml"]
    assert set(after["NetworkSettings"]["Networks"]) == {lab.config.traefik.web_network,
                                                         lab.config.docker.private_network}

    text = lab.host.read_text(lab.config.traefik.config)
    changed = [line for line in text.splitlines() if line not in original_text.splitlines()]
    assert changed == ["  exposedByDefault = false", f'  network = "{lab.config.traefik.web_network}"',
                       f'  endpoint = "tcp://{lab.config.docker.socket_proxy_container}:2375"']
    assert lab.plan("traefik").empty


def test_rollback_puts_traefik_and_its_file_back(lab, docker_client):
    name = lab.config.traefik.container
    original_text = lab.host.read_text(lab.config.traefik.config)
    assert lab.apply("traefik").ok
    assert lab.rollback("traefik").ok
    restored = docker_client.containers.get(name)
    assert restored.status == "running"
    assert "/var/run/docker.sock" in [m["Destination"] for m in restored.attrs["Mounts"]]
    assert lab.host.read_text(lab.config.traefik.config) == original_text
    # The restored container reads the restored file, not the hardened one it last saw.
    seen = read_text(restored, "/etc/traefik/traefik.toml")
    assert seen == original_text
    assert lab.status("traefik") == Status.PENDING


def test_a_traefik_that_does_not_start_is_put_back(tmp_path, unique, images, docker_client):
    port = free_port()
    engine = make_engine(tmp_path, unique, images, synapse={"url": f"http://127.0.0.1:{port}"},
                         docker={"socket_proxy_container": unique("failing-proxy")})
    start(engine, docker_client, images, port)
    before = docker_client.containers.get(engine.config.traefik.container).id
    original = engine.host.read_text(engine.config.traefik.config)
    outcome = engine.apply("traefik")
    assert not outcome.ok
    assert "did not stay up" in outcome.error and "refusing config" in outcome.error
    assert "the changes made before it were undone" in outcome.error
    current = docker_client.containers.get(engine.config.traefik.container)
    assert current.id == before and current.status == "running"
    # The file edit was undone too, so the old Traefik runs on its old configuration.
    assert engine.host.read_text(engine.config.traefik.config) == original
    assert engine.state.undo_records("traefik") == []


def test_route_check_fails_on_404_and_skips_when_unreachable(lab, docker_client, images, tmp_path, unique):
    name = lab.config.traefik.container
    docker_client.containers.get(name).exec_run(["rm", "/www/_matrix/client/versions"])
    route = {c.check: c for c in lab.check("traefik")}["route through Traefik answers"]
    assert route.ok is False and "-> 404" in route.detail
    closed = free_port()
    lab.config = lab.config.with_value("synapse", "url", f"http://127.0.0.1:{closed}")
    route = {c.check: c for c in lab.check("traefik")}["route through Traefik answers"]
    assert route.ok is None and "not reachable" in route.detail


def test_plan_refuses_without_the_proxy(tmp_path, unique, images, docker_client):
    from app.errors import HardstepError

    engine = make_engine(tmp_path, unique, images)
    with pytest.raises(HardstepError, match="apply private-network and socket-proxy first"):
        engine.plan("traefik")
