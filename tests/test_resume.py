"""Resume after a killed apply: real ``hardstep`` processes are SIGKILLed between two actions of a
multi-action step, and in the middle of one (its atomic write), then the state, the files and
the backups are inspected, and a resumed run (or a rollback) finishes the job.

The process is stopped deterministically: a hook installed by this test module (never by the
product) makes the process announce, through a marker file, that it reached the chosen point and
then wait there until the test kills it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from app.engine.actions import EditFile
from app.steps.base import Step

ROOT = Path(__file__).resolve().parent.parent
STEP = "three-files"
FILES = ("one", "two", "three")
OLD = {name: f"# {name}\nsetting = old-{name}\nkeep = this line\n" for name in FILES}
NEW = {name: f"# {name}\nsetting = new-{name}\nkeep = this line\n" + "padding\n" * 2000 for name in FILES}
HOLD = "HARDSTEP_TEST_HOLD"  # "<when>:<file>", when in before | before-rename | after-rename
MARKER = "HARDSTEP_TEST_MARKER"  # the file the held process creates once it is held


def conf(name: str) -> str:
    return f"/etc/resume/{name}.conf"


class ThreeFilesStep(Step):
    """Test-only step with three file actions, so a run can be killed between two of them."""

    id = STEP
    title = "Three files (test step)"
    uses_docker = False

    def explanation(self) -> str:
        return "# Three files\n\nA test step that edits three files."

    def plan(self, host, config):
        actions = []
        for name in FILES:
            current = host.read_text(conf(name))
            if current != NEW[name]:
                actions.append(HeldEditFile(conf(name), current, NEW[name]))
        return actions

    def validate(self, host, config):
        return [self.check(f"{name}.conf is new", host.read_text(conf(name)) == NEW[name], name)
                for name in FILES]


class HeldEditFile(EditFile):
    """EditFile that, when the test asks (``HOLD=before:<file>``), stops just before its apply."""

    def apply(self, host, ctx):
        when, _, target = os.environ.get(HOLD, "").partition(":")
        if when == "before" and self.path == conf(target):
            hold()
        return super().apply(host, ctx)


def hold() -> None:
    Path(os.environ[MARKER]).write_text(str(os.getpid()))
    while True:  # until the test's SIGKILL
        time.sleep(0.05)


def install_rename_hold() -> None:
    """``HOLD=before-rename:<file>`` / ``after-rename:<file>``: stop around the rename of the
    real atomic write (the temp file is complete before it) of that file only."""
    when, _, target = os.environ.get(HOLD, "").partition(":")
    if when not in ("before-rename", "after-rename"):
        return
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        mine = str(dst).endswith(conf(target))
        if mine and when == "before-rename":
            hold()
        real_replace(src, dst, *args, **kwargs)
        if mine:
            hold()

    os.replace = replace


SCRIPT = f"""
import sys
from app import steps
steps.REGISTRY[{STEP!r}] = ("tests.test_resume", "ThreeFilesStep")
from tests.test_resume import install_rename_hold
install_rename_hold()
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "root"
    (root / "etc/resume").mkdir(parents=True)
    for name in FILES:
        (root / f"etc/resume/{name}.conf").write_text(OLD[name])
    return tmp_path


