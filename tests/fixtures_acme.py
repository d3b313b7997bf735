"""What the acme tests share: the Alpine/acme.sh stand-in images and an engine aimed at them."""

from __future__ import annotations

import pytest

from tests.fixtures_core import make_engine

# An example name. The acme step's own checks never dial it; test_passthrough sends it only as
# SNI to 127.0.0.1, and test_acme_issuance lets Docker's DNS resolve it to the Traefik stand-in.
DOMAIN = "turn.example.com"
# A coTURN stand-in that records every SIGUSR2 (the renewal script's reload) in /tmp/reloads.
COTURN_STANDIN = ["sh", "-c", 'trap "echo reloaded >> /tmp/reloads" USR2; while true; do sleep 1; done']


@pytest.fixture(scope="session")
def acme_images(images, docker_client):
    from tests.infra.acme_standin import ensure_acme_images

    return ensure_acme_images(docker_client)


def acme_engine(tmp_path, unique, images, acme_images, image="standin", email="admin@example.org", **sections):
    """A real engine whose acme container, narrow proxy, network and coTURN have unique names."""
    acme = {"container": unique("acme"), "image": acme_images[image], "email": email,
            "proxy_container": unique("acme-dockerproxy"), "network": unique("acme-private")}
    turn = {"domain": DOMAIN, "container": unique("coturn"), **sections.pop("turn", {})}
    return make_engine(tmp_path, unique, images, acme=acme, turn=turn, **sections)


def renew_from(acme, directory: str, ca_pem: bytes) -> tuple[int, str]:
    """Point the acme.sh stand-in in ``acme`` at a pebble CA, then run the renewal script there."""
    from app.steps.acme.setup import put_file

    acme.exec_run(["mkdir", "-p", "/etc/acme-standin"])
    put_file(acme, "/etc/acme-standin/server", directory, 0o644)
    put_file(acme, "/etc/acme-standin/ca.pem", ca_pem.decode(), 0o644)
    code, output = acme.exec_run(["/usr/local/bin/hardstep-renew-cert"])
    return code, output.decode()
