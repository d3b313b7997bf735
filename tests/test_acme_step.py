"""The acme step against the real engine: the acme container with its Traefik labels, its narrow
socket proxy (the HAProxy stand-in for tecnativa/docker-socket-proxy), acme.sh (a stand-in, see
tests/infra/acme_standin.py: without [acme] server it signs its own certificate), the renewal script
run for real (the first certificate by the step itself), and every check seen failing first.
A real CA (pebble through the real Traefik): tests/test_acme_issuance.py.

Twice (once in CI, once in a clean-clone run on this 2-core machine with 4 workers) an apply here
ended with one of its checks failing although the same checks pass in every other run. The likely
cause, found later: docker-py's ``exec_run`` loses a command's output that arrives with the HTTP
headers (docker/docker-py#3332; a sandbox test caught a ``cat`` printing nothing), and these checks
read the renewal script and the crontab that way; they now read through app/containers/commands.py,
which keeps those bytes and does not trust a lost answer. Each test is still run once
more when it fails (pytest-rerunfailures) and a rerun prints a ``RERUN ... after:`` line naming the
failing check, so a cause not yet found would show in the log instead of failing CI blind."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.flaky(reruns=1)

from app.config.settings import Config
from app.errors import ConfigError, HardstepError
from app.engine.model import Status
from app.steps.acme.setup import renewal_script
from app.steps.acme.step import traefik_labels
from tests.fixtures_acme import DOMAIN, acme_engine, reloads, renew, start_coturn, write_certificate
from tests.fixtures_core import applied, failing
from tests.fixtures_registry import free_port

REFERENCE_PROXY = {"CONTAINERS": "1", "POST": "1", "ALLOW_RESTART": "1"}  # as the reference writes it
CERT_CHECK = f"certificate for {DOMAIN} in /opt/certs"


@pytest.fixture
def engine(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images)
    assert engine.apply("private-network").ok
    start_coturn(docker_client, images, engine)  # the renewal script signals it
    yield engine
    engine.host.close()


def by_name(results):
    return {r.check: r for r in results}


# --- refusals before anything happens ----------------------------------------------------------
def test_a_domain_that_is_not_a_host_name_never_reaches_a_label():
    with pytest.raises(ConfigError, match=r"\[turn\] domain"):
        Config({"turn": {"domain": "turn.example.com`) || HostSNI(`*"}})
    config = SimpleNamespace(turn=SimpleNamespace(domain="x`) || HostSNI(`*"))
    with pytest.raises(HardstepError, match="not a host name"):
        traefik_labels(None, config)


def test_the_first_issuance_needs_the_account_email(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images, email="")
    assert engine.apply("private-network").ok
    with pytest.raises(HardstepError, match=r"set \[acme\] email in settings"):
        engine.plan("acme")
    engine.host.write_text(engine.config.turn.cert, "not a certificate\n")  # nothing to renew from either
    with pytest.raises(HardstepError, match=r"set \[acme\] email in settings"):
        engine.plan("acme")
    # With a certificate for the name already there, the plan goes ahead and says what is missing.
    write_certificate(engine)
    plan = engine.plan("acme")
    assert plan.actions and any("[acme] email is empty" in note for note in plan.notes)
    assert "IssueFirstCertificate" not in [type(a).__name__ for a in plan.actions]


@pytest.mark.parametrize("server", ["http://pebble:14000/dir", "lets-encrypt", "Letsencrypt", "pebble:14000/dir",
                                    "https://pebble:14000/dir$(id)", "https://pebble:14000/a b", "https://x/'dir'",
                                    "https://pebble:99999/dir", "https://-pebble/dir"])
def test_an_invalid_acme_server_is_refused(server):
    with pytest.raises(ConfigError, match=r"\[acme\] server = .* is not an ACME directory"):
        Config({"acme": {"server": server}})


def test_the_renewal_script_names_the_server_to_both_commands():
    def script(server):
        return renewal_script(Config({"turn": {"domain": DOMAIN}, "acme": {"server": server}}))

    assert "SERVER=''" in script("")  # acme.sh's own default CA: no --server argument
    for server, written in [("letsencrypt", "SERVER=letsencrypt"), ("https://pebble:14000/dir",
                            "SERVER=https://pebble:14000/dir"), ("https://ca.example.net/dir?a=1&b=2",
                            "SERVER='https://ca.example.net/dir?a=1&b=2'")]:
        text = script(server)
        assert written + "\n" in text
        assert '[ -n "$SERVER" ] && set -- --server "$SERVER"' in text
        assert 'acme.sh --register-account -m "$EMAIL" "$@"' in text
        assert 'acme.sh --issue --alpn -d "$DOMAIN" "$@"' in text


def test_a_missing_private_network_is_a_clear_plan_error(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images)
    with pytest.raises(HardstepError, match="apply the private-network step first"):
        engine.plan("acme")


# --- apply, checks, idempotence, rollback ------------------------------------------------------
def test_unhardened_host_fails_the_checks(engine):
    results = by_name(engine.check("acme"))
    assert failing(results.values()) == ["acme container running", "narrow proxy running",
                                         "Traefik's proxy refuses POST", CERT_CHECK]
    assert results[f"TLS passthrough for {DOMAIN}"].ok is None  # nothing to serve from
    assert results[CERT_CHECK].detail == "/opt/certs/fullchain.pem does not exist: the acme step gets the first one"


def test_apply_builds_acme_and_its_narrow_proxy(engine, docker_client):
    assert engine.apply("socket-proxy").ok
    plan = engine.plan("acme")
    assert [type(a).__name__ for a in plan.actions] == [
        "CreateNetwork", "RunContainer", "RunContainer", "InstallAcmeSh", "WriteRenewalScript",
        "InstallCrontab", "IssueFirstCertificate"]
    assert plan.actions[-1].summary == "Get the first certificate now (runs the renewal script once)"
    assert plan.actions[-1].command() == f"docker exec {engine.config.acme.container} /usr/local/bin/hardstep-renew-cert"
    assert any("[acme] server is empty: acme.sh asks its default CA" in note for note in plan.notes)
    outcome = engine.apply("acme", plan)
    checks = by_name(outcome.checks)
    assert outcome.ok, [(c.check, c.detail) for c in outcome.checks if c.ok is False]
    assert engine.status("acme") == Status.VERIFIED
    assert checks[f"narrow proxy allows POST /containers/{engine.config.turn.container}/restart"].evidence["status"] == 500
    assert checks["narrow proxy refuses POST /containers/create"].evidence["status"] == 403
    assert checks["Traefik's proxy refuses POST /containers/create"].evidence["status"] == 403

    acme, config = docker_client.containers.get(engine.config.acme.container), engine.config
    labels = acme.attrs["Config"]["Labels"]
    router = config.acme.container.replace(".", "-")
    assert labels[f"traefik.tcp.routers.{router}.rule"] == f"HostSNI(`{DOMAIN}`)"
    assert labels[f"traefik.tcp.routers.{router}.tls.passthrough"] == "true"
    assert labels[f"traefik.tcp.services.{router}.loadbalancer.server.port"] == "443"
    assert labels["traefik.enable"] == "true"
    assert labels["traefik.docker.network"] == config.docker.private_network
    assert set(acme.attrs["NetworkSettings"]["Networks"]) == {config.docker.private_network, config.acme.network}
    assert f"{engine.host.machine_path(config.turn.certs_dir)}:{config.turn.certs_dir}" in acme.attrs["HostConfig"]["Binds"]

    proxy = docker_client.containers.get(config.acme.proxy_container)
    assert {"POST=1", "ALLOW_RESTARTS=1", "ALLOW_KILL=1", "CONTAINERS=0"} <= set(proxy.attrs["Config"]["Env"])
    assert list(proxy.attrs["NetworkSettings"]["Networks"]) == [config.acme.network]
    assert docker_client.networks.get(config.acme.network).attrs["Internal"] is True

    assert engine.plan("acme").empty
    again = engine.apply("acme")
    assert again.ok and again.done == []


def test_the_first_certificate_comes_with_the_apply_and_the_script_then_waits(engine, docker_client):
    assert engine.apply("socket-proxy").ok
    events = []
    outcome = engine.apply("acme", report=events.append)
    assert outcome.ok, outcome.error
    logged = [e.message for e in events]
    assert "acme.sh stand-in: --issue turn.example.com" in logged  # no " from ...": no --server argument
    assert any("asked coTURN" in line for line in logged)
    assert engine.host.stat(engine.config.turn.key).mode == 0o600
    assert b"BEGIN CERTIFICATE" in engine.host.read_bytes(engine.config.turn.cert)
    assert by_name(outcome.checks)[CERT_CHECK].ok is True
    coturn = docker_client.containers.get(engine.config.turn.container)
    assert reloads(coturn) == b"reloaded\n"

    code, output = renew(docker_client.containers.get(engine.config.acme.container))  # cron: not due
    assert code == 0 and "not due" in output
    assert reloads(coturn) == b"reloaded\n"


def test_a_certificate_for_another_name_is_replaced_and_comes_back(engine):
    assert engine.apply("socket-proxy").ok
    cert, key = engine.config.turn.cert, engine.config.turn.key
    write_certificate(engine, "other.example.org")
    before = engine.host.read_bytes(cert), engine.host.read_bytes(key)
    check = by_name(engine.check("acme"))[CERT_CHECK]
    assert check.ok is False and check.detail == f"{cert} is for other.example.org, not {DOMAIN}: the acme step gets one for it"
    assert type(engine.plan("acme").actions[-1]).__name__ == "IssueFirstCertificate"
    applied(engine, "acme")
    assert by_name(engine.check("acme"))[CERT_CHECK].ok is True
    assert engine.host.read_bytes(cert) != before[0]
    assert engine.rollback("acme").ok
    assert (engine.host.read_bytes(cert), engine.host.read_bytes(key)) == before


def test_a_failed_first_issuance_says_why_and_undoes(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images, acme={"server": "https://nowhere:14000/dir"})
    assert engine.apply("private-network").ok
    outcome = engine.apply("acme")
    assert not outcome.ok
    assert outcome.error.startswith(f"the renewal script in {engine.config.acme.container} failed (exit 1): ")
    assert f"issuing the certificate for {DOMAIN} failed (acme.sh exit 1)" in outcome.error
    assert "then apply the acme step again; the changes made before it were undone" in outcome.error
    assert not engine.host.exists(engine.config.turn.cert) and not engine.host.exists(engine.config.turn.key)
    assert not docker_client.containers.list(all=True, filters={"name": engine.config.acme.container},
                                             ignore_removed=True)


def test_drift_inside_the_container_is_seen_and_replanned(engine, docker_client):
    assert engine.apply("socket-proxy").ok
    applied(engine, "acme")
    acme = docker_client.containers.get(engine.config.acme.container)
    acme.exec_run(["sh", "-c", "echo '# edited' >> /usr/local/bin/hardstep-renew-cert; crontab -r"])
    assert {"renewal script up to date", "renewal runs daily"} <= set(failing(engine.check("acme")))
    assert [type(a).__name__ for a in engine.plan("acme").actions] == ["WriteRenewalScript", "InstallCrontab"]
    applied(engine, "acme")
    assert engine.plan("acme").empty


def test_the_reference_acme_container_fails_is_replaced_and_comes_back(engine, docker_client, acme_images):
    """The container as the reference makes it: labels without backticks on a router ``myacme``, the
    certificate folder at /opt, only the private network, no crond, no acme.sh."""
    config = engine.config
    reference_labels = {"traefik.enable": "true", "traefik.tcp.routers.myacme.entrypoints": "websecure",
                        "traefik.tcp.routers.myacme.rule": f"HostSNI({DOMAIN})",
                        "traefik.tcp.routers.myacme.service": "myacme", "traefik.tcp.routers.myacme.tls": "true",
                        "traefik.tcp.routers.myacme.tls.passthrough": "true",
                        "traefik.tcp.services.myacme.loadbalancer.server.port": "443"}
    docker_client.containers.run(acme_images["base"], ["sleep", "3600"], name=config.acme.container, detach=True,
                                 network=config.docker.private_network, labels=reference_labels,
                                 volumes=[f"{engine.host.machine_path(config.turn.certs_dir)}:/opt"],
                                 restart_policy={"Name": "unless-stopped"})
    results = by_name(engine.check("acme"))
    assert {"Traefik passthrough labels", "container settings", "acme.sh installed", "renewal script up to date",
            "renewal runs daily"} <= set(failing(results.values()))
    assert results["acme.sh installed"].detail.endswith("is missing in " + config.acme.container)
    assert "not crond" in results["renewal runs daily"].detail
    assert f"HostSNI(`{DOMAIN}`)" in results["Traefik passthrough labels"].detail

    plan = engine.plan("acme")
    assert "ReplaceContainer" in [type(a).__name__ for a in plan.actions]
    outcome = engine.apply("acme", plan)
    assert not {"Traefik passthrough labels", "container settings", "acme.sh installed", "renewal script up to date",
                "renewal runs daily"} & set(failing(outcome.checks))
    assert engine.rollback("acme").ok
    back = docker_client.containers.get(config.acme.container)
    labels = back.attrs["Config"]["Labels"]
    assert back.status == "running" and {k: v for k, v in labels.items() if k.startswith("traefik.")} == reference_labels


def test_files_the_failed_script_installed_are_removed(tmp_path, unique, images, acme_images, docker_client):
    """No coTURN to signal: the script installs the certificate, then fails; the step leaves no file."""
    engine = acme_engine(tmp_path, unique, images, acme_images)
    assert engine.apply("private-network").ok
    events = []
    outcome = engine.apply("acme", report=events.append)
    assert not outcome.ok and f"no container named {engine.config.turn.container}" in outcome.error
    assert any("installed /opt/certs/fullchain.pem and /opt/certs/privkey.pem" in e.message for e in events)
    assert not engine.host.exists(engine.config.turn.cert) and not engine.host.exists(engine.config.turn.key)


def test_no_route_to_the_acme_container_no_certificate_request(tmp_path, unique, images, acme_images, docker_client,
                                                               monkeypatch):
    """Nothing answers at [traefik] https_address: the step waits for the route, then stops before
    asking the CA (which would count a failed validation)."""
    from app.steps.acme import issuance

    monkeypatch.setattr(issuance, "ROUTE_WAIT", 3)
    engine = acme_engine(tmp_path, unique, images, acme_images, traefik={"https_address": f"127.0.0.1:{free_port()}"})
    assert engine.apply("private-network").ok
    events = []
    outcome = engine.apply("acme", report=events.append)
    assert not outcome.ok
    assert "Traefik does not pass turn.example.com through to" in outcome.error
    assert "the certificate was not requested (a CA counts failed validations). Fix the route" in outcome.error
    logged = [event.message for event in events]
    assert any(line.startswith("waiting up to 3 s for Traefik to pass turn.example.com through") for line in logged)
    assert not [line for line in logged if "acme.sh stand-in" in line]  # the script never ran
    assert not engine.host.exists(engine.config.turn.cert)


def test_rollback_removes_what_the_step_created(engine, docker_client):
    outcome = engine.apply("acme")  # Traefik's proxy is missing: all applied, that check fails
    assert len(outcome.done) == 7 and failing(outcome.checks) == ["Traefik's proxy refuses POST"]
    config = engine.config
    assert engine.host.exists(config.turn.cert) and engine.host.exists(config.turn.key)
    summaries = [action.summary for action in engine.rollback_plan("acme")]
    assert summaries[:2] == [f"Remove {config.turn.key}, which hardstep created",
                             f"Remove {config.turn.cert}, which hardstep created"]
    assert engine.rollback("acme").ok
    assert not engine.host.exists(config.turn.cert) and not engine.host.exists(config.turn.key)
    for name in (config.acme.container, config.acme.proxy_container):
        assert not docker_client.containers.list(all=True, filters={"name": name}, ignore_removed=True)
    assert not [n for n in docker_client.networks.list() if n.name == config.acme.network]
    assert engine.rollback_plan("acme") == []


def test_no_apk_and_no_acme_sh_fails_clearly_and_undoes(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images, image="base")
    assert engine.apply("private-network").ok
    outcome = engine.apply("acme")
    assert not outcome.ok
    assert "this image has no apk" in outcome.error and "the changes made before it were undone" in outcome.error
    assert not docker_client.containers.list(all=True, filters={"name": engine.config.acme.container},
                                             ignore_removed=True)


# --- the proxies' allow/deny matrix -------------------------------------------------------------
def narrow_proxy(engine, docker_client, images, environment):
    """A hand-made acme proxy with ``environment``, on the acme network (the step's checks judge it)."""
    config = engine.config
    docker_client.networks.create(config.acme.network, internal=True)
    docker_client.containers.run(images["socket_proxy"], name=config.acme.proxy_container, detach=True,
                                 network=config.acme.network, environment=environment,
                                 volumes=["/var/run/docker.sock:/var/run/docker.sock:ro"])


RESTART, KILL = "narrow proxy allows POST /containers/{coturn}/restart", "narrow proxy allows POST /containers/{coturn}/kill"


@pytest.mark.parametrize("environment, fails", [
    (REFERENCE_PROXY, [KILL, "narrow proxy refuses POST /containers/create"]),
    ({"POST": "0", "ALLOW_RESTARTS": "1", "ALLOW_KILL": "1"}, [RESTART, KILL]),
    ({"POST": "1", "ALLOW_RESTART": "1", "ALLOW_KILL": "1"}, [RESTART, KILL]),
    ({"POST": "1", "ALLOW_RESTARTS": "1", "ALLOW_KILL": "1", "NETWORKS": "1"}, ["narrow proxy refuses GET /networks"]),
    # The rules from before docker-socket-proxy #182: ALLOW_RESTARTS let kill through; today's deny it.
    ({"POST": "1", "ALLOW_RESTARTS": "1", "CONTAINERS": "0"}, [KILL]),
    ({"POST": "1", "ALLOW_RESTARTS": "1", "ALLOW_KILL": "1", "CONTAINERS": "0"}, []),
])
def test_narrow_proxy_matrix(engine, docker_client, images, environment, fails):
    narrow_proxy(engine, docker_client, images, environment)
    results = by_name(engine.check("acme"))
    matrix = [name for name in results if name.startswith("narrow proxy ") and name != "narrow proxy settings"]
    assert len(matrix) == 4
    coturn = engine.config.turn.container
    assert [n for n in matrix if results[n].ok is False] == [f.format(coturn=coturn) for f in fails]
    if fails:  # a hand-made proxy is never "as planned"; a wrong switch shows in the detail
        assert results["narrow proxy settings"].ok is False and "env " in results["narrow proxy settings"].detail


def test_traefiks_proxy_must_refuse_post(engine, docker_client, images):
    assert engine.apply("socket-proxy").ok  # the socket-proxy step's GET-only proxy
    results = by_name(engine.check("acme"))
    refused = [n for n in results if n.startswith("Traefik's proxy refuses POST")]
    assert len(refused) == 2 and all(results[n].ok for n in refused)

    # The reference's main proxy (POST=1 with CONTAINERS=1): restart and create get through.
    docker_client.containers.get(engine.config.docker.socket_proxy_container).remove(force=True)
    docker_client.containers.run(images["socket_proxy"], name=engine.config.docker.socket_proxy_container,
                                 detach=True, network=engine.config.docker.private_network,
                                 environment=REFERENCE_PROXY,
                                 volumes=["/var/run/docker.sock:/var/run/docker.sock:ro"])
    results = by_name(engine.check("acme"))
    assert all(results[n].ok is False for n in refused)
    assert "the proxy lets it through" in results["Traefik's proxy refuses POST /containers/create"].detail
