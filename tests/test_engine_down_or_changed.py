"""The engine down, or changed under us: ``hardstep rollback daemon`` brings back an engine that its
daemon.json keeps down (on a SECOND dockerd, never the engine the other tests use), and a
container recreated between plan and apply is left as it is, with a request for a fresh plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.model import Status
from screens.dialogs import ConfirmScreen
from tests.fixtures_core import make_engine
from tests.infra.second_engine import SecondEngine
from tests.wizard_support import Notes, drive, settle, shown, wait_until

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def kept_down(tmp_path, unique, images, second):
    """(engine, daemon.json before the step): the daemon step applied on the second engine, then a
    daemon.json it refuses (edited by hand since, or by another tool), so it does not start."""
    config_file = second.config_file
    original = config_file.read_text()
    engine = make_engine(tmp_path, unique, images,
                         docker={"restart_command": second.restart_argv(), "restart_timeout": 60})
    assert engine.apply("daemon").error is None
    engine.host.close()
    broken = json.loads(config_file.read_text()) | {"no-such-option": True}
    config_file.write_text(json.dumps(broken, indent=2) + "\n")
    second.stop()
    subprocess.run(second.restart_argv(), check=True, timeout=60)
    second.wait_gone(said="no-such-option")
    assert not second.answers()
    return engine, original


def test_rollback_daemon_starts_an_engine_that_its_daemon_json_keeps_down(tmp_path, unique, images, docker_client):
    config_file = tmp_path / "root" / "etc" / "docker" / "daemon.json"
    with SecondEngine(config_file, images=(images["busybox"],)) as second, second.aimed():
        engine, original = kept_down(tmp_path, unique, images, second)
        done = subprocess.run(
            [sys.executable, "-m", "app", "rollback", "daemon", "--yes", "--root", str(engine.host.root),
             "--config", str(engine.config.path), "--state-dir", str(engine.state.dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=180, env={**os.environ, "HARDSTEP_DEBUG": ""})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "the engine does not answer" in done.stdout
        assert config_file.read_text() == original
        assert second.answers()
        assert "daemon: rolled back" in done.stdout


def test_the_wizard_rolls_the_daemon_back_while_the_engine_is_down(tmp_path, unique, images, docker_client):
    """The other Docker steps refuse while the engine does not answer; the daemon step's rollback
    is the way back, so it runs, and the banner goes once the engine answers again."""
    config_file = tmp_path / "root" / "etc" / "docker" / "daemon.json"
    with SecondEngine(config_file, images=(images["busybox"],)) as second, second.aimed():
        engine, original = kept_down(tmp_path, unique, images, second)
        notes = Notes()

        async def scenario(app, pilot):
            assert app.screen.query_one("#docker-banner").display
            app.screen.select_step("sandbox")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            assert "needs Docker, which does not answer" in notes.text()
            app.screen.select_step("daemon")
            await settle(pilot)
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: engine.status("daemon") == Status.PENDING, timeout=150)
            await wait_until(pilot, lambda: not app.screen.query_one("#docker-banner").display, timeout=30)
            assert "pending" in shown(app, "#step-heading")

        drive(engine, scenario, notes=notes)
        assert config_file.read_text() == original
        assert second.answers()


def test_a_container_recreated_between_plan_and_apply_is_left_alone(tmp_path, unique, images, docker_client):
    name = unique("app")
    docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True, environment={"RELEASE": "1"})
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
    plan = engine.plan("sandbox")
    assert [type(a).__name__ for a in plan.actions] == ["ReplaceContainer"]
    # compose (or Watchtower) recreates it with a newer release before the plan is applied
    docker_client.containers.get(name).remove(force=True)
    newer = docker_client.containers.run(images["busybox"], SLEEPER, name=name, detach=True,
                                         environment={"RELEASE": "2"})
    outcome = engine.apply("sandbox", plan)
    assert not outcome.ok
    assert f"the container {name} was recreated since the plan was made" in outcome.error
    assert "make a fresh plan" in outcome.error
    current = docker_client.containers.get(name)
    assert current.id == newer.id and current.status == "running"
    assert "RELEASE=2" in current.attrs["Config"]["Env"]
    assert not [c for c in docker_client.containers.list(all=True) if c.name.startswith(f"{name}-hardstep-")]
    assert engine.state.undo_records("sandbox") == []
    engine.host.close()


def test_a_file_changed_between_plan_and_apply_is_not_touched_at_all(tmp_path, monkeypatch):
    """The refusal comes before the backup: a failed action's prepared undo is undone with the
    run's, and "restoring" the hand-edited file would rewrite it (and restart what reads it)."""
    from app.config.settings import Config
    from app.engine.runner import Engine
    from app.engine.state import StateStore
    from app.host import LocalHost
    from tests.wizard_support import FileStandInStep, register_file_step

    register_file_step(monkeypatch)
    engine = Engine(LocalHost(tmp_path / "root"), Config(), StateStore(tmp_path / "state"))
    engine.host.write_text(FileStandInStep.PATH, "hardened = false\n")
    plan = engine.plan(FileStandInStep.id)
    engine.host.write_text(FileStandInStep.PATH, "edited by hand\n")
    inode = engine.host.path(FileStandInStep.PATH).stat().st_ino
    outcome = engine.apply(FileStandInStep.id, plan)
    assert not outcome.ok and "changed since the plan was made; nothing written" in outcome.error
    assert engine.host.read_text(FileStandInStep.PATH) == "edited by hand\n"
    assert engine.host.path(FileStandInStep.PATH).stat().st_ino == inode  # not even rewritten
    assert engine.state.undo_records(FileStandInStep.id) == []
    assert not engine.state.backup_dir(FileStandInStep.id).exists()