def hardstep(base: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command(base, *args), cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def command(base: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", SCRIPT, "--root", str(base / "root"), "--state-dir", str(base / "state"),
            "--config", str(base / "none.toml"), *args]


@contextmanager
def held_apply(base: Path, hold_at: str) -> Iterator[subprocess.Popen]:
    """Start ``hardstep apply three-files --yes`` and yield it once it is held at ``hold_at``
    (it waits there); it is killed when the block ends, if the block did not end it."""
    marker = base / "held"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(command(base, "apply", STEP, "--yes"), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**os.environ, HOLD: hold_at, MARKER: str(marker)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"the apply ended before the hold: {proc.stderr.read()}")
            assert time.monotonic() < deadline, "the apply never reached the hold"
            time.sleep(0.02)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stderr.close()


def killed_apply(base: Path, hold_at: str) -> None:
    """Start ``hardstep apply three-files --yes``, wait until it is held at ``hold_at``, SIGKILL it."""
    with held_apply(base, hold_at) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL


def text(base: Path, name: str) -> str:
    return (base / "root" / f"etc/resume/{name}.conf").read_text()


def state(base: Path) -> dict:
    return json.loads((base / "state/state.json").read_text())["steps"][STEP]


def backups(base: Path, name: str) -> list[str]:
    return [p.read_text() for p in sorted((base / "state/backups" / STEP).glob(f"{name}.conf.*"))]


def temp_files(base: Path) -> list[Path]:
    return list((base / "root/etc/resume").glob("*.hardstep-tmp"))


def assert_whole(base: Path) -> None:
    """No file is half-written: each one is exactly its old or its new text."""
    for name in FILES:
        assert text(base, name) in (OLD[name], NEW[name]), name


def assert_rolled_back(base: Path) -> None:
    for name in FILES:
        assert text(base, name) == OLD[name], name
    assert state(base)["status"] == "pending"
    assert not state(base).get("in_flight") and state(base)["undo"] == []


# --- killed between two actions ---------------------------------------------------------------
def test_killed_between_two_actions_then_continued_then_rolled_back(host):
    killed_apply(host, "before:two")

    assert_whole(host)
    assert [text(host, n) == NEW[n] for n in FILES] == [True, False, False]
    assert not temp_files(host)
    # The backups exist and hold the originals: one's from its action, two's taken before the kill.
    assert backups(host, "one") == [OLD["one"]]
    assert backups(host, "two") == [OLD["two"]]
    saved = state(host)  # parses: state.json is written atomically
    assert saved["in_flight"]["index"] == 1
    assert saved["in_flight"]["summary"] == f"Edit {conf('two')}"
    assert saved["in_flight"]["started"]
    assert [r["path"] for r in saved["undo"]] == [conf("one")]
    assert Path(saved["undo"][0]["backup"]).read_text() == OLD["one"]
    outcomes = [(e["action"], e["outcome"]) for e in map(json.loads, (host / "state/audit.jsonl").read_text().splitlines())]
    assert outcomes == [(f"Edit {conf('one')}", "started"), (f"Edit {conf('one')}", "ok"),
                        (f"Edit {conf('two')}", "started")]

    listed = hardstep(host, "list")
    assert listed.returncode == 0
    assert f"{STEP}: action 'Edit {conf('two')}' was in flight" in listed.stderr

    asked = hardstep(host, "resume")
    assert asked.returncode == 1, asked
    assert f"{STEP}: action 'Edit {conf('two')}' was in flight; re-checking..." in asked.stdout
    assert "it did not complete; 2 change(s) are left" in asked.stdout
    assert state(host)["in_flight"]  # looking decides nothing

    resumed = hardstep(host, "resume", "--continue", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{STEP}: verified" in resumed.stdout
    for name in FILES:
        assert text(host, name) == NEW[name]
    saved = state(host)
    assert saved["status"] == "verified" and not saved["in_flight"]
    assert [r["path"] for r in saved["undo"]] == [conf(n) for n in ("one", "two", "two", "three")]

    rolled = hardstep(host, "rollback", STEP, "--yes")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert_rolled_back(host)


def test_killed_between_two_actions_then_rolled_back_directly(host):
    killed_apply(host, "before:three")
    assert [text(host, n) == NEW[n] for n in FILES] == [True, True, False]

    rolled = hardstep(host, "resume", "--rollback", "--yes")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"{STEP}: rolled back" in rolled.stdout
    assert_rolled_back(host)


# --- killed inside an action's atomic write -----------------------------------------------------
def test_killed_before_the_rename_leaves_the_old_file_and_apply_continues(host):
    killed_apply(host, "before-rename:two")

    assert_whole(host)
    assert text(host, "two") == OLD["two"]  # the rename never happened
    leftovers = temp_files(host)
    assert [p.read_text() for p in leftovers] == [NEW["two"]]  # killed after the temp file was written
    assert backups(host, "two") == [OLD["two"]]
    assert state(host)["in_flight"]["undo"][0]["backup"]

    again = hardstep(host, "apply", STEP, "--yes")  # apply again = continue
    assert again.returncode == 0, again.stdout + again.stderr
    assert "was in flight; continuing" in again.stderr
    assert not temp_files(host)  # the interrupted write's temp file is cleaned up
    for name in FILES:
        assert text(host, name) == NEW[name]
    assert state(host)["status"] == "verified"

    assert hardstep(host, "rollback", STEP, "--yes").returncode == 0
    assert_rolled_back(host)


def test_killed_after_the_change_before_its_undo_was_saved_still_rolls_back(host):
    """The window the prepared undo closes: two.conf is new, its record is only in the in-flight one."""
    killed_apply(host, "after-rename:two")

    assert text(host, "two") == NEW["two"]
    saved = state(host)
    assert [r["path"] for r in saved["undo"]] == [conf("one")]
    assert [r["path"] for r in saved["in_flight"]["undo"]] == [conf("two")]
    assert Path(saved["in_flight"]["undo"][0]["backup"]).read_text() == OLD["two"]

    asked = hardstep(host, "resume")
    assert "it completed; 1 change(s) of this step are left to apply" in asked.stdout
    assert f"- left: Edit {conf('three')}" in asked.stdout

    rolled = hardstep(host, "rollback", STEP, "--yes")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert "was in flight; the rollback undoes it too" in rolled.stderr
    assert_rolled_back(host)


def test_killed_after_the_last_change_the_next_check_settles_the_step(host):
    """Like a reboot ending the run right after its last change: check finds it complete and
    verifies the step instead of leaving it in flight or failed."""
    killed_apply(host, "after-rename:three")
    assert state(host)["in_flight"]["summary"] == f"Edit {conf('three')}"

    checked = hardstep(host, "check", STEP, "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert {r["status"] for r in json.loads(checked.stdout)} == {"pass"}  # notices stay off stdout
    assert f"{STEP}: action 'Edit {conf('three')}' was in flight; re-checking..." in checked.stderr
    assert "it completed; nothing is left to do" in checked.stderr
    saved = state(host)
    assert saved["status"] == "verified" and not saved["in_flight"]
    assert [r["path"] for r in saved["undo"]] == [conf(n) for n in FILES]

    assert hardstep(host, "rollback", STEP, "--yes").returncode == 0
    assert_rolled_back(host)


def test_nothing_interrupted(host):
    done = hardstep(host, "resume")
    assert done.returncode == 0
    assert "Nothing was interrupted" in done.stdout
    assert not (host / "state").exists()
