"""What the acme tests share: the Alpine/acme.sh stand-in images, the real pebble, the real Traefik,
and an engine aimed at them."""

from __future__ import annotations

import pytest

from app.containers.commands import read_file, run_shell
from app.steps.acme.setup import SCRIPT_PATH
from tests.fixtures_core import make_engine

# An example name. The acme step's own checks never dial it; test_passthrough sends it only as
# SNI to 127.0.0.1, and the issuance tests let Docker's DNS resolve it to Traefik.
DOMAIN = "turn.example.com"
# A coTURN stand-in that records every SIGUSR2 (the renewal script's reload) in /tmp/reloads.
COTURN_STANDIN = ["sh", "-c", 'trap "echo reloaded >> /tmp/reloads" USR2; while true; do sleep 1; done']
# Traefik's static configuration in the tests with the real Traefik; the resolver is added by them.
TRAEFIK_TOML = """\
# Traefik static configuration (hardstep test: the real Traefik)
[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints.web]
  address = ":80"

[entryPoints.websecure]
  address = ":443"

[providers.docker]
  exposedByDefault = false
  # Only this test's containers: a concurrent test's acme container has the same HostSNI rule.
  constraints = "Label(`traefik.docker.network`, `{private}`)"
"""


@pytest.fixture(scope="session")
def acme_images(images, docker_client):
    from tests.infra.acme_standin import ensure_acme_images

    return ensure_acme_images(docker_client)


@pytest.fixture(scope="session")
def traefik_images(docker_client, images):
    from tests.infra.traefik_image import ensure_traefik_images

    return ensure_traefik_images(docker_client)


def acme_engine(tmp_path, unique, images, acme_images, image="standin", email="admin@example.org", **sections):
    """A real engine whose acme container, narrow proxy, network and coTURN have unique names."""
    acme = {"container": unique("acme"), "image": acme_images[image], "email": email,
            "proxy_container": unique("acme-dockerproxy"), "network": unique("acme-private"),
            **sections.pop("acme", {})}
    turn = {"domain": DOMAIN, "container": unique("coturn"), **sections.pop("turn", {})}
    return make_engine(tmp_path, unique, images, acme=acme, turn=turn, **sections)


def start_coturn(docker_client, images, engine):
    """The coTURN stand-in under ``[turn] container``: the renewal script signals it."""
    return docker_client.containers.run(images["busybox"], COTURN_STANDIN, name=engine.config.turn.container,
                                        detach=True)


def reloads(coturn) -> bytes:
    """What the coTURN stand-in recorded (it runs the trap after its current one-second sleep)."""
    import time

    time.sleep(1.5)
    return read_file(coturn, "/tmp/reloads") or b""


def run_traefik(docker_client, image: str, engine, tls_port: int, web_port: int, ca_file=None):
    """The real Traefik as the reference runs it (socket, traefik.toml bind-mounted), answering for the
    TURN domain on the private network (Docker DNS alias: pebble's validation dials it there);
    ``ca_file`` is the CA its own ACME resolver trusts (pebble's API CA)."""
    config = engine.config
    private, path = config.docker.private_network, config.traefik.config
    volumes = ["/var/run/docker.sock:/var/run/docker.sock", f"{engine.host.machine_path(path)}:/traefik.toml"]
    environment = {}
    if ca_file is not None:
        volumes.append(f"{ca_file}:/etc/pebble-ca.pem:ro")
        environment["LEGO_CA_CERTIFICATES"] = "/etc/pebble-ca.pem"
    return docker_client.containers.run(
        image, ["--configFile=/traefik.toml"], name=config.traefik.container, detach=True,
        networking_config={private: docker_client.api.create_endpoint_config(aliases=[DOMAIN])}, network=private,
        ports={"443/tcp": ("127.0.0.1", tls_port), "80/tcp": ("127.0.0.1", web_port)},
        environment=environment, restart_policy={"Name": "unless-stopped"}, volumes=volumes)


def renew(acme) -> tuple[int, str]:
    """Run the renewal script in the acme container, as its crontab does."""
    code, output = run_shell(acme, SCRIPT_PATH)
    return code, output


def write_certificate(engine, *names: str):
    """A certificate (default: for DOMAIN) and its key where ``[turn] cert`` and ``key`` are, as a
    host that got one before has them; from a throw-away trustme CA."""
    from pathlib import Path

    import trustme

    from tests.infra.certs import write_pair

    return write_pair(Path(engine.host.machine_path(engine.config.turn.certs_dir)), trustme.CA(), *(names or (DOMAIN,)))
