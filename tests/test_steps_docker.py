"""private-network and socket-proxy against the real Docker engine, with the HAProxy stand-in
for tecnativa/docker-socket-proxy. Every check is seen failing on an unhardened host first."""

from __future__ import annotations

import pytest

from app.containers.spec import ContainerSpec
from app.engine.model import Status
from tests.fixtures_core import failing, make_engine

pytestmark = pytest.mark.docker


@pytest.fixture
def engine(tmp_path, unique, images, docker_client):
    engine = make_engine(tmp_path, unique, images)
    yield engine
    engine.host.close()


ARCHIVE = "GET /containers/{id}/archive?path=/etc/passwd -> 403"
EXPORT = "GET /containers/{id}/export -> 403"


def audit_count(engine) -> int:
    return len(engine.state.audit_entries())


def test_unhardened_host_fails_every_check(engine):
    results = engine.check_many(["private-network", "socket-proxy"])
    assert failing(results) == ["network exists", "proxy running"]
    assert engine.status("private-network") == Status.PENDING


def test_apply_both_steps_then_checks_pass(engine, docker_client):
    first = engine.apply("private-network")
    assert first.ok, first
    second = engine.apply("socket-proxy")
    assert second.ok, (second.error, [(c.check, c.detail) for c in second.checks])
    by_name = {c.check: c for c in second.checks}
    assert by_name["GET /containers/json -> 200"].evidence["status"] == 200
    assert by_name["GET /networks -> 403"].evidence["status"] == 403
    # Today's upstream rules: no container's files through the proxy, whatever CONTAINERS says.
    assert by_name[ARCHIVE].evidence["status"] == 403 and by_name[EXPORT].evidence["status"] == 403
    assert by_name["no other switch on"].ok is True
    assert engine.status("socket-proxy") == Status.VERIFIED

    proxy = docker_client.containers.get(engine.config.docker.socket_proxy_container)
    host_config = proxy.attrs["HostConfig"]
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    assert not host_config["Privileged"]
    assert list(proxy.attrs["NetworkSettings"]["Networks"]) == [engine.config.docker.private_network]
    assert "CONTAINERS=1" in proxy.attrs["Config"]["Env"]


def test_applying_twice_changes_nothing(engine, docker_client):
    engine.apply("private-network")
    engine.apply("socket-proxy")
    proxy_id = docker_client.containers.get(engine.config.docker.socket_proxy_container).id
    entries = audit_count(engine)
    assert engine.plan("private-network").empty
    assert engine.plan("socket-proxy").empty
    again = engine.apply("socket-proxy")
    assert again.ok and again.done == []
    assert docker_client.containers.get(engine.config.docker.socket_proxy_container).id == proxy_id
    assert audit_count(engine) == entries


def test_a_proxy_that_allows_networks_fails_and_is_replaced(engine, docker_client, images):
    engine.apply("private-network")
    docker = engine.config.docker
    # Someone "fixed" the proxy by hand, opening /networks: the 403 check must catch it.
    weak = ContainerSpec(docker.socket_proxy_container, images["socket_proxy"], docker.private_network,
                         environment={"CONTAINERS": "1", "NETWORKS": "1"},
                         binds=["/var/run/docker.sock:/var/run/docker.sock"])
    docker_client.containers.run(detach=True, **weak.create_kwargs())
    results = {r.check: r for r in engine.check("socket-proxy")}
    assert results["GET /networks -> 403"].ok is False
    assert "answered 200" in results["GET /networks -> 403"].detail
    assert results["socket mounted read-only"].ok is False
    assert results["GET /containers/json -> 200"].ok is True

    plan = engine.plan("socket-proxy")
    assert [type(a).__name__ for a in plan.actions] == ["ReplaceContainer"]
    assert "+env NETWORKS: 0 (image default)" in plan.actions[0].diff()
    outcome = engine.apply("socket-proxy", plan)
    assert outcome.ok, [(c.check, c.detail) for c in outcome.checks]

    # Rollback puts the hand-made container back, exactly as it was.
    assert engine.rollback("socket-proxy").ok
    restored = docker_client.containers.get(docker.socket_proxy_container)
    assert "NETWORKS=1" in restored.attrs["Config"]["Env"]
    assert restored.status == "running"


def test_published_port_and_web_network_fail(engine, docker_client, images):
    engine.apply("private-network")
    docker = engine.config.docker
    web = docker_client.networks.create(engine.config.traefik.web_network)
    exposed = docker_client.containers.run(
        images["socket_proxy"], name=docker.socket_proxy_container, network=docker.private_network,
        environment={"CONTAINERS": "1"}, volumes=["/var/run/docker.sock:/var/run/docker.sock:ro"],
        ports={"2375/tcp": ("127.0.0.1", None)}, detach=True)
    web.connect(exposed)
    results = {r.check: r for r in engine.check("socket-proxy")}
    assert results["publishes no host port"].ok is False
    assert "127.0.0.1:" in results["publishes no host port"].detail
    assert results[f"not on the {web.name} network"].ok is False


