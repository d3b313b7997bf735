"""Step ``burmilla`` against the stand-in ``ros`` (tests/standins/ros) and the real Docker engine.

``ros`` cannot run here; the stand-in records every call and rewrites the os-release under the
test root the way the upgrade would. The os-release files in tests/data/os-release are the
detected systems: RancherOS 1.5.5, BurmillaOS 1.9.6 and 2.0.4, Debian 12, Ubuntu 24.04.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from app.steps.burmilla import rancher
from app.config.settings import Config, save_config
from app.engine.runner import Engine
from app.host import LocalHost
from app.engine.model import Status
from app.engine.state import StateStore
from app.steps.burmilla.step import SECOND_REBOOT, Burmilla

HERE = Path(__file__).parent
STANDINS = HERE / "standins"
RELEASES = HERE / "data" / "os-release"
OLD_CHANNEL = "https://releases.rancher.com/os/releases.yml"
CHANNEL = "https://raw.githubusercontent.com/burmilla/releases/v1.9.x/releases.yml"


def ros_root(tmp_path: Path, release: str, **ros_state) -> Path:
    """A host root with the named os-release fixture and the stand-in's starting state."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "os-release").write_text((RELEASES / release).read_text())
    if ros_state:
        write_ros_state(root, **ros_state)
    return root


def write_ros_state(root: Path, **changes) -> None:
    path = root / "var/lib/rancher/conf/ros-standin.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**state, **changes}))


def ros_state(root: Path) -> dict:
    return json.loads((root / "var/lib/rancher/conf/ros-standin.json").read_text())


def ros_calls(root: Path) -> list[list[str]]:
    log = root / "var/log/ros-standin.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def standin_env(root: Path) -> dict[str, str]:
    """The environment that puts the stand-in ``ros`` first on PATH for ``root``."""
    return {"PATH": f"{STANDINS}{os.pathsep}{os.environ['PATH']}", "ROS_STANDIN_ROOT": str(root)}


def with_standin(monkeypatch, root: Path) -> None:
    for key, value in standin_env(root).items():
        monkeypatch.setenv(key, value)


def burmilla_values(traefik_container: str, **burmilla) -> dict:
    return {"traefik": {"container": traefik_container}, "burmilla": burmilla}


def engine_on(tmp_path: Path, root: Path, values: dict, host_class=LocalHost) -> Engine:
    config_path = tmp_path / "config.toml"
    save_config(Config(values), config_path)
    return Engine(host_class(root), Config(values, config_path, True), StateStore(tmp_path / "state"))


def changing_calls(root: Path) -> list[list[str]]:
    """The calls that change something, in order (reads such as ``ros -v`` left out)."""
    reads = (["-v"], ["os", "version"], ["console", "list"], ["config", "get"])
    return [c for c in ros_calls(root) if not any(c[:len(r)] == r for r in reads)]


def by_name(results) -> dict:
    return {r.check: r for r in results}


# --- detection -----------------------------------------------------------------------------
@pytest.mark.parametrize("release,ok,words", [
    ("rancheros-1.5.5", True, ""), ("burmillaos-1.9.6", True, ""), ("burmillaos-2.0.4", True, ""),
    ("debian-12", False, "detected Debian GNU/Linux 12 (bookworm)"),
    ("ubuntu-24.04", False, "detected Ubuntu 24.04.1 LTS"),
])
def test_applicability_names_the_detected_os(tmp_path, release, ok, words):
    applicable = Burmilla().applicable(LocalHost(ros_root(tmp_path, release)))
    assert applicable.ok is ok
    assert words in applicable.reason


def test_burmilla_is_told_apart_by_name_not_id(tmp_path):
    """BurmillaOS keeps ID=rancheros: only NAME says which it is."""
    rancher_os = rancher.detect_os(LocalHost(ros_root(tmp_path / "a", "rancheros-1.5.5")))
    burmilla = rancher.detect_os(LocalHost(ros_root(tmp_path / "b", "burmillaos-1.9.6")))
    assert (rancher_os.is_rancher, rancher_os.version) == (True, "v1.5.5")
    assert (burmilla.is_burmilla, burmilla.describe()) == (True, "BurmillaOS v1.9.6")


