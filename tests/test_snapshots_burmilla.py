"""Snapshots of the burmilla step on each system it can detect, at 80x24.

The host root gets an os-release fixture (tests/data/os-release) and the stand-in ``ros`` is first
on PATH. Fixed clock, fixed Docker version (``FixedDockerHost``), fixed names, and a Traefik
container name no test creates, so the Traefik check is always "skipped: no container".

Update with ``pytest tests/test_snapshots_burmilla.py --snapshot-update``, then look at every SVG.
"""

from __future__ import annotations

import pytest

from tests.test_burmilla_step import RELEASES, with_standin, write_ros_state
from tests.test_snapshots import keys
from tests.wizard_support import SIZE, SNAPSHOT_VALUES, quiet_app, wizard_engine

pytestmark = pytest.mark.docker
VALUES = {**SNAPSHOT_VALUES, "traefik": {**SNAPSHOT_VALUES["traefik"], "container": "hssnap-burmilla-traefik"}}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    from datetime import datetime, timezone

    from app.engine import model

    monkeypatch.setattr(model, "utcnow", lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(autouse=True)
def pinned_steps(monkeypatch):
    """burmilla, which the wizard walks first, and the step after it."""
    from app import steps

    monkeypatch.setattr(steps, "REGISTRY", {k: steps.REGISTRY[k] for k in ("burmilla", "private-network")})


def burmilla_app(tmp_path, monkeypatch, release: str, check: bool = True, **ros_state):
    engine = wizard_engine(tmp_path, VALUES, fixed_docker=True)
    root = engine.host.root
    (root / "etc" / "os-release").write_text((RELEASES / release).read_text())
    with_standin(monkeypatch, root)
    if ros_state:
        write_ros_state(root, **ros_state)
    if check:
        engine.check("burmilla")
    return quiet_app(engine)


def test_rancheros_plan(tmp_path, monkeypatch, snap_compare):
    """RancherOS 1.5.5 on the ubuntu console: console, channel, pinned upgrade, and the 1.9 note."""
    app = burmilla_app(tmp_path, monkeypatch, "rancheros-1.5.5", check=False, console="ubuntu")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("2"))


def test_rancheros_checks(tmp_path, monkeypatch, snap_compare):
    """RancherOS 1.5.5 checked: the OS check fails and says what is wanted."""
    app = burmilla_app(tmp_path, monkeypatch, "rancheros-1.5.5")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


def test_burmilla_196_verified(tmp_path, monkeypatch, snap_compare):
    """BurmillaOS 1.9.6: already done; every check passes (Traefik skipped: no container)."""
    app = burmilla_app(tmp_path, monkeypatch, "burmillaos-1.9.6")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


def test_burmilla_204_verified(tmp_path, monkeypatch, snap_compare):
    """BurmillaOS 2.0.4 with the 1.9.6 target: past it, and hardstep never downgrades."""
    app = burmilla_app(tmp_path, monkeypatch, "burmillaos-2.0.4")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


@pytest.mark.parametrize("release", ["debian-12", "ubuntu-24.04"])
def test_not_applicable(tmp_path, monkeypatch, snap_compare, release):
    """Debian 12 and Ubuntu 24.04: not applicable, the detected OS named in the reason (the
    wizard starts on the first step that applies: home goes back up to burmilla)."""
    app = burmilla_app(tmp_path, monkeypatch, release)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("home", "2"))
