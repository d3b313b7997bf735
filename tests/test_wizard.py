"""Pilot tests of the wizard: real engine, real Docker (unique names), an 80x24 terminal, keys only.

Each test is a plain function that runs its scenario with ``asyncio.run``, so no async pytest
plugin is needed.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from textual.widgets import Input, TabbedContent

from app.engine.model import Event, Status
from screens.dialogs import ConfirmScreen
from screens.main import MainScreen
from screens.settings import SettingsScreen
from screens.welcome import WelcomeScreen
from screens.widgets.activity import StepEvent
from tests.fixtures_core import docker_values
from tests.wizard_support import (SIZE, FileStandInStep, Notes, drive, quiet_app, register_file_step, settle,
                                  shown, wait_until, wizard_engine)

UNREACHABLE = "unix:///nonexistent.sock"


def checks_rows(app) -> list[tuple[str, str, str]]:
    """(result, check, evidence) for every row of the checks table, as plain text."""
    table = app.screen.query_one("#checks-table")
    rows = []
    for i in range(table.row_count):
        result, check = (str(cell) for cell in table.get_row_at(i))
        rows.append((result, *check.split("\n", 1)))
    return rows


def network_names(docker_client) -> set[str]:
    return {n.name for n in docker_client.networks.list()}


# --- selecting steps and reading plans ----------------------------------------------------
@pytest.mark.docker
def test_selecting_a_step_shows_its_explanation_and_plan(tmp_path, unique, images):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    network = engine.config.docker.private_network

    async def scenario(app, pilot):
        assert isinstance(app.screen, MainScreen)
        assert "Private Docker network" in shown(app, "#step-heading")
        assert "pending" in shown(app, "#step-heading")
        await pilot.press("2")
        assert "1 change" in shown(app, "#plan-message")
        assert f"Create the bridge network {network}" in shown(app, ".plan-summary")
        assert f"docker network create --driver=bridge {network}" in shown(app, ".plan-command")
        await pilot.press("down")  # the socket proxy needs the network first: the plan says so
        await settle(pilot)
        assert "Docker socket proxy" in shown(app, "#step-heading")
        assert "apply the private-network step first" in shown(app, "#plan-message")
        await pilot.press("1")
        assert app.screen.query_one("#tab-why").display

    drive(engine, scenario)


# --- apply, cancel, rollback --------------------------------------------------------------
@pytest.mark.docker
def test_apply_after_confirming_creates_the_network_and_shows_passing_checks(
        tmp_path, unique, images, docker_client):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    network = engine.config.docker.private_network
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"Create the bridge network {network}" in shown(app, ".plan-summary")
        await pilot.press("y")
        await wait_until(pilot, lambda: engine.status("private-network") == Status.VERIFIED)
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        rows = checks_rows(app)
        assert [r[0] for r in rows] == ["✓ pass", "✓ pass"]
        assert ("✓ pass", "network exists") == rows[0][:2]
        assert "verified" in shown(app, "#step-heading")
        assert "Private Docker network applied and verified" in notes.text()
        assert app.screen.query_one("#step-tabs").active == "tab-checks"

    drive(engine, scenario, notes=notes)
    assert network in network_names(docker_client)


@pytest.mark.docker
def test_apply_socket_proxy_runs_the_live_probes(tmp_path, unique, images, docker_client):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    engine.apply("private-network")  # the room the proxy stands in, made by the real engine

    async def scenario(app, pilot):
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.screen.running and engine.status("socket-proxy")
                         != Status.PENDING, timeout=120)
        await settle(pilot)
        rows = checks_rows(app)
        assert {r[1]: r[0] for r in rows}["GET /networks -> 403"] == "✓ pass"
        assert all(r[0] == "✓ pass" for r in rows), rows
        assert engine.status("socket-proxy") == Status.VERIFIED

    drive(engine, scenario)
    assert docker_client.containers.get(engine.config.docker.socket_proxy_container).status == "running"


@pytest.mark.docker
def test_cancel_in_the_confirmation_changes_nothing(tmp_path, unique, images, docker_client):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    network = engine.config.docker.private_network
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.running is None
        assert "Nothing was changed." in notes.text()

    drive(engine, scenario, notes=notes)
    assert network not in network_names(docker_client)
    assert engine.status("private-network") == Status.PENDING
    assert engine.state.audit_entries() == []


@pytest.mark.docker
def test_rollback_after_confirming_removes_what_apply_made(tmp_path, unique, images, docker_client):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    network = engine.config.docker.private_network
    assert engine.apply("private-network").ok
    notes = Notes()

    async def scenario(app, pilot):
        assert "verified" in shown(app, "#step-heading")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"Remove the network {network}, which hardstep created" in shown(app, ".plan-summary")
        await pilot.press("y")
        await wait_until(pilot, lambda: engine.status("private-network") == Status.PENDING)
        await settle(pilot)
        assert "pending" in shown(app, "#step-heading")
        assert "rolled back" in notes.text()
        assert f"removed network {network}" in "\n".join(app.screen.query_one("#activity").lines)

    drive(engine, scenario, notes=notes)
    assert network not in network_names(docker_client)


# --- settings -----------------------------------------------------------------------------
def test_settings_show_a_validation_error_and_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)  # this test needs no engine
    engine = wizard_engine(tmp_path, {"docker": {"private_network": "private"}})
    before = engine.config.path.read_bytes()
    config_before = engine.config
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("s")
        assert isinstance(app.screen, SettingsScreen)
        box = app.screen.query_one("#field-docker-private-network")
        box.focus()
        box.value = ""
        await pilot.press(*"bad name!")
        await pilot.pause()
        error = shown(app, "#field-docker-private-network-error")
        assert "[docker] private_network = 'bad name!' is not a valid Docker name" in error
        assert box.has_class("-invalid")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)  # still open: nothing was saved
        assert "Nothing was saved" in notes.text()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)

    drive(engine, scenario, notes=notes)
    assert engine.config.path.read_bytes() == before
    assert engine.config is config_before


def test_save_with_an_invalid_field_on_another_tab_shows_that_tab_and_field(tmp_path, monkeypatch):
    """Sections are tabs: Save must not fail on a field the user cannot see."""
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        await pilot.press("s")
        form = app.screen.query_one(TabbedContent)
        assert form.active == "section-docker"
        app.screen.query_one("#field-acme-email", Input).value = "not an address"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert form.active == "section-acme"
        assert app.screen.focused.id == "field-acme-email"

    drive(engine, scenario)


def test_settings_save_writes_the_file_and_gives_the_engine_the_new_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path, {"docker": {"private_network": "private"}})

    async def scenario(app, pilot):
        await pilot.press("s")
        box = app.screen.query_one("#field-docker-private-network")
        box.focus()
        box.value = ""
        await pilot.press(*"backstage", "enter")  # Enter checks the field and moves on
        assert app.screen.focused.id == "field-docker-socket-proxy-container"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

    drive(engine, scenario)
    assert engine.config.docker.private_network == "backstage"
    assert engine.config.exists
    assert 'private_network = "backstage"' in engine.config.path.read_text()


def test_settings_form_pins_names_for_the_checks(tmp_path, monkeypatch):
    """[checks] resolve is a comma-separated field; a bad entry is named, a saved one pins at once."""
    from app.net import pins

    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)

    async def scenario():
        app = quiet_app(engine)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("s")
            app.screen.query_one(TabbedContent).active = "section-checks"
            await settle(pilot)
            box = app.screen.query_one("#field-checks-resolve", Input)
            box.focus()
            await pilot.press(*"matrix.hslab.test=127.0.0.1, turn.hslab.test")
            await pilot.pause()
            assert "has entry 'turn.hslab.test' without '='" in shown(app, "#field-checks-resolve-error")
            await pilot.press(*"=::1")
            await pilot.pause()
            assert not box.has_class("-invalid")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

    try:
        asyncio.run(scenario())
        assert engine.config.checks.resolve == ["matrix.hslab.test=127.0.0.1", "turn.hslab.test=::1"]
        assert (pins.address("matrix.hslab.test"), pins.address("turn.hslab.test")) == ("127.0.0.1", "::1")
        assert 'resolve = ["matrix.hslab.test=127.0.0.1", "turn.hslab.test=::1"]' in engine.config.path.read_text()
    finally:
        pins.configure([])


# --- first run ----------------------------------------------------------------------------
@pytest.mark.docker
def test_first_run_welcomes_detects_the_host_and_continues(tmp_path, unique, images):
    engine = wizard_engine(tmp_path, write_config=False)
    engine.config = engine.config.with_value("docker", "private_network", unique("private"))

    async def scenario(app, pilot):
        assert isinstance(app.screen, WelcomeScreen)
        host = shown(app, "#welcome-host")
        assert "Debian GNU/Linux 12" in host
        assert "reachable, version" in host
        assert f"{engine.config.docker.private_network} (not found)" in host
        await pilot.press("s")
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)

    drive(engine, scenario)
    assert not engine.config.path.exists()  # continuing writes nothing


# --- Docker unreachable -------------------------------------------------------------------
def test_docker_unreachable_shows_the_banner_and_docker_steps_refuse(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    register_file_step(monkeypatch)
    engine = wizard_engine(tmp_path)
    notes = Notes()

    async def scenario(app, pilot):
        banner = app.screen.query_one("#docker-banner")
        assert banner.display
        assert "Docker engine unreachable" in str(banner.content)
        assert "systemctl start docker" in str(banner.content)
        for key in ("a", "v", "r"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
        refusals = [m for s, m in notes.messages if "needs Docker" in m]
        assert len(refusals) == 3
        assert "Docker is unreachable" in shown(app, "#step-heading")
        # A step that only edits files still applies.
        app.screen.select_step(FileStandInStep.id)
        await settle(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: engine.status(FileStandInStep.id) == Status.VERIFIED)

    drive(engine, scenario, notes=notes)
    assert engine.status("private-network") == Status.PENDING
    assert (engine.host.root / "etc/hardstep-standin.conf").read_text() == FileStandInStep.WANTED


# --- failures become messages -------------------------------------------------------------
def test_a_failing_worker_becomes_a_message_not_a_crash(tmp_path, monkeypatch):
    register_file_step(monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)
    notes = Notes()

    def broken_check(step_id, after_apply=False):
        raise RuntimeError("the state disk went away")

    monkeypatch.setattr(engine, "check", broken_check)

    async def scenario(app, pilot):
        app.screen.select_step(FileStandInStep.id)
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, MainScreen)
        errors = [m for s, m in notes.messages if s == "error"]
        assert any("The checks failed: RuntimeError: the state disk went away" in m for m in errors)
        assert app.screen.running is None  # the next action is not blocked
        assert "the state disk went away" in "\n".join(app.screen.query_one("#activity").lines)

    drive(engine, scenario, notes=notes)


# --- palette, progress, quit --------------------------------------------------------------
def test_the_command_palette_selects_a_step(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.press(*"go to docker socket")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert "Docker socket proxy" in shown(app, "#step-heading")

    drive(engine, scenario)


def test_progress_events_coalesce_and_fill_the_bar(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)
    early = StepEvent(Event("socket-proxy", "pull: Downloading", 0.2))
    assert early.can_replace(StepEvent(Event("socket-proxy", "pull: Downloading", 0.3)))
    assert not early.can_replace(StepEvent(Event("socket-proxy", "pulled", 1.0)))
    assert not StepEvent(Event("socket-proxy", "a log line")).can_replace(early)

    async def scenario(app, pilot):
        screen = app.screen
        for n in range(1, 500):  # a fast producer, like an image pull
            screen.reporter(Event("socket-proxy", f"pull: Downloading {n}", n / 500))
        await pilot.pause()
        bar = screen.query_one("#progress-bar")
        assert bar.display and bar.progress == pytest.approx(99.8)
        log = screen.query_one("#activity").lines
        assert not any("Downloading" in line for line in log)  # progress is not logged
        screen.reporter(Event("socket-proxy", "pulled the image", 1.0))
        await pilot.pause()
        assert not bar.display
        assert "  pulled the image" in screen.query_one("#activity").lines

    drive(engine, scenario)


def test_q_quits(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(engine, scenario)


def test_settings_that_cannot_be_written_leave_the_engine_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path, {"docker": {"private_network": "private"}})
    blocked = tmp_path / "a-directory"
    blocked.mkdir()
    engine.config = engine.config.__class__(engine.config.to_dict(), path=blocked, exists=True)
    config_before = engine.config
    notes = Notes()

    async def scenario(app, pilot):
        await pilot.press("s")
        box = app.screen.query_one("#field-docker-private-network")
        box.value = "backstage"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)  # still open, the input kept
        assert app.screen.query_one("#field-docker-private-network").value == "backstage"
        assert "Saving the settings failed: config: cannot read" in notes.text()
        assert not app.screen.query_one("#settings-save").disabled

    drive(engine, scenario, notes=notes)
    assert engine.config is config_before


def test_plan_options_are_ticked_in_the_plan_and_saved_as_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    register_file_step(monkeypatch)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        app.screen.select_step(FileStandInStep.id)
        await settle(pilot)
        await pilot.press("2")
        assert "! Warning: registration stays open" in shown(app, "#plan-message")
        assert "registration = closed" not in shown(app, ".plan-diff")
        box = app.screen.query_one("#plan-options Checkbox")
        assert str(box.label) == "disable_registration: no"
        box.focus()
        await pilot.press("space")
        await wait_until(pilot, lambda: engine.config.synapse.disable_registration)
        await settle(pilot)
        assert str(app.screen.query_one("#plan-options Checkbox").label) == "disable_registration: yes"
        assert app.screen.focused is app.screen.query_one("#plan-options Checkbox")
        assert "Warning" not in shown(app, "#plan-message")
        assert "+registration = closed" in shown(app, ".plan-diff")

    drive(engine, scenario)
    assert "disable_registration = true" in engine.config.path.read_text()


def test_the_wizard_imports_no_heavy_library_at_start_up():
    """Docker's SDK, the YAML and TOML libraries, httpx and the Markdown parser load when first
    needed (in workers, or with the first explanation), never with the screens."""
    import subprocess
    import sys

    code = ("import sys, screens.app, screens.main, screens.welcome, screens.settings, screens.dialogs, "
            "screens.palette; print(sorted(m for m in ('docker', 'ruamel', 'httpx', 'tomlkit', "
            "'markdown_it') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_failed_host_detection_is_a_message_on_the_welcome_screen(tmp_path, monkeypatch):
    from app.host import detect

    def broken(host, config):
        raise RuntimeError("os-release unreadable")

    monkeypatch.setattr(detect, "detect", broken)
    engine = wizard_engine(tmp_path, write_config=False)

    async def scenario(app, pilot):
        assert isinstance(app.screen, WelcomeScreen)
        host = shown(app, "#welcome-host")
        assert "Looking at this host failed: RuntimeError: os-release unreadable" in host
        assert "You can still review the settings and continue" in host
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)

    drive(engine, scenario)


def test_the_palette_runs_a_steps_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    register_file_step(monkeypatch)
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        await pilot.press("ctrl+p", *"check file stand")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await wait_until(pilot, lambda: engine.state.checks(FileStandInStep.id))
        await settle(pilot)
        assert "File stand-in step" in shown(app, "#step-heading")
        assert [r[:2] for r in checks_rows(app)] == [("✗ fail", "file says hardened")]

    drive(engine, scenario)


def test_q_while_a_step_runs_asks_for_a_second_q(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path)
    notes = Notes()

    async def scenario(app, pilot):
        app.screen.running = "private-network"  # as if an apply were under way
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running
        assert "Press q again to quit anyway" in notes.text()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(engine, scenario, notes=notes)


def test_settings_text_round_trips_every_kind_of_value():
    """What the form shows for a value reads back as the same value; bad text names the key."""
    from app.config.settings import FIELDS, ConfigError, check_value, field
    from screens.settings import as_text, from_text

    samples = {"argv": ["systemctl", "restart", "docker engine"], "hostnames": ["a.example.org", "b.example.org"],
               "pins": ["matrix.example.com=203.0.113.7", "turn.example.com=2001:db8::7"]}
    for spec in FIELDS:
        if isinstance(spec.default, bool):
            continue  # a checkbox, not text
        value = samples.get(spec.kind, spec.default)
        assert check_value(spec.section, spec.key, from_text(spec, as_text(spec, value))) == value, spec.name
    with pytest.raises(ConfigError, match=r"\[synapse\] restart_timeout = 'many' is not a whole number"):
        from_text(field("synapse", "restart_timeout"), "many")
    with pytest.raises(ConfigError, match=r"\[synapse\] federation_whitelist = .* must list host names"):
        check_value("synapse", "federation_whitelist", from_text(field("synapse", "federation_whitelist"),
                                                                 "a.example.org, not a host"))
    argv = [spec for spec in FIELDS if spec.kind == "argv"]
    for spec in argv:  # commands are shell-quoted text in the form
        with pytest.raises(ConfigError, match=rf"{re.escape(spec.name)} = .* is not a command"):
            from_text(spec, "systemctl restart 'docker")
