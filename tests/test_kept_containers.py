"""Nothing comes back on its own: the container a replace keeps for rollback gets restart policy
``no`` (with its own ``always`` the engine would start it beside its twin at the next engine
restart or boot), rollback gives it back its own, and containers get the stop grace they need.

The engine restarts happen on a SECOND dockerd (tests/infra/second_engine.py), never on the engine
the other tests use. The replace is the sandbox step's, on a plain busybox container."""

from __future__ import annotations

import pytest

from tests.fixtures_core import make_engine
from tests.infra.second_engine import SecondEngine

pytestmark = pytest.mark.docker

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def policy(container) -> str:
    container.reload()
    return container.attrs["HostConfig"]["RestartPolicy"]["Name"] or "no"


def kept_copies(client, name: str) -> list:
    return [c for c in client.containers.list(all=True) if c.name.startswith(f"{name}-hardstep-")]


def test_the_kept_container_stays_stopped_through_an_engine_restart_and_gets_always_back(
        tmp_path, unique, images, docker_client):
    with SecondEngine(tmp_path / "engine" / "daemon.json", images=(images["busybox"],)) as second, second.aimed():
        name = unique("web")
        old = second.client.containers.run(images["busybox"], SLEEPER, name=name, detach=True,
                                           restart_policy={"Name": "always"})
        engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
        assert [type(a).__name__ for a in engine.plan("sandbox").actions] == ["ReplaceContainer"]
        outcome = engine.apply("sandbox")
        assert outcome.error is None, outcome.error
        (kept,) = kept_copies(second.client, name)
        assert kept.id == old.id and kept.status == "exited" and policy(kept) == "no"
        engine.host.close()

        second.restart()  # what the daemon step does, or a reboot
        kept.reload()
        assert kept.status == "exited"  # it did not come back beside its twin
        twin = second.client.containers.get(name)
        assert twin.id != old.id and twin.status == "running" and policy(twin) == "always"

        assert engine.rollback("sandbox").ok
        back = second.client.containers.get(name)
        assert back.id == old.id and back.status == "running" and policy(back) == "always"
        assert kept_copies(second.client, name) == []
        engine.host.close()


def test_a_replace_cut_short_after_the_rename_keeps_its_undo_and_rolls_back_later(
        tmp_path, unique, images, docker_client):
    """The engine goes away half-way through the replace (it crashed, or another session restarted
    it): the old container is renamed, not yet stopped, and nothing can be put back now. The
    undo record the replace prepared must survive the failure, so rollback works once the engine
    is back."""
    with SecondEngine(tmp_path / "engine" / "daemon.json", images=(images["busybox"],)) as second, second.aimed():
        name = unique("web")
        old = second.client.containers.run(images["busybox"], SLEEPER, name=name, detach=True,
                                           restart_policy={"Name": "always"})
        engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})

        def report(event):  # the first word of where the old one went: the rename is done
            if f"{name}-hardstep-" in event.message and second.answers():
                second.stop()

        outcome = engine.apply("sandbox", report=report)
        assert [r.kind for r in engine.undo_records("sandbox")] == ["replaced"]
        assert not outcome.ok and "run hardstep rollback sandbox" in outcome.error
        engine.host.close()

        second.restart()
        (kept,) = kept_copies(second.client, name)
        assert kept.id == old.id
        assert engine.rollback("sandbox").ok
        back = second.client.containers.get(name)
        assert back.id == old.id and back.status == "running" and policy(back) == "always"
        assert kept_copies(second.client, name) == []
        engine.host.close()


def test_a_replaced_record_written_before_policies_were_kept_still_rolls_back(tmp_path, unique, images,
                                                                               docker_client):
    """state.json from an earlier hardstep: the record has no ``previous_policy`` (that hardstep
    left the kept container its own policy), so rollback leaves the policy as it is."""
    name = unique("web")
    kept = docker_client.containers.run(images["busybox"], SLEEPER, name=f"{name}-hardstep-20260101000000",
                                        detach=True, restart_policy={"Name": "always"})
    kept.stop(timeout=5)
    new = docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True)
    engine = make_engine(tmp_path, unique, images)
    engine.state.update_step("sandbox", status="applied", undo=[
        {"type": "replaced", "name": name, "id": new.id, "previous": kept.name, "previous_running": True}])
    assert engine.rollback("sandbox").ok
    back = docker_client.containers.get(name)
    assert back.id == kept.id and back.status == "running" and policy(back) == "always"
    engine.host.close()


def test_a_database_gets_the_time_it_needs_to_stop(tmp_path, unique, images, docker_client):
    """A Postgres-like container needs 12 s after SIGTERM: Docker's 10 s would kill it (exit 137)."""
    name = unique("db-postgres")
    slow = ["sh", "-c", "trap 'sleep 12; exit 0' TERM; sleep 3600 & wait"]
    old = docker_client.containers.run(images["busybox"], slow, name=name, detach=True)
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
    assert engine.apply("sandbox").error is None
    old.reload()
    assert old.name.startswith(f"{name}-hardstep-") and old.attrs["State"]["ExitCode"] == 0
    engine.host.close()


def test_the_stop_grace_is_the_containers_own_or_longer_for_databases_and_synapse():
    from app.containers.keep import stop_grace

    def attrs(name: str, image: str, stop_timeout: int | None = None) -> dict:
        return {"Name": f"/{name}", "Config": {"Image": image, "StopTimeout": stop_timeout}}

    assert stop_grace(attrs("db", "postgres:16", stop_timeout=300)) == 300  # its own, as compose sets it
    assert stop_grace(attrs("web", "nginx", stop_timeout=5)) == 5
    for name, image in (("db", "postgres:16"), ("store", "mariadb:11"), ("x", "mysql:8"),
                        ("matrix", "matrixdotorg/synapse:v1.120.0"), ("gis", "postgis/postgis:16"),
                        ("db-postgres", "registry.example/custom:1")):
        assert stop_grace(attrs(name, image)) == 120, (name, image)
    assert stop_grace(attrs("web", "nginx:1")) == 10  # Docker's own
