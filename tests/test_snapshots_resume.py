"""Snapshot of the resume dialog at 80x24: an apply of the file stand-in step was killed during
its one action; the dialog has re-checked (the change is still to do) and offers Continue,
Roll back and Later.

Stable on every machine: the start time is ``FIXED_AT``, the step list is pinned, and Docker is
pointed at a socket that does not exist (the main screen behind shows the same banner as in
tests/test_snapshots.py). Update with ``--snapshot-update``, then look at the SVG.
"""

from __future__ import annotations

from app.engine.actions import ApplyContext
from app.engine.undo import dump_records
from tests.wizard_support import (FIXED_AT, SIZE, SNAPSHOT_VALUES, FileStandInStep, quiet_app, settle,
                                  wizard_engine)

UNREACHABLE = "unix:///nonexistent.sock"


def test_resume_dialog(tmp_path, snap_compare, monkeypatch):
    from app import steps

    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    monkeypatch.setattr(steps, "REGISTRY", {"private-network": steps.REGISTRY["private-network"],
                                            FileStandInStep.id: ("tests.wizard_support", "FileStandInStep")})
    engine = wizard_engine(tmp_path, SNAPSHOT_VALUES)
    engine.host.write_text(FileStandInStep.PATH, "hardened = false\n")
    action = engine.plan(FileStandInStep.id).actions[0]
    pending = action.prepare(engine.host, ApplyContext(FileStandInStep.id, engine.state.backup_dir(FileStandInStep.id)))
    engine.state.update_step(FileStandInStep.id, in_flight={"index": 0, "summary": action.summary,
                                                             "started": FIXED_AT, "undo": dump_records(pending)})

    async def run_before(pilot) -> None:
        await settle(pilot)
        await settle(pilot)

    assert snap_compare(quiet_app(engine), terminal_size=SIZE, run_before=run_before)