def test_without_os_release_ros_decides(tmp_path, monkeypatch):
    root = ros_root(tmp_path, "burmillaos-1.9.6")
    with_standin(monkeypatch, root)
    host = LocalHost(root)
    assert rancher.detect_os(host).describe() == "BurmillaOS v1.9.6"
    (root / "etc" / "os-release").unlink()
    write_ros_state(root, ros_version="v1.5.5")
    assert rancher.detect_os(host) == rancher.OsInfo("RancherOS", "v1.5.5", "")
    assert ["os", "version"] in ros_calls(root)


@pytest.mark.parametrize("text,version", [
    ("v1.9.6", (1, 9, 6)), ("ros version v1.5.5\n", (1, 5, 5)), ("v2.0", (2, 0, 0)), ("", None), ("latest", None),
])
def test_versions(text, version):
    assert rancher.parse_version(text) == version


def test_target_rules():
    burmilla_2 = rancher.OsInfo("BurmillaOS", "v2.0.4")
    assert rancher.reached(burmilla_2, "v1.9.6") and rancher.reached(burmilla_2, "")
    assert not rancher.reached(rancher.OsInfo("BurmillaOS", "v1.9.6"), "")
    assert not rancher.reached(rancher.OsInfo("RancherOS", "v1.5.5"), "v1.5.5")
    assert rancher.goes_to_2x("") and rancher.goes_to_2x("v2.0.4") and not rancher.goes_to_2x("v1.9.6")


# --- plan ------------------------------------------------------------------------------------
def test_plan_on_rancheros_follows_the_official_order(tmp_path, monkeypatch):
    root = ros_root(tmp_path, "rancheros-1.5.5", console="ubuntu")
    with_standin(monkeypatch, root)
    engine = engine_on(tmp_path, root, burmilla_values("hst-none-proxy"))
    plan = engine.plan("burmilla")
    assert [a.command() for a in plan.actions] == [
        "sudo ros console switch -f default",
        f"sudo ros config set rancher.upgrade.url {CHANNEL}",
        "sudo ros os upgrade -f -i burmilla/os:v1.9.6"]
    assert "from ubuntu to default" in plan.actions[0].summary
    assert f"(was {OLD_CHANNEL})" in plan.actions[1].summary
    assert plan.actions[2].summary == "Upgrade RancherOS v1.5.5 to BurmillaOS v1.9.6 (the host reboots)"
    assert any("Stays on BurmillaOS 1.9" in note for note in plan.notes)
    assert (root / "etc/os-release").read_text() == (RELEASES / "rancheros-1.5.5").read_text()  # plan changes nothing


def test_plan_skips_what_is_in_place_and_2x_drops_the_pin(tmp_path, monkeypatch):
    root = ros_root(tmp_path, "burmillaos-1.9.6", upgrade_url=CHANNEL)
    with_standin(monkeypatch, root)
    engine = engine_on(tmp_path, root, burmilla_values("hst-none-proxy", target=""))
    plan = engine.plan("burmilla")
    assert [a.command() for a in plan.actions] == ["sudo ros os upgrade -f"]
    assert "BurmillaOS 2.x" in plan.actions[0].summary
    assert any("much newer Docker engine" in note and "v1.9.6" in note for note in plan.notes)


@pytest.mark.parametrize("release,target", [("burmillaos-1.9.6", "v1.9.6"), ("burmillaos-2.0.4", "v1.9.6"),
                                            ("burmillaos-2.0.4", "")])
