"""The whole acme road with a real ACME server: pebble validates TLS-ALPN-01 by connecting to the
TURN domain on 443, which Docker's DNS resolves to the Traefik stand-in; its SNI passthrough
hands the connection to the acme container, where the renewal script's acme.sh (the stand-in
driving Debian's lego) answers it. The certificate lands in the shared folder and coTURN (a
stand-in that records SIGUSR2) is told to reload."""

from __future__ import annotations

import time

import pytest

from app.net.tls import describe, key_matches, pem_certificates
from tests.fixtures_acme import COTURN_STANDIN, DOMAIN, acme_engine, renew_from
from tests.fixtures_core import failing
from tests.fixtures_registry import free_port
from tests.infra.pebble import start_pebble
from tests.infra.sni_proxy import start_traefik_passthrough_standin

pytestmark = pytest.mark.docker


def test_a_certificate_from_pebble_through_the_passthrough_route(tmp_path, unique, images, acme_images,
                                                                  docker_client):
    port = free_port()
    engine = acme_engine(tmp_path, unique, images, acme_images, traefik={"https_address": f"127.0.0.1:{port}"})
    config = engine.config
    coturn = docker_client.containers.run(images["busybox"], COTURN_STANDIN, name=config.turn.container, detach=True)
    for step in ("private-network", "socket-proxy", "acme"):
        engine.apply(step)
    start_traefik_passthrough_standin(docker_client, images["tools"], unique("traefik"), config.docker.private_network,
                                      port, DOMAIN, config.acme.container, aliases=(DOMAIN,))
    _, directory, ca_pem = start_pebble(docker_client, images["tools"], unique("pebble"),
                                        config.docker.private_network)
    acme = docker_client.containers.get(config.acme.container)
    code, output = renew_from(acme, directory, ca_pem)
    assert code == 0, output[-1500:]

    chain = pem_certificates(engine.host.read_bytes(config.turn.cert))
    leaf = describe(chain[0])
    assert leaf.covers(DOMAIN) and "Pebble" in leaf.issuer
    assert key_matches(chain[0], engine.host.read_bytes(config.turn.key))
    assert engine.host.stat(config.turn.key).mode == 0o600
    time.sleep(1.5)
    assert coturn.exec_run(["cat", "/tmp/reloads"]).output == b"reloaded\n"

    results = engine.check("acme")
    assert failing(results) == []
    assert {r.check: r for r in results}[f"TLS passthrough for {DOMAIN}"].ok is True
