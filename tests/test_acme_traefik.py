"""The acme step against a REAL Traefik (3.0.4 and 3.7.15, tests/infra/traefik_image.py) that gets
its own certificates with TLS-ALPN-01 (a ``tlsChallenge`` resolver pointed at pebble, trusted through
``LEGO_CA_CERTIFICATES``), with the acme container's TCP passthrough router on its :443.

First the host as today's hardstep leaves it (no resolver: the plain passthrough plan, passing); then
the admin adds the resolver: Traefik now takes every ``acme-tls/1`` handshake itself and the
passthrough check fails. The step fixes it by version: 3.7.15 gets ``allowACMEByPass`` (and is
recreated), 3.0.4 never does (it would not start) and renews with HTTP-01 on the web entrypoint.
Then pebble issues the certificate through that Traefik, each way."""

from __future__ import annotations

import time

import pytest

from app.net.tls import describe, pem_certificates
from app.steps.acme.passthrough import check_passthrough
from tests.fixtures_acme import (DOMAIN, TRAEFIK_TOML, acme_engine, reloads, renew, run_traefik, start_coturn,
                                 write_certificate)
from tests.fixtures_core import failing
from tests.fixtures_registry import free_port
from tests.infra.pebble import start_pebble
from tests.infra.traefik_image import TRAEFIK_VERSIONS

pytestmark = pytest.mark.docker

RESOLVER = """
[certificatesResolvers.pebble.acme]
  email = "admin@example.org"
  storage = "/tmp/acme.json"
  caServer = "{directory}"
  [certificatesResolvers.pebble.acme.tlsChallenge]
"""


def wait_verdict(engine, ok, timeout: float = 40):
    """Traefik learns the acme container's labels from Docker events (and shows its default
    certificate until then): poll the check until plain TLS passes through and it says ``ok``."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = check_passthrough(engine.host, engine.config)
        through = verdict.evidence.get("seen") == verdict.evidence["expected"]
        if (through and verdict.ok is ok) or time.monotonic() > deadline:
            return verdict
        time.sleep(0.5)


@pytest.mark.parametrize("version", TRAEFIK_VERSIONS)
def test_traefik_with_its_own_tls_challenge(version, tmp_path, unique, images, acme_images, traefik_images,
                                            docker_client):
    tls_port, web_port = free_port(), free_port()
    engine = acme_engine(tmp_path, unique, images, acme_images, traefik={"https_address": f"127.0.0.1:{tls_port}"},
                         acme={"server": "https://pebble:14000/dir"})
    config = engine.config
    private, path = config.docker.private_network, config.traefik.config
    coturn = start_coturn(docker_client, images, engine)
    assert engine.apply("private-network").ok and engine.apply("socket-proxy").ok
    _, directory, ca_pem = start_pebble(docker_client, unique("pebble"), private)
    (tmp_path / "pebble-ca.pem").write_bytes(ca_pem)
    # The acme container as today's hardstep sets it up (TLS-ALPN-01 through the passthrough) on a
    # host with a certificate from before, made before this Traefik ran; then Traefik starts with a
    # tlsChallenge resolver of its own.
    write_certificate(engine)
    base = TRAEFIK_TOML.format(private=private)
    engine.host.write_text(path, base)
    plan = engine.plan("acme")
    assert not [a for a in plan.actions if config.traefik.container in a.summary or "EditFile" == type(a).__name__]
    assert "IssueFirstCertificate" not in [type(a).__name__ for a in plan.actions]
    engine.apply("acme", plan)
    with_resolver = base + RESOLVER.format(directory=directory)
    engine.host.write_text(path, with_resolver)
    traefik = run_traefik(docker_client, traefik_images[version], engine, tls_port, web_port,
                          ca_file=tmp_path / "pebble-ca.pem")
    verdict = wait_verdict(engine, False)
    assert verdict.ok is False, verdict.detail
    assert verdict.evidence.get("seen") == verdict.evidence["expected"], verdict.detail
    assert "Traefik ended the handshake itself (tlsv1 unrecognized name)" in verdict.detail
    assert "tlsChallenge certificate resolver (pebble)" in verdict.detail and "fails" in verdict.detail
    assert f"TLS passthrough for {DOMAIN}" in failing(engine.check("acme"))

    plan = engine.plan("acme")
    names = [type(a).__name__ for a in plan.actions]
    edits = [a for a in plan.actions if type(a).__name__ == "EditFile"]
    if version == "3.0.4":
        assert "allowACMEByPass = true" not in "".join(a.diff() for a in plan.actions)
        assert edits == [] and "WriteRenewalScript" in names
        script = next(a for a in plan.actions if type(a).__name__ == "WriteRenewalScript").after
        assert "acme.sh --issue --standalone --httpport 80 -d" in script
        assert any("renews with HTTP-01" in note for note in plan.notes)
    else:
        assert len(edits) == 1 and edits[0].path == path
        assert "+  allowACMEByPass = true" in edits[0].diff()
        assert names[-2:] == ["EditFile", "ReplaceContainer"] and plan.actions[-1].spec.name == traefik.name
        assert "WriteRenewalScript" not in names  # TLS-ALPN-01 stays
    outcome = engine.apply("acme", plan)
    assert outcome.done, outcome.error
    verdict = wait_verdict(engine, True)
    assert verdict.ok is True, verdict.detail
    after = engine.host.read_text(path)
    if version == "3.0.4":
        assert after == with_resolver and "renewals use HTTP-01" in verdict.detail
        acme = docker_client.containers.get(config.acme.container)
        labels = acme.attrs["Config"]["Labels"]
        router = config.acme.container.replace(".", "-") + "-http01"
        assert labels[f"traefik.http.routers.{router}.rule"] == (
            f"Host(`{DOMAIN}`) && PathPrefix(`/.well-known/acme-challenge/`)")
        assert labels[f"traefik.http.routers.{router}.entrypoints"] == "web"
    else:
        assert after == with_resolver.replace('address = ":443"\n', 'address = ":443"\n  allowACMEByPass = true\n')
        assert "with and without ALPN acme-tls/1" in verdict.detail
        assert docker_client.containers.get(config.traefik.container).status == "running"
    assert failing(engine.check("acme")) == []
    assert engine.plan("acme").empty

    # A real certificate from pebble through this Traefik: TLS-ALPN-01 through the passthrough
    # (3.7.15, allowACMEByPass) or HTTP-01 through the web entrypoint's router (3.0.4).
    code, output = renew(docker_client.containers.get(config.acme.container))
    assert code == 0, output[-2000:]
    leaf = describe(pem_certificates(engine.host.read_bytes(config.turn.cert))[0])
    assert leaf.covers(DOMAIN) and "Pebble" in leaf.issuer
    assert reloads(coturn) == b"reloaded\n"

    # Rollback puts traefik.toml back (the resolver stays: it is the admin's) and Traefik runs.
    assert engine.rollback("acme").ok
    assert engine.host.read_text(path) == with_resolver
    assert docker_client.containers.get(config.traefik.container).status == "running"