def test_burmilla_at_or_past_the_target_has_nothing_to_do(tmp_path, monkeypatch, release, target):
    root = ros_root(tmp_path, release)
    with_standin(monkeypatch, root)
    plan = engine_on(tmp_path, root, burmilla_values("hst-none-proxy", target=target)).plan("burmilla")
    assert plan.empty and not plan.notes
    assert ros_calls(root) == []  # nothing asked of ros either


def test_plan_without_ros_says_where_to_run(tmp_path, monkeypatch):
    from app.errors import HardstepError

    monkeypatch.setenv("PATH", "/nonexistent")
    engine = engine_on(tmp_path, ros_root(tmp_path, "rancheros-1.5.5"), burmilla_values("hst-none-proxy"))
    with pytest.raises(HardstepError, match="ros was not found on PATH"):
        engine.plan("burmilla")


# --- apply, checks, rollback -------------------------------------------------------------------
@pytest.fixture
def rancher_engine(tmp_path, monkeypatch, unique):
    root = ros_root(tmp_path, "rancheros-1.5.5", console="ubuntu")
    with_standin(monkeypatch, root)
    return engine_on(tmp_path, root, burmilla_values(unique("proxy"))), root


def test_unupgraded_rancheros_fails_the_os_check(rancher_engine, docker_client):
    engine, _ = rancher_engine
    checks = by_name(engine.check("burmilla"))
    assert checks["BurmillaOS v1.9.6 or newer"].ok is False
    assert "os-release says RancherOS v1.5.5" in checks["BurmillaOS v1.9.6 or newer"].detail
    assert checks["ros -v agrees"].ok is True
    assert engine.status("burmilla") == Status.PENDING


def test_apply_upgrades_and_verifies_then_plans_nothing(rancher_engine, docker_client):
    engine, root = rancher_engine
    events = []
    outcome = engine.apply("burmilla", report=events.append)
    assert outcome.ok, outcome.error
    assert changing_calls(root) == [
        ["console", "switch", "-f", "default"], ["config", "set", "rancher.upgrade.url", CHANNEL],
        ["os", "upgrade", "-f", "-i", "burmilla/os:v1.9.6"]]
    assert 'NAME="BurmillaOS"' in (root / "etc/os-release").read_text()
    checks = by_name(outcome.checks)
    assert checks["upgrade took effect"].detail.startswith("upgraded from RancherOS v1.5.5 to BurmillaOS v1.9.6")
    assert checks["ros -v agrees"].ok and checks["Docker engine answers"].ok
    assert checks["Traefik's provider works"].ok is None  # no Traefik container here: skipped, said so
    assert engine.status("burmilla") == Status.VERIFIED
    warnings = [e.message for e in events if e.level == "warning"]
    assert any("run hardstep again" in w for w in warnings)
    assert engine.plan("burmilla").empty


def test_rollback_restores_channel_and_console_and_says_the_os_stays(rancher_engine, docker_client):
    engine, root = rancher_engine
    assert engine.apply("burmilla").ok
    actions = engine.rollback_plan("burmilla")
    assert actions[0].summary.startswith("Not undone by hardstep: the upgrade from RancherOS v1.5.5")
    assert actions[0].command() == "sudo ros os upgrade -f -i rancher/os:v1.5.5"
    assert [a.command() for a in actions[1:]] == [f"sudo ros config set rancher.upgrade.url {OLD_CHANNEL}",
                                                  "sudo ros console switch -f ubuntu"]
    assert engine.rollback("burmilla", actions).ok
    assert (ros_state(root)["console"], ros_state(root)["upgrade_url"]) == ("ubuntu", OLD_CHANNEL)
    assert 'NAME="BurmillaOS"' in (root / "etc/os-release").read_text()


