"""The sandbox step on the real engine with the local busybox image: every probe runs inside the
container. A weak container fails every check; ``hardstep apply sandbox --yes`` makes every check
pass while keeping its other settings and its data; rollback brings the weak one back."""

from __future__ import annotations

import pytest

from app.cli import main
from app.containers.commands import read_file, run_shell
from app.engine.model import Status
from tests.fixtures_core import failing, make_engine

pytestmark = pytest.mark.docker

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]  # stops at once on docker stop
KEPT = ("Image", "Cmd", "Env", "Labels", "Entrypoint", "WorkingDir", "User", "Volumes")


def weak_container(client, images, name, **extra):
    """Unhardened on purpose: an added SYS_ADMIN, seccomp off, no limits; with a published port, a
    restart policy, environment, labels and an anonymous volume holding data."""
    api = client.api
    host_config = api.create_host_config(
        cap_add=["SYS_ADMIN"], security_opt=["seccomp=unconfined"], restart_policy={"Name": "unless-stopped"},
        port_bindings={"80/tcp": ("127.0.0.1", None)}, **extra)
    created = api.create_container(images["busybox"], SLEEPER, name=name, volumes=["/data"], ports=[80],
                                   environment={"SERVICE": "demo"}, labels={"app": "demo"}, host_config=host_config)
    container = client.containers.get(created["Id"])
    container.start()
    assert run_shell(container, "echo precious > /data/db").ok
    container.reload()
    return container


@pytest.fixture
def weak(tmp_path, unique, images, docker_client):
    """(engine, container): a weak container picked for the sandbox."""
    name = unique("app")
    container = weak_container(docker_client, images, name)
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
    yield engine, container
    engine.host.close()


def cli(engine, *argv: str) -> int:
    return main([*argv, "--root", str(engine.host.root), "--config", str(engine.config.path),
                 "--state-dir", str(engine.state.dir)])


# Once in CI (a clean clone, 4 workers on 2 cores) the root-filesystem probe could not run right
# after the apply, and the check fell back to the inspect data (which passed, as it should on a
# real host); the probe's own words are asserted here, so the test failed. The fallback's detail now
# says why the probe could not run, and the test runs once more with a RERUN line naming it.
@pytest.mark.flaky(reruns=1)
def test_weak_container_fails_every_check_then_the_sandbox_passes_them_all(weak, docker_client, capsys):
    engine, before = weak
    name = before.name
    results = engine.check("sandbox")
    expected = ["root filesystem read-only", "/tmp writable, not executable", "no raw sockets",
                "process limit holds", "memory limit 256m", "no swap", "CPU limit 1", "PIDs limit 50",
                "no-new-privileges", "seccomp not unconfined", "no dangerous capabilities added"]
    assert failing(results) == [f"{name}: {check}" for check in expected]
    assert [r.check for r in results if r.ok is None] == [f"{name}: AppArmor profile"]  # no AppArmor here

    assert cli(engine, "apply", "sandbox", "--yes") == 0
    out = capsys.readouterr().out
    assert "+seccomp: hardstep profile" in out and "-added capabilities: SYS_ADMIN" in out
    results = engine.state.checks("sandbox")
    assert failing(results) == []
    by_name = {r.check.split(": ", 1)[1]: r for r in results}
    assert "can't fork" in by_name["process limit holds"].detail  # a fork beyond the PIDs limit failed
    assert "Read-only file system" in by_name["root filesystem read-only"].detail
    assert by_name["no-new-privileges"].evidence["NoNewPrivs"] == "1"

    after = docker_client.containers.get(name)
    assert after.id != before.id
    for key in KEPT:
        assert after.attrs["Config"].get(key) == before.attrs["Config"].get(key), key
    for key in ("PortBindings", "RestartPolicy", "LogConfig"):
        assert after.attrs["HostConfig"][key] == before.attrs["HostConfig"][key], key
    assert list(after.attrs["NetworkSettings"]["Networks"]) == list(before.attrs["NetworkSettings"]["Networks"])
    # The anonymous volume moved with it: the data is still there.
    assert read_file(after, "/data/db") == b"precious\n"
    assert engine.plan("sandbox").empty  # idempotent

    assert cli(engine, "rollback", "sandbox", "--yes") == 0
    restored = docker_client.containers.get(name)
    assert restored.id == before.id and restored.status == "running"
    assert restored.attrs["HostConfig"] == before.attrs["HostConfig"]
    assert restored.attrs["Config"] == before.attrs["Config"]
    assert engine.status("sandbox") == Status.PENDING
    assert [r.check.split(": ", 1)[1] for r in engine.check("sandbox") if r.ok is False] == expected


def test_limits_change_in_place_and_roll_back(weak, docker_client):
    engine, before = weak
    assert engine.apply("sandbox").ok
    sandboxed = docker_client.containers.get(before.name)
    engine.config = engine.config.with_value("sandbox", "memory", "128m").with_value("sandbox", "pids_limit", 40)
    plan = engine.plan("sandbox")
    assert [type(a).__name__ for a in plan.actions] == ["UpdateLimits"]
    assert "-memory: 256m\n+memory: 128m" in plan.actions[0].diff()
    outcome = engine.apply("sandbox", plan)
    assert outcome.ok, failing(outcome.checks)
    live = docker_client.containers.get(before.name)
    assert live.id == sandboxed.id  # same container, still running: changed in place
    assert (live.attrs["HostConfig"]["Memory"], live.attrs["HostConfig"]["PidsLimit"]) == (128 * 2**20, 40)
    assert engine.rollback("sandbox").ok  # limits back in place, then the weak container back
    restored = docker_client.containers.get(before.name)
    assert restored.id == before.id and restored.attrs["HostConfig"] == before.attrs["HostConfig"]


