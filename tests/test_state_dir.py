"""A relative ``--state-dir`` is made absolute before anything is recorded: the backups that
state.json names are found again from any folder, so a rollback run elsewhere restores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_resume import FILES, NEW, OLD, ROOT, SCRIPT, STEP, text


def hardstep_in(cwd: Path, base: Path, state_dir: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, "--root", str(base / "root"), "--state-dir", state_dir,
                           "--config", str(base / "none.toml"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)


def test_a_relative_state_dir_rolls_back_from_another_folder(tmp_path):
    (tmp_path / "root/etc/resume").mkdir(parents=True)
    for name in FILES:
        (tmp_path / f"root/etc/resume/{name}.conf").write_text(OLD[name])
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir(), elsewhere.mkdir()
    done = hardstep_in(here, tmp_path, "state", "apply", STEP, "--yes")
    assert done.returncode == 0, done.stderr
    assert all(text(tmp_path, name) == NEW[name] for name in FILES)

    done = hardstep_in(elsewhere, tmp_path, "../here/state", "rollback", STEP, "--yes")
    assert done.returncode == 0, done.stderr
    assert all(text(tmp_path, name) == OLD[name] for name in FILES)
    assert str(here / "state" / "backups") in (here / "state/audit.jsonl").read_text()  # absolute, recorded
