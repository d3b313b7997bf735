"""The passthrough check's edge cases against real routes on the engine: HAProxy stand-ins for
Traefik's TLS entrypoint (tests/infra/sni_proxy.py, which says why), one passing TLS through by
SNI, one terminating it, both published on loopback and named in ``[traefik] https_address``.
Real Traefik's side of the check: tests/test_acme_traefik.py and tests/test_lab_walk.py.

Twice in CI (a clean clone, 4 workers on 2 cores) the check found no acme container ("is not
running", then "there is no acme container"), although the fixture had just applied the step. The
fixture took any failed apply with actions done for the expected one, a failed passthrough check;
but an action that fails makes the engine undo the run, the container included. It now insists
that every action ran (``outcome.error`` None) and prints the error otherwise; and, as in
tests/test_acme_step.py, a failing test runs once more, with a ``RERUN ... after:`` line in the log
naming why, so the cause shows instead of failing CI blind."""

from __future__ import annotations

import time

import pytest

from app.containers.commands import ask_shell
from app.steps.acme.passthrough import check_passthrough
from app.net.tls import fingerprint
from tests.fixtures_acme import DOMAIN, acme_engine, write_certificate
from tests.fixtures_registry import free_port
from tests.infra.sni_proxy import start_traefik_passthrough_standin, start_traefik_terminating_standin

pytestmark = pytest.mark.flaky(reruns=1)


@pytest.fixture
def lab(tmp_path, unique, images, acme_images, docker_client):
    """An applied acme step; returns (engine, port of the Traefik stand-in on loopback)."""
    port = free_port()
    engine = acme_engine(tmp_path, unique, images, acme_images, traefik={"https_address": f"127.0.0.1:{port}"})
    assert engine.apply("private-network").ok
    write_certificate(engine)  # a certificate from before: no first issuance through the missing route
    outcome = engine.apply("acme")
    assert outcome.error is None, f"an action of the acme step failed (and was undone): {outcome.error}"
    failed = [c.check for c in outcome.checks if c.ok is False]
    assert f"TLS passthrough for {DOMAIN}" in failed, failed  # no route yet: passthrough fails
    yield engine, port
    engine.host.close()


def standin(lab, unique, docker_client, images, kind):
    engine, port = lab
    start = start_traefik_passthrough_standin if kind == "passthrough" else start_traefik_terminating_standin
    return start(docker_client, images["tools"], unique(f"traefik-{kind}"), engine.config.docker.private_network,
                 port, DOMAIN, engine.config.acme.container)


def servers_left(docker_client, engine) -> str:
    acme = docker_client.containers.get(engine.config.acme.container)
    return ask_shell(acme, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; ls -d /tmp/hardstep-*").output


def test_a_passthrough_route_shows_the_throwaway_certificate(lab, unique, docker_client, images):
    engine, _ = lab
    standin(lab, unique, docker_client, images, "passthrough")
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is True, verdict.detail
    assert verdict.evidence["seen"] == verdict.evidence["expected"]
    assert "passes through untouched" in verdict.detail
    left = servers_left(docker_client, engine)
    assert "s_server" not in left and "hardstep-passthrough" not in left
    # The same through the engine, as `hardstep check acme` runs it.
    checks = {c.check: c for c in engine.check("acme")}
    assert checks[f"TLS passthrough for {DOMAIN}"].ok is True


def test_a_terminating_route_fails_and_says_whose_certificate_it_saw(lab, unique, docker_client, images):
    engine, _ = lab
    _, own = standin(lab, unique, docker_client, images, "terminating")
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is False
    assert verdict.evidence["seen"] == fingerprint(own) != verdict.evidence["expected"]
    assert f"Traefik terminates TLS for {DOMAIN}" in verdict.detail
    assert "CN=TRAEFIK DEFAULT CERT" in verdict.detail  # the subject of the certificate it saw
    assert "s_server" not in servers_left(docker_client, engine)


def test_no_route_at_all_fails(lab):
    engine, port = lab
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is False and f"127.0.0.1:{port}" in verdict.detail


def test_a_stopped_acme_container_is_skipped(lab, docker_client):
    engine, _ = lab
    acme = docker_client.containers.get(engine.config.acme.container)
    acme.stop(timeout=1)
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is None and f"the acme container {acme.name} is exited, last exit code" in verdict.detail
    acme.remove()
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is None and f"there is no acme container {acme.name}" in verdict.detail


def test_port_443_busy_in_acme_is_skipped_with_the_reason(lab, unique, docker_client, images):
    engine, _ = lab
    acme = docker_client.containers.get(engine.config.acme.container)
    # Something else (a renewal's challenge listener) holds 443.
    acme.exec_run(["sh", "-c", "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=busy "
                   "-keyout /tmp/busy.key -out /tmp/busy.crt 2>/dev/null && "
                   "sleep 60 | openssl s_server -accept 443 -cert /tmp/busy.crt -key /tmp/busy.key"], detach=True)
    for _ in range(50):
        if "s_server" in servers_left(docker_client, engine):
            break
        time.sleep(0.2)
    time.sleep(0.5)  # from started to listening
    verdict = check_passthrough(engine.host, engine.config)
    assert verdict.ok is None and "port 443 is busy" in verdict.detail