def test_a_failed_upgrade_undoes_console_and_channel(rancher_engine, monkeypatch):
    engine, root = rancher_engine
    monkeypatch.setenv("ROS_STANDIN_FAIL", "upgrade")
    outcome = engine.apply("burmilla")
    assert not outcome.ok
    assert "ros os upgrade -f -i burmilla/os:v1.9.6 failed (exit 1)" in outcome.error
    assert "were undone" in outcome.error
    assert (ros_state(root)["console"], ros_state(root)["upgrade_url"]) == ("ubuntu", OLD_CHANNEL)
    assert not (root / rancher.MARKER.lstrip("/")).exists()
    assert 'NAME="RancherOS"' in (root / "etc/os-release").read_text()


def test_a_disagreeing_ros_asks_for_the_second_reboot(tmp_path, monkeypatch, unique, docker_client):
    root = ros_root(tmp_path, "rancheros-1.5.5")
    with_standin(monkeypatch, root)
    monkeypatch.setenv("ROS_STANDIN_QUIRK", "second-reboot")
    engine = engine_on(tmp_path, root, burmilla_values(unique("proxy")))
    outcome = engine.apply("burmilla")
    ros_check = by_name(outcome.checks)["ros -v agrees"]
    assert ros_check.ok is False and SECOND_REBOOT in ros_check.detail
    assert engine.status("burmilla") == Status.FAILED
    write_ros_state(root, ros_version=None)  # the second reboot
    assert all(r.ok is not False for r in engine.check("burmilla"))
    assert engine.status("burmilla") == Status.VERIFIED


@pytest.fixture
def closed_socket(tmp_path):
    """A unix socket that exists but where nothing listens: a stopped engine."""
    path = tmp_path / "docker.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return f"unix://{path}"


def test_engine_down_after_the_upgrade_fails_cleanly_with_the_reboot_advice(tmp_path, monkeypatch, closed_socket):
    from app.cli import main

    root = ros_root(tmp_path, "rancheros-1.5.5")
    with_standin(monkeypatch, root)
    monkeypatch.setenv("DOCKER_HOST", closed_socket)
    engine = engine_on(tmp_path, root, burmilla_values("hst-none-proxy"))
    outcome = engine.apply("burmilla")  # plan and apply need no engine
    docker_check = by_name(outcome.checks)["Docker engine answers"]
    assert docker_check.ok is False and SECOND_REBOOT in docker_check.detail
    assert by_name(outcome.checks)["Traefik's provider works"].ok is None
    code = main(["--root", str(root), "--config", str(tmp_path / "config.toml"),
                 "--state-dir", str(tmp_path / "state"), "check", "burmilla"])
    assert code == 1  # a failed check, not "Docker unreachable" (2)


def test_engine_down_without_an_upgrade_says_start_it(tmp_path, monkeypatch, closed_socket):
    root = ros_root(tmp_path, "burmillaos-1.9.6")
    with_standin(monkeypatch, root)
    monkeypatch.setenv("DOCKER_HOST", closed_socket)
    results = by_name(engine_on(tmp_path, root, burmilla_values("hst-none-proxy")).check("burmilla"))
    assert results["BurmillaOS v1.9.6 or newer"].ok is True
    assert results["Docker engine answers"].ok is False
    assert "system-docker restart docker" in results["Docker engine answers"].detail


def test_not_applicable_on_debian_even_from_the_cli(tmp_path, monkeypatch, capsys):
    from app.cli import main

    root = ros_root(tmp_path, "debian-12")
    engine_on(tmp_path, root, burmilla_values("hst-none-proxy"))
    code = main(["--root", str(root), "--config", str(tmp_path / "config.toml"),
                 "--state-dir", str(tmp_path / "state"), "plan", "burmilla"])
    assert code == 0
    assert "not applicable: detected Debian GNU/Linux 12 (bookworm)" in capsys.readouterr().out


# --- Traefik: flagged before a 2.x upgrade, checked after any ------------------------------------
@pytest.fixture
def traefik_image(docker_client, images, unique):
    """Tags of the busybox image named like Traefik releases (only the tag is read); removed after."""
    made = []

    def tag(version: str) -> str:
        repo = unique("traefik")
        docker_client.images.get(images["busybox"]).tag(repo, version)
        made.append(f"{repo}:{version}")
        return made[-1]

    yield tag
    for name in made:
        docker_client.images.remove(name)


