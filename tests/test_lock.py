"""One hardstep at a time: real ``hardstep`` processes on one state folder. An apply is held in the
middle of its run (the hook of tests/test_resume.py, installed by the test, never by the product);
a second apply, rollback or resume is refused at once naming it; check and report do not wait,
say a run is in progress, and change nothing; a lock its process left behind is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.engine.model import Status
from screens.dialogs import ConfirmScreen
from tests.test_resume import FILES, NEW, OLD, ROOT, STEP, hardstep, held_apply, state, text
from tests.wizard_support import FileStandInStep, Notes, drive, register_file_step, settle, wait_until, wizard_engine


def files(base: Path) -> dict[str, str]:
    return {name: text(base, name) for name in FILES}


def make_host(base: Path) -> Path:
    (base / "root/etc/resume").mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (base / f"root/etc/resume/{name}.conf").write_text(OLD[name])
    return base


def timed(base: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = hardstep(base, *args)
    return done, time.monotonic() - started


def assert_refused(done: subprocess.CompletedProcess, seconds: float, pid: int) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    line, = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"hardstep: error: another hardstep is changing this host: pid {pid} "
                           f"(hardstep --root "), line
    assert f"apply {STEP} --yes) since 20" in line and "wait until it ends, then run this again" in line
    assert seconds < 15, "it waited for the lock instead of stopping at once"


def test_a_second_hardstep_is_refused_while_one_applies_and_check_and_report_only_read(tmp_path):
    base = make_host(tmp_path)
    # Held after the last file's rename, before its undo record is saved: the moment a check
    # without the lock would "settle" the run (tests/test_resume.py), and a rollback would undo it.
    with held_apply(base, "after-rename:three") as proc:
        assert files(base) == NEW
        saved = (base / "state/state.json").read_bytes()
        for args in (("resume", "--rollback", "--yes"), ("rollback", STEP, "--yes"), ("apply", STEP, "--yes"),
                     ("resume",)):
            assert_refused(*timed(base, *args), proc.pid)
        assert files(base) == NEW
        holder = json.loads((base / "state/run.json").read_text())
        assert holder["pid"] == proc.pid and holder["command"].endswith(f"apply {STEP} --yes")
        assert holder["argv"] and holder["since"].startswith("20")

        done, seconds = timed(base, "check", STEP)
        assert done.returncode == 0, done.stderr
        assert f"hardstep: a run is in progress: pid {proc.pid} (hardstep --root" in done.stderr
        assert "checks are not recorded" in done.stderr and "was in flight" not in done.stderr
        assert seconds < 15
        done = hardstep(base, "report", "--format", "json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["run_in_progress"]["pid"] == proc.pid
        assert report["run_in_progress"]["command"].endswith(f"apply {STEP} --yes")
        markdown = hardstep(base, "report").stdout
        assert f"A run is in progress: pid {proc.pid}" in markdown and "in progress: Edit /etc/resume/three.conf" in markdown
        assert "interrupted during" not in markdown
        done = hardstep(base, "list")
        assert "a run is in progress" in done.stderr and "when hardstep stopped" not in done.stderr
        # Neither settled, nor recorded, nor rolled back: the run's state is as it left it.
        assert (base / "state/state.json").read_bytes() == saved
        assert state(base)["in_flight"] and state(base).get("status") is None  # never settled

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    # Its process is gone, run.json stayed: the next command takes over, says so, and settles.
    assert (base / "state/run.json").exists()
    done = hardstep(base, "check", STEP)
    assert done.returncode == 0, done.stderr
    assert f"took over the lock left by pid {proc.pid} (hardstep --root" in done.stderr
    assert "that process is gone" in done.stderr
    assert state(base)["status"] == "verified" and not state(base)["in_flight"]
    assert not (base / "state/run.json").exists() and not (base / "state/run.lock").exists()


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    base = make_host(tmp_path)
    (base / "state").mkdir()
    (base / "state/run.lock").write_text("")
    pid = dead_pid()
    (base / "state/run.json").write_text(json.dumps({
        "pid": pid, "command": "hardstep rollback three-files --yes", "since": "2026-01-01T00:00:00+00:00",
        "argv": ["hardstep", "rollback", "three-files", "--yes"]}))
    done = hardstep(base, "apply", STEP, "--yes")
    assert done.returncode == 0, done.stderr
    assert (f"hardstep: took over the lock left by pid {pid} (hardstep rollback three-files --yes) since "
            "2026-01-01T00:00:00+00:00: that process is gone") in done.stderr
    assert files(base) == NEW
    assert not (base / "state/run.json").exists()


def test_a_command_that_changes_nothing_leaves_no_lock_behind(tmp_path):
    base = make_host(tmp_path)
    done = hardstep(base, "rollback", STEP, "--yes")
    assert done.returncode == 0 and "nothing to roll back" in done.stdout, done.stderr
    assert not (base / "state").exists()


# --- the wizard -----------------------------------------------------------------------------------
def test_the_wizard_holds_the_lock_while_it_applies_and_is_refused_while_another_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    register_file_step(monkeypatch)
    engine = wizard_engine(tmp_path)
    make_host(tmp_path)
    standin = engine.host.root / FileStandInStep.PATH.lstrip("/")
    step = engine.step(FileStandInStep.id)
    waiting, go_on = threading.Event(), threading.Event()
    real_apply = step.apply

    def gated_apply(*args):
        waiting.set()
        assert go_on.wait(60)
        return real_apply(*args)

    monkeypatch.setattr(step, "apply", gated_apply)
    notes = Notes()
    cli = ["--root", str(engine.host.root), "--config", str(engine.config.path), "--state-dir", str(engine.state.dir)]

    async def scenario(app, pilot):
        app.screen.select_step(FileStandInStep.id)
        await settle(pilot)
        # Another hardstep applies: the wizard's apply is refused with its name, nothing written.
        with held_apply(tmp_path, "before:two") as proc:
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: "another hardstep" in notes.text())
            assert f"another hardstep is changing this host: pid {proc.pid}" in notes.text()
            assert not standin.exists() and not waiting.is_set()
        await settle(pilot)
        # The wizard applies: a command-line rollback from another session is refused meanwhile.
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, waiting.is_set)
        done = subprocess.run([sys.executable, "-m", "app", *cli, "rollback", "private-network", "--yes"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 2, done
        assert (f"another hardstep is changing this host: pid {os.getpid()} "
                f"(hardstep wizard: apply {FileStandInStep.id}) since") in done.stderr
        go_on.set()
        await wait_until(pilot, lambda: engine.status(FileStandInStep.id) == Status.VERIFIED)
        await settle(pilot)

    drive(engine, scenario, notes=notes)
    assert standin.read_text() == FileStandInStep.WANTED
    assert not (engine.state.dir / "run.json").exists()
