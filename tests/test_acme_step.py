"""The acme step against the real engine: the acme container with its Traefik labels, its narrow
socket proxy (the HAProxy stand-in for tecnativa/docker-socket-proxy), acme.sh (a stand-in, see
tests/infra/acme_standin.py), the renewal script run for real, and every check seen failing first."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from app.config.settings import Config
from app.errors import ConfigError, HardstepError
from app.engine.model import Status
from app.steps.acme.step import traefik_labels
from tests.fixtures_acme import COTURN_STANDIN, DOMAIN, acme_engine
from tests.fixtures_core import failing

REFERENCE_PROXY = {"CONTAINERS": "1", "POST": "1", "ALLOW_RESTART": "1"}  # as the reference writes it


@pytest.fixture
def engine(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images)
    assert engine.apply("private-network").ok
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
    # With a certificate already there, the plan goes ahead and says what is missing.
    engine.host.write_text(engine.config.turn.cert, "issued before\n")
    plan = engine.plan("acme")
    assert plan.actions and any("[acme] email is empty" in note for note in plan.notes)


def test_a_missing_private_network_is_a_clear_plan_error(tmp_path, unique, images, acme_images, docker_client):
    engine = acme_engine(tmp_path, unique, images, acme_images)
    with pytest.raises(HardstepError, match="apply the private-network step first"):
        engine.plan("acme")


# --- apply, checks, idempotence, rollback ------------------------------------------------------
def test_unhardened_host_fails_the_checks(engine):
    results = by_name(engine.check("acme"))
    assert failing(results.values()) == ["acme container running", "narrow proxy running",
                                         "Traefik's proxy refuses POST"]
    assert results[f"TLS passthrough for {DOMAIN}"].ok is None  # nothing to serve from


def test_apply_builds_acme_and_its_narrow_proxy(engine, docker_client):
    assert engine.apply("socket-proxy").ok
    plan = engine.plan("acme")
    assert [type(a).__name__ for a in plan.actions] == [
        "CreateNetwork", "RunContainer", "RunContainer", "InstallAcmeSh", "WriteRenewalScript",
        "InstallCrontab"]
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


def test_the_renewal_script_issues_installs_and_reloads_coturn(engine, docker_client, images):
    coturn = docker_client.containers.run(images["busybox"], COTURN_STANDIN, name=engine.config.turn.container,
                                          detach=True)
    assert engine.apply("socket-proxy").ok
    assert engine.apply("acme").ok
    acme = docker_client.containers.get(engine.config.acme.container)
    code, output = acme.exec_run(["/usr/local/bin/hardstep-renew-cert"])
    assert code == 0, output.decode()
    assert "asked coTURN" in output.decode()
    assert engine.host.stat(engine.config.turn.key).mode == 0o600
    assert b"BEGIN CERTIFICATE" in engine.host.read_bytes(engine.config.turn.cert)
    time.sleep(1.5)  # the trap runs after the stand-in's current sleep
    assert coturn.exec_run(["cat", "/tmp/reloads"]).output == b"reloaded\n"

    code, output = acme.exec_run(["/usr/local/bin/hardstep-renew-cert"])  # not due: nothing else happens
    assert code == 0 and "not due" in output.decode()
    time.sleep(1.5)
    assert coturn.exec_run(["cat", "/tmp/reloads"]).output == b"reloaded\n"


def test_drift_inside_the_container_is_seen_and_replanned(engine, docker_client):
    assert engine.apply("socket-proxy").ok
    assert engine.apply("acme").ok
    acme = docker_client.containers.get(engine.config.acme.container)
    acme.exec_run(["sh", "-c", "echo '# edited' >> /usr/local/bin/hardstep-renew-cert; crontab -r"])
    assert {"renewal script up to date", "renewal runs daily"} <= set(failing(engine.check("acme")))
    assert [type(a).__name__ for a in engine.plan("acme").actions] == ["WriteRenewalScript", "InstallCrontab"]
    assert engine.apply("acme").ok and engine.plan("acme").empty


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


def test_rollback_removes_what_the_step_created(engine, docker_client):
    outcome = engine.apply("acme")  # Traefik's proxy is missing: all applied, that check fails
    assert len(outcome.done) == 6 and failing(outcome.checks) == ["Traefik's proxy refuses POST"]
    config = engine.config
    assert engine.rollback("acme").ok
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
