"""A run killed right after a Docker change, before its undo record was saved, still rolls back.

The kill is simulated in-process on the real engine: ``finish_action`` (the state write that
follows every action) raises a BaseException, as if the process died at that instant, and a
fresh Engine on the same state directory does the rollback. The kill-with-SIGKILL tests for
files are in tests/test_resume.py.
"""

from __future__ import annotations

import pytest

from app.engine.runner import Engine
from app.host import LocalHost
from app.engine.state import StateStore
from tests.fixtures_core import make_engine

pytestmark = pytest.mark.docker


class Killed(BaseException):
    """The process "dies": nothing after this point runs, like SIGKILL."""


def kill_after(engine: Engine, monkeypatch, summary_start: str) -> None:
    """Die right after the action whose summary starts with ``summary_start`` made its change."""
    original = engine.state.finish_action

    def finish(step, records):
        flight = engine.state.step(step).get("in_flight") or {}
        if flight.get("summary", "").startswith(summary_start):
            raise Killed()
        original(step, records)

    monkeypatch.setattr(engine.state, "finish_action", finish)


def restarted(engine: Engine, tmp_path) -> Engine:
    """hardstep started again after the kill: new objects on the same state directory."""
    engine.host.close()
    return Engine(LocalHost(tmp_path / "root"), engine.config, StateStore(tmp_path / "state"))


def names(docker_client, kind: str) -> set[str]:
    collection = docker_client.containers.list(all=True, ignore_removed=True) if kind == "containers" \
        else docker_client.networks.list()
    return {item.name for item in collection}


@pytest.fixture
def engine(tmp_path, unique, images):
    engine = make_engine(tmp_path, unique, images)
    yield engine
    engine.host.close()


def test_network_created_then_killed_is_removed_by_rollback(engine, tmp_path, monkeypatch, docker_client):
    network = engine.config.docker.private_network
    kill_after(engine, monkeypatch, "Create the")
    with pytest.raises(Killed):
        engine.apply("private-network")
    assert network in names(docker_client, "networks")
    again = restarted(engine, tmp_path)
    assert again.state.step("private-network")["in_flight"]["undo"] == [
        {"type": "network", "name": network, "id": None}]
    outcome = again.rollback("private-network")
    assert outcome.ok, outcome.error
    assert network not in names(docker_client, "networks")


def test_container_started_then_killed_is_removed_by_rollback(engine, tmp_path, monkeypatch, docker_client):
    assert engine.apply("private-network").ok
    proxy = engine.config.docker.socket_proxy_container
    kill_after(engine, monkeypatch, "Start the container")
    with pytest.raises(Killed):
        engine.apply("socket-proxy")
    assert proxy in names(docker_client, "containers")
    again = restarted(engine, tmp_path)
    assert again.rollback("socket-proxy").ok
    assert proxy not in names(docker_client, "containers")


def test_killed_before_the_create_leaves_a_same_named_stranger_alone(engine, tmp_path, monkeypatch,
                                                                     docker_client, images):
    """The prepared record names a container hardstep never made: rollback must not remove
    whatever another hand later started under that name (it carries no hardstep label)."""
    assert engine.apply("private-network").ok
    proxy = engine.config.docker.socket_proxy_container

    def die(*_args, **_kwargs):
        raise Killed()

    monkeypatch.setattr("app.containers.actions.start_checked", die)
    with pytest.raises(Killed):
        engine.apply("socket-proxy")
    stranger = docker_client.containers.run(images["busybox"], ["sleep", "60"], name=proxy, detach=True)
    again = restarted(engine, tmp_path)
    assert again.rollback("socket-proxy").ok
    stranger.reload()
    assert stranger.status == "running"


def test_replace_killed_after_the_new_container_started_puts_the_old_one_back(
        engine, tmp_path, monkeypatch, docker_client, images):
    assert engine.apply("private-network").ok
    proxy = engine.config.docker.socket_proxy_container
    # The reference's proxy: socket read-write and POST on, so the step plans a replace.
    old = docker_client.containers.run(images["socket_proxy"], name=proxy, detach=True,
                                       environment={"CONTAINERS": "1", "POST": "1"},
                                       network=engine.config.docker.private_network,
                                       volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock",
                                                                         "mode": "rw"}})
    kill_after(engine, monkeypatch, "Recreate the container")
    with pytest.raises(Killed):
        engine.apply("socket-proxy")
    assert docker_client.containers.get(proxy).id != old.id
    again = restarted(engine, tmp_path)
    assert again.rollback("socket-proxy").ok
    back = docker_client.containers.get(proxy)
    assert back.id == old.id and back.status == "running"
    assert not [n for n in names(docker_client, "containers") if n.startswith(f"{proxy}-hardstep-")]