def run_traefik(docker_client, image: str, name: str):
    return docker_client.containers.run(image, ["sleep", "3600"], name=name, detach=True)


@pytest.mark.parametrize("version,target,words", [
    ("v2.10.4", "", "STOP: "), ("v2.11.31", "", "new enough"), ("v2.10.4", "v1.9.6", "Stays on BurmillaOS 1.9"),
])
def test_2x_with_an_old_traefik_is_flagged_before_anything_runs(tmp_path, monkeypatch, unique, docker_client,
                                                                 traefik_image, version, target, words):
    root = ros_root(tmp_path, "rancheros-1.5.5")
    with_standin(monkeypatch, root)
    name = unique("proxy")
    run_traefik(docker_client, traefik_image(version), name)
    plan = engine_on(tmp_path, root, burmilla_values(name, target=target)).plan("burmilla")
    notes = "\n".join(plan.notes)
    assert words in notes
    assert ("older than v2.11.31" in notes) is (words == "STOP: ")
    assert changing_calls(root) == []


class Docker29Host(LocalHost):
    """Stand-in for the engine BurmillaOS 2.x brings (this machine's engine is 20.10): the real
    LocalHost and the real engine, reporting version 29.0.1 so the Traefik comparison can fail."""

    def docker_version(self) -> str:
        self.docker
        return "29.0.1"


def test_after_the_upgrade_an_old_or_stopped_traefik_fails(tmp_path, monkeypatch, unique, docker_client,
                                                           traefik_image):
    root = ros_root(tmp_path, "burmillaos-2.0.4")
    with_standin(monkeypatch, root)
    name = unique("proxy")
    container = run_traefik(docker_client, traefik_image("v2.10.4"), name)
    values = burmilla_values(name, target="")
    assert [r.ok for r in engine_on(tmp_path, root, values).check("burmilla")[-2:]] == [True, True]
    results = by_name(engine_on(tmp_path, root, values, Docker29Host).check("burmilla"))
    assert results["Traefik works with this engine"].ok is False
    assert "client version 1.24 is too old" in results["Traefik works with this engine"].detail
    container.stop(timeout=0)
    assert by_name(engine_on(tmp_path, root, values).check("burmilla"))["Traefik is running"].ok is False


def test_traefik_steps_own_checks_run_once_it_was_applied(tmp_path, monkeypatch, unique, images, docker_client):
    from tests.fixtures_core import make_engine
    from tests.fixtures_registry import free_port
    from tests.test_traefik_step import start

    port = free_port()
    engine = make_engine(tmp_path, unique, images, synapse={"url": f"http://127.0.0.1:{port}"})
    engine.host.write_text("/etc/os-release", (RELEASES / "burmillaos-1.9.6").read_text())
    with_standin(monkeypatch, engine.host.root)
    start(engine, docker_client, images, port)
    before = [r.check for r in engine.check("burmilla")]
    assert "Traefik works with this engine" in before and not any(c.startswith("traefik: ") for c in before)
    assert engine.apply("traefik").ok
    results = engine.check("burmilla")
    theirs = [r for r in results if r.check.startswith("traefik: ")]
    assert [r.check for r in theirs] == [f"traefik: {r.check}" for r in engine.check("traefik")]
    assert all(r.ok is not False for r in results), [(r.check, r.detail) for r in results if r.ok is False]


def test_the_standin_reboot_never_kills_anything_but_hardstep(rancher_engine, monkeypatch):
    """Safety of the stand-in itself: asked to "reboot" from inside pytest, it refuses."""
    engine, root = rancher_engine
    monkeypatch.setenv("ROS_STANDIN_REBOOT", "kill-parent")
    outcome = engine.apply("burmilla")
    assert not outcome.ok and "it is not hardstep" in outcome.error
