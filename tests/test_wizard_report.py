"""Pilot tests of the resume dialog (an apply killed mid-way, found at start) and the report key.

The interrupted state is made the way a killed ``Engine.apply`` leaves it: the action's backup
taken by ``prepare``, the in-flight record saved with its undo records, then (for a completed
action) the file written, and no more.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.engine.actions import ApplyContext
from app.engine.undo import dump_records
from app.engine.model import Status
from screens.main import MainScreen
from screens.resume import ResumeScreen
from tests.wizard_support import (SIZE, FIXED_AT, FileStandInStep, Notes, drive, quiet_app,
                                  register_file_step, settle, shown, wait_until, wizard_engine)

UNREACHABLE = "unix:///nonexistent.sock"
OLD = "hardened = false\n"


def interrupted_engine(tmp_path, monkeypatch, completed: bool):
    """The file stand-in step killed during its one action, before or after the write."""
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    register_file_step(monkeypatch)
    engine = wizard_engine(tmp_path)
    engine.host.write_text(FileStandInStep.PATH, OLD)
    target = Path(engine.host.machine_path(FileStandInStep.PATH))  # this machine: a local file
    action = engine.plan(FileStandInStep.id).actions[0]
    pending = action.prepare(engine.host, ApplyContext(FileStandInStep.id, engine.state.backup_dir(FileStandInStep.id)))
    engine.state.update_step(FileStandInStep.id, in_flight={"index": 0, "summary": action.summary,
                                                             "started": FIXED_AT, "undo": dump_records(pending)})
    if completed:
        engine.host.write_text(FileStandInStep.PATH, FileStandInStep.WANTED)
    return engine, target


def dialog_text(app) -> str:
    return shown(app, ".resume-item") + "\n" + shown(app, "#resume-status")


def test_the_dialog_opens_at_start_rechecks_and_continue_finishes_the_step(tmp_path, monkeypatch):
    engine, target = interrupted_engine(tmp_path, monkeypatch, completed=False)
    notes = Notes()

    async def scenario():
        app = quiet_app(engine)
        async with app.run_test(size=SIZE, message_hook=notes) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ResumeScreen))
            await wait_until(pilot, lambda: "it did not complete" in dialog_text(app))
            text = dialog_text(app)
            assert "File stand-in step" in text and f"Edit {FileStandInStep.PATH}" in text
            assert FIXED_AT in text and "undoes 1 recorded change(s)" in text
            assert app.screen.focused.id == "resume-later"
            await pilot.press("c")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await settle(pilot)
            assert "File stand-in step applied and verified" in notes.text()

    asyncio.run(scenario())
    assert target.read_text() == FileStandInStep.WANTED
    assert engine.status(FileStandInStep.id) == Status.VERIFIED
    assert engine.in_flight(FileStandInStep.id) is None
    assert engine.state.undo_records(FileStandInStep.id)[0]["path"] == FileStandInStep.PATH


def test_roll_back_undoes_a_completed_action_whose_undo_was_never_saved(tmp_path, monkeypatch):
    engine, target = interrupted_engine(tmp_path, monkeypatch, completed=True)
    assert engine.state.undo_records(FileStandInStep.id) == []  # only the in-flight record knows
    notes = Notes()

    async def scenario():
        app = quiet_app(engine)
        async with app.run_test(size=SIZE, message_hook=notes) as pilot:
            await wait_until(pilot, lambda: "it completed; nothing is left to do" in dialog_text(app))
            assert "✓ yes" in dialog_text(app)
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await settle(pilot)
            assert "File stand-in step rolled back" in notes.text()

    asyncio.run(scenario())
    assert target.read_text() == OLD
    assert engine.status(FileStandInStep.id) == Status.PENDING
    assert engine.in_flight(FileStandInStep.id) is None


def test_later_changes_nothing_and_the_dialog_does_not_come_back(tmp_path, monkeypatch):
    engine, target = interrupted_engine(tmp_path, monkeypatch, completed=False)
    notes = Notes()

    async def scenario():
        app = quiet_app(engine)
        async with app.run_test(size=SIZE, message_hook=notes) as pilot:
            await wait_until(pilot, lambda: "it did not complete" in dialog_text(app))
            await pilot.press("enter")  # Later has the focus
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
            assert "Left as it is" in notes.text()
            app.screen.select_step(FileStandInStep.id)
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)

    asyncio.run(scenario())
    assert target.read_text() == OLD
    assert engine.in_flight(FileStandInStep.id)["summary"] == f"Edit {FileStandInStep.PATH}"


def test_no_dialog_without_an_interrupted_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        assert isinstance(app.screen, MainScreen)

    drive(engine, scenario)


def test_e_writes_the_report_into_the_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)
    engine.state.audit("private-network", "Create the bridge network private", "ok",
                       command="docker network create private", error='password: "hunter22"')
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("e")
        await wait_until(pilot, lambda: "Report written to" in notes.text())

    drive(engine, scenario, notes=notes)
    reports = list((tmp_path / "state" / "reports").glob("hardstep-report-*.md"))
    assert len(reports) == 1 and str(reports[0]) in notes.text()
    text = reports[0].read_text()
    assert text.startswith("# hardstep report") and "| private-network | pending |" in text
    assert "Create the bridge network private" in text and "hunter22" not in text


def test_the_palette_exports_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("ctrl+p", *"export the whole")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Report written to" in notes.text())

    drive(engine, scenario, notes=notes)
    assert len(list((tmp_path / "state" / "reports").glob("*.md"))) == 1