def test_rollback_removes_what_was_created(engine, docker_client):
    engine.apply("private-network")
    engine.apply("socket-proxy")
    docker = engine.config.docker
    # The network cannot go while the proxy is attached: refused, nothing removed.
    blocked = engine.rollback("private-network")
    assert not blocked.ok and "attached" in blocked.error
    assert engine.rollback("socket-proxy").ok
    assert engine.rollback("private-network").ok
    assert not docker_client.containers.list(all=True, filters={"name": docker.socket_proxy_container},
                                             ignore_removed=True)
    assert not [n for n in docker_client.networks.list() if n.name == docker.private_network]
    assert engine.rollback_plan("private-network") == []
    assert engine.status("socket-proxy") == Status.PENDING


def test_rollback_leaves_a_network_hardstep_did_not_create(engine, docker_client):
    docker_client.networks.create(engine.config.docker.private_network, driver="bridge")
    assert engine.plan("private-network").empty
    assert engine.rollback_plan("private-network") == []


def test_drift_is_reported(engine, docker_client):
    engine.apply("private-network")
    engine.apply("socket-proxy")
    docker_client.containers.get(engine.config.docker.socket_proxy_container).stop(timeout=1)
    assert "proxy running" in failing(engine.check("socket-proxy"))
    assert engine.status("socket-proxy") == Status.DRIFTED
    assert [type(a).__name__ for a in engine.plan("socket-proxy").actions] == ["StartContainer"]


def test_a_missing_network_is_a_clear_plan_error(engine):
    from app.errors import HardstepError

    with pytest.raises(HardstepError, match="apply the private-network step first"):
        engine.plan("socket-proxy")


@pytest.mark.parametrize("switch", ["ALLOW_EXEC", "DELETE"])
def test_a_newer_switch_left_on_is_planned_away_and_fails_the_check(engine, docker_client, switch):
    """Switches of the newer upstream rules (ALLOW_EXEC opens docker exec in any container, DELETE
    removes them) left on by hand, on a proxy hardstep would otherwise accept as it is."""
    from app.shared.socket_proxy import proxy_spec

    engine.apply("private-network")
    docker = engine.config.docker
    loose = proxy_spec(engine.host, engine.config, docker.socket_proxy_container, docker.private_network,
                       {"CONTAINERS": "1", switch: "1"}, "socket-proxy")
    docker_client.containers.run(detach=True, **loose.create_kwargs())
    results = {r.check: r for r in engine.check("socket-proxy")}
    assert failing(results.values()) == ["no other switch on"]
    assert f"{switch}=1" in results["no other switch on"].detail

    plan = engine.plan("socket-proxy")
    assert [type(a).__name__ for a in plan.actions] == ["ReplaceContainer"]
    assert f"+env {switch}: 0 (image default)" in plan.actions[0].diff()
    outcome = engine.apply("socket-proxy", plan)
    assert outcome.ok, [(c.check, c.detail) for c in outcome.checks]
    assert f"{switch}=1" not in docker_client.containers.get(docker.socket_proxy_container).attrs["Config"]["Env"]


def test_an_older_proxy_image_hands_out_files_and_the_check_says_what_closes_it(tmp_path, unique, images):
    """Before upstream's fix of issue #182, CONTAINERS=1 alone opens /archive and /export."""
    from app.engine.runner import Engine

    old = make_engine(tmp_path, unique, images, docker={"socket_proxy_image": images["socket_proxy_old"]})
    try:
        assert old.apply("private-network").ok
        outcome = old.apply("socket-proxy")
        assert not outcome.ok
        by_name = {c.check: c for c in outcome.checks}
        assert failing(outcome.checks) == [ARCHIVE, EXPORT]
        for check, endpoint in ((ARCHIVE, "/archive"), (EXPORT, "/export")):
            detail = by_name[check].detail
            assert detail.startswith("answered 200") and endpoint in detail, detail
            assert "issue #182" in detail and "predates ALLOW_" in detail and "socket_proxy_image" in detail
        assert by_name["GET /networks -> 403"].ok and by_name["no other switch on"].ok

        # The image the check points to closes it: the plan swaps the image, the checks pass.
        fixed = Engine(old.host, old.config.with_value("docker", "socket_proxy_image", images["socket_proxy"]),
                       old.state)
        plan = fixed.plan("socket-proxy")
        assert [type(a).__name__ for a in plan.actions] == ["ReplaceContainer"]
        outcome = fixed.apply("socket-proxy", plan)
        assert outcome.ok, [(c.check, c.detail) for c in outcome.checks]
    finally:
        old.host.close()