def test_the_socket_proxy_only_gets_limits(tmp_path, unique, images, docker_client):
    proxy = unique("dockerproxy")
    original = docker_client.containers.run(images["busybox"], SLEEPER, name=proxy, detach=True, cap_drop=["ALL"],
                                             security_opt=["no-new-privileges"],
                                             volumes=["/var/run/docker.sock:/var/run/docker.sock:ro"])
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [proxy]})
    engine.config = engine.config.with_value("docker", "socket_proxy_container", proxy)
    assert any("keeps its socket" in note for note in engine.plan("sandbox").notes)
    assert [type(a).__name__ for a in engine.plan("sandbox").actions] == ["UpdateLimits"]
    outcome = engine.apply("sandbox")
    assert outcome.ok, failing(outcome.checks)
    checks = {r.check.split(": ", 1)[1]: r for r in outcome.checks}
    root = checks["root filesystem read-only"]
    assert root.ok is None and "socket-proxy step" in root.detail
    limited = docker_client.containers.get(proxy)
    assert limited.id == original.id and limited.attrs["HostConfig"]["PidsLimit"] == 50
    # The engine cannot lift a memory limit in place: rollback recreates it without limits.
    assert engine.rollback("sandbox").ok
    back = docker_client.containers.get(proxy)
    assert back.status == "running" and back.attrs["HostConfig"]["Memory"] == 0
    assert back.attrs["HostConfig"]["PidsLimit"] in (0, -1, None)
    assert back.attrs["HostConfig"]["Binds"] == original.attrs["HostConfig"]["Binds"]
    assert [c.name for c in docker_client.containers.list(all=True, filters={"name": proxy}, ignore_removed=True)
            if c.name.startswith(proxy)] == [proxy]
    engine.host.close()


def test_isolated_containers_move_onto_the_restricted_network(tmp_path, unique, images, docker_client):
    name, peers = unique("lonely"), docker_client.networks.create(unique("peers"))
    docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True, network=peers.name)
    restricted = unique("restricted")
    engine = make_engine(tmp_path, unique, images,
                         sandbox={"containers": [name], "isolated": [name], "restricted_network": restricted})
    assert f"{name}: only on {restricted}" in failing(engine.check("sandbox"))
    plan = engine.plan("sandbox")
    assert [type(a).__name__ for a in plan.actions] == ["CreateNetwork", "ReplaceContainer"]
    assert f"+networks: {restricted}" in plan.actions[1].diff()
    outcome = engine.apply("sandbox", plan)
    assert outcome.ok, [(c.check, c.detail) for c in outcome.checks if c.ok is False]
    network = docker_client.networks.get(restricted)
    assert network.attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert list(docker_client.containers.get(name).attrs["NetworkSettings"]["Networks"]) == [restricted]
    assert engine.rollback("sandbox").ok
    assert list(docker_client.containers.get(name).attrs["NetworkSettings"]["Networks"]) == [peers.name]
    assert not docker_client.networks.list(names=[restricted])
    engine.host.close()


def test_privileged_check_fails_on_privileged_inspect_data(weak):
    """Stand-in: this machine's kernel refuses to start --privileged containers (CAP_SYS_RESOURCE is
    not in its bounding set), so the check reads a real container's inspect data with Privileged
    set, the only part of a privileged container the check looks at."""
    from app.steps.sandbox.checks import _privileges

    engine, container = weak
    container.attrs["HostConfig"]["Privileged"] = True
    results = {name.split(": ", 1)[1]: (ok, detail) for name, ok, detail, _ in
               _privileges(engine.host, container, container.name, container.attrs["HostConfig"], {
                   "no-new-privileges": "no", "seccomp": "engine default"})}
    assert results["not privileged"] == (False, "privileged")
    assert results["seccomp not unconfined"][0] is False  # privileged switches seccomp off


def test_nothing_picked_means_an_empty_plan_with_suggestions(tmp_path, unique, images, docker_client):
    name = unique("db-postgres")
    docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True)
    engine = make_engine(tmp_path, unique, images)
    plan = engine.plan("sandbox")
    assert plan.empty
    assert any(f"{name} (database)" in note for note in plan.notes)
    picked = engine.check("sandbox")
    assert failing(picked) == ["containers picked"] and f"{name} (database)" in picked[0].detail
    # Picked now: a database whose data is not on a volume keeps a writable root, and says why.
    engine.config = engine.config.with_value("sandbox", "containers", [name])
    notes = engine.plan("sandbox").notes
    assert any("/var/lib/postgresql/data is not on a volume" in n for n in notes)
    assert "+memory: 1g" in engine.plan("sandbox").actions[0].diff()
    engine.host.close()


def test_a_container_that_needs_a_writable_root_is_put_back(tmp_path, unique, images, docker_client):
    name = unique("writer")
    needy = ["sh", "-c", "touch /started || exit 3; trap 'exit 0' TERM; sleep 3600 & wait"]
    before = docker_client.containers.run(images["busybox"], needy, name=name, detach=True)
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
    outcome = engine.apply("sandbox")
    assert not outcome.ok and "did not stay up" in outcome.error
    current = docker_client.containers.get(name)
    assert current.id == before.id and current.status == "running"
    assert engine.state.undo_records("sandbox") == []
    engine.host.close()
