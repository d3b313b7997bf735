"""Snapshots of every wizard screen and step state at 80x24.

Pictures must not change between machines: names are fixed (``SNAPSHOT_VALUES``, objects no
real stack has), timestamps are ``FIXED_AT``, the Docker version comes from ``FixedDockerHost``,
and the unreachable-engine pictures point ``DOCKER_HOST`` at a socket that does not exist.
Animations are off and text cursors do not blink. The step list is pinned to the first two
real steps, so a step added to the registry later does not redraw every picture.

Update with ``pytest tests/test_snapshots.py --snapshot-update``, then look at every SVG.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from app.config.settings import Config
from app.engine.model import Status
from tests.wizard_support import (SIZE, SNAPSHOT_VALUES, not_applicable, quiet_app, seed, settle,
                                  wizard_engine)

UNREACHABLE = "unix:///nonexistent.sock"
PRIVATE = "private-network"
PASSING = [("network exists", True, "hssnap-private (3f2a9c1b7d4e)"),
           ("bridge driver", True, "driver is bridge")]


@pytest.fixture(autouse=True)
def pinned_steps(monkeypatch):
    """Only ``private-network`` and ``socket-proxy``, the steps these pictures were drawn with."""
    from app import steps

    monkeypatch.setattr(steps, "REGISTRY", {k: steps.REGISTRY[k] for k in ("private-network", "socket-proxy")})


def keys(*pressed: str):
    """A ``run_before`` that lets the workers finish, presses ``pressed``, and settles again."""
    async def run_before(pilot) -> None:
        await settle(pilot)
        if pressed:
            await pilot.press(*pressed)
            await settle(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
    return run_before


def main_app(tmp_path, state: Status | None = None, **seeded):
    engine = wizard_engine(tmp_path, SNAPSHOT_VALUES, fixed_docker=True)
    if state is not None:
        seed(engine, PRIVATE, state, **seeded)
    return engine, quiet_app(engine)


# --- first run ----------------------------------------------------------------------------
@pytest.mark.docker
def test_welcome_screen(tmp_path, snap_compare):
    """First run: the detected OS and Docker version, the configured objects (none exist)."""
    engine = wizard_engine(tmp_path, write_config=False, fixed_docker=True)
    engine.config = Config(SNAPSHOT_VALUES, path=engine.config.path, exists=False)
    assert snap_compare(quiet_app(engine), terminal_size=SIZE, run_before=keys())


# --- the main screen in every step state --------------------------------------------------
@pytest.mark.docker
def test_main_pending(tmp_path, snap_compare):
    """Nothing done yet: the first step selected, its explanation on the Why tab."""
    _, app = main_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


@pytest.mark.docker
def test_main_pending_plan(tmp_path, snap_compare):
    """The Plan tab of a pending step: the change, the equivalent docker command."""
    _, app = main_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("2"))


@pytest.mark.docker
def test_main_applied(tmp_path, snap_compare):
    """Applied but never checked (the checks were interrupted): the table asks for v."""
    _, app = main_app(tmp_path, Status.APPLIED)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


@pytest.mark.docker
def test_main_verified(tmp_path, snap_compare):
    """Verified: every check passes, with its evidence and the time of the run."""
    _, app = main_app(tmp_path, Status.VERIFIED, checks=PASSING)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


@pytest.mark.docker
def test_main_failed(tmp_path, snap_compare):
    """Failed: the last error under the title, the failing check in the table."""
    _, app = main_app(tmp_path, Status.FAILED,
                      checks=[("network exists", False, "no network named hssnap-private")],
                      error="APIError: network with name hssnap-private already exists")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


@pytest.mark.docker
def test_main_not_applicable(tmp_path, snap_compare):
    """Not applicable: the step says why on its Plan tab; the check is skipped. The wizard
    starts on the first step that applies, so the user goes back up to this one (home)."""
    engine, app = main_app(tmp_path, Status.NOT_APPLICABLE,
                           checks=[("applicable", None, "not applicable: no Docker bridge driver here")])
    not_applicable(engine, PRIVATE, "no Docker bridge driver here")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("home", "2"))


@pytest.mark.docker
def test_main_drifted(tmp_path, snap_compare):
    """Drifted: verified once, now a check fails."""
    _, app = main_app(tmp_path, Status.DRIFTED,
                      checks=[("network exists", True, "hssnap-private (3f2a9c1b7d4e)"),
                              ("bridge driver", False, "driver is macvlan")])
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


# --- dialogs and forms --------------------------------------------------------------------
@pytest.mark.docker
def test_confirm_apply_dialog(tmp_path, snap_compare):
    """Pressing a: the plan in a dialog; Cancel has the focus."""
    _, app = main_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("a"))


# The settings form draws every field of app.config.settings.FIELDS, which grows with the steps; the
# picture is of these, so a new setting does not redraw it.
FORM_FIELDS = [("docker", "private_network"), ("docker", "socket_proxy_container"),
               ("docker", "socket_proxy_image"), ("docker", "probe_image"), ("docker", "socket"),
               ("traefik", "container"), ("traefik", "web_network"), ("synapse", "disable_registration")]


def test_settings_with_a_validation_error(tmp_path, snap_compare, monkeypatch):
    """The settings form with an invalid network name: the error sits under the field."""
    from app.config import settings as config

    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)  # the form needs no engine
    engine = wizard_engine(tmp_path, SNAPSHOT_VALUES)
    monkeypatch.setattr(config, "FIELDS", tuple(config.field(*key) for key in FORM_FIELDS))

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        box = pilot.app.screen.query_one("#field-docker-private-network", Input)
        box.focus()
        box.value = "my network!"
        await settle(pilot)

    assert snap_compare(quiet_app(engine), terminal_size=SIZE, run_before=run_before)


# --- Docker unreachable -------------------------------------------------------------------
def test_docker_unreachable_banner(tmp_path, snap_compare, monkeypatch):
    """No engine: the banner says so and what to do; the plan says why there is none."""
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    engine = wizard_engine(tmp_path, SNAPSHOT_VALUES)
    assert snap_compare(quiet_app(engine), terminal_size=SIZE, run_before=keys("2"))


def test_docker_unreachable_banner_no_color(tmp_path, snap_compare, monkeypatch):
    """The same with NO_COLOR: Textual draws monochrome, and every state still reads."""
    monkeypatch.setenv("DOCKER_HOST", UNREACHABLE)
    monkeypatch.setenv("NO_COLOR", "1")
    engine = wizard_engine(tmp_path, SNAPSHOT_VALUES)
    seed(engine, PRIVATE, Status.DRIFTED, checks=[("network exists", True, "hssnap-private (3f2a9c1b7d4e)"),
                                                 ("bridge driver", False, "driver is macvlan")])
    assert snap_compare(quiet_app(engine), terminal_size=SIZE, run_before=keys("3"))
