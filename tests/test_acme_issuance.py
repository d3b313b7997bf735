"""The first certificate from a real CA when the acme step is applied: ``[acme] server`` names the
real pebble (``hardstep-test/pebble:1``); its validation authority dials the TURN domain, which
Docker's DNS resolves to the real Traefik (newest and oldest, no resolver of its own): TLS-ALPN-01
through its passthrough route on 3.7.15, HTTP-01 through its web entrypoint on 3.0.4 (it takes
every acme-tls/1 handshake itself). The acme.sh stand-in (driving Debian's lego, trusting pebble's
API CA) answers in the acme container; the certificate lands in the shared folder and coTURN (a
stand-in that records SIGUSR2) is told to reload."""

from __future__ import annotations

import pytest

from app.net.tls import describe, key_matches, pem_certificates
from tests.fixtures_acme import (DOMAIN, TRAEFIK_TOML, acme_engine, reloads, run_traefik, start_coturn)
from tests.fixtures_core import failing
from tests.fixtures_registry import free_port
from tests.infra.pebble import start_pebble
from tests.infra.traefik_image import TRAEFIK_VERSIONS

pytestmark = pytest.mark.docker

SERVER = "https://pebble:14000/dir"  # the name pebble's API certificate is for (a Docker DNS alias)


@pytest.mark.parametrize("version", TRAEFIK_VERSIONS)
def test_applying_the_step_gets_the_first_certificate_from_pebble(version, tmp_path, unique, images, acme_images,
                                                                  traefik_images, docker_client):
    tls_port, web_port = free_port(), free_port()
    engine = acme_engine(tmp_path, unique, images, acme_images, acme={"server": SERVER},
                         traefik={"https_address": f"127.0.0.1:{tls_port}"})
    config = engine.config
    private, cert, key = config.docker.private_network, config.turn.cert, config.turn.key
    coturn = start_coturn(docker_client, images, engine)
    assert engine.apply("private-network").ok and engine.apply("socket-proxy").ok
    _, directory, _ = start_pebble(docker_client, unique("pebble"), private)
    assert directory == SERVER
    engine.host.write_text(config.traefik.config, TRAEFIK_TOML.format(private=private))
    run_traefik(docker_client, traefik_images[version], engine, tls_port, web_port)

    name = f"certificate for {DOMAIN} in {config.turn.certs_dir}"
    before = {r.check: r for r in engine.check("acme")}[name]
    assert before.ok is False and before.detail == f"{cert} does not exist: the acme step gets the first one"

    plan = engine.plan("acme")
    assert type(plan.actions[-1]).__name__ == "IssueFirstCertificate"
    assert plan.actions[-1].summary == "Get the first certificate now (runs the renewal script once)"
    assert f"+SERVER={SERVER}\n" in next(a for a in plan.actions if type(a).__name__ == "WriteRenewalScript").diff()
    assert f"Certificates come from {SERVER} ([acme] server)." in plan.notes
    events = []
    outcome = engine.apply("acme", plan, report=events.append)
    assert outcome.ok, outcome.error
    logged = [event.message for event in events]
    assert f"acme.sh stand-in: --issue {DOMAIN} from {SERVER}" in logged
    assert any(line.endswith(f"installed {cert} and {key} (mode 0600)") for line in logged)

    chain = pem_certificates(engine.host.read_bytes(cert))
    leaf = describe(chain[0])
    assert leaf.covers(DOMAIN) and "Pebble" in leaf.issuer
    assert key_matches(chain[0], engine.host.read_bytes(key))
    assert engine.host.stat(key).mode == 0o600
    assert reloads(coturn) == b"reloaded\n"
    results = {r.check: r for r in outcome.checks}
    assert failing(outcome.checks) == []
    assert results[name].ok is True and "Pebble" in results[name].detail
    assert results[f"TLS passthrough for {DOMAIN}"].ok is True

    assert engine.plan("acme").empty  # a covering certificate: no second issuance
    assert engine.rollback("acme").ok
    assert not engine.host.exists(cert) and not engine.host.exists(key)
