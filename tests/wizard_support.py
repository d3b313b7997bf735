"""Helpers for the wizard's Pilot and snapshot tests.

Engines are built the way the command line builds them (``app.cli.make_engine``) from a config
file written with ``app.config.settings.save_config``, so the wizard under test runs on the real core.
The one stand-in is ``FixedDockerHost``, used where the real engine would put a version string
on screen that differs between machines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.engine.actions import EditFile
from app.assets import read_asset
from app.cli import make_engine
from app.config.settings import Config, save_config
from app.engine.runner import Engine
from app.host import LocalHost
from app.engine.model import Applicability, CheckResult, Status
from app.steps.base import Step
from screens.app import HardstepApp
from tests.first_frame import probe, wizard

FIXED_AT = "2026-01-01T00:00:00+00:00"
FIXED_DOCKER_VERSION = "20.10.24"
SIZE = (80, 24)


class FixedDockerHost(LocalHost):
    """Stand-in for snapshots only: the real LocalHost, except that it reports a fixed Docker engine
    version (``FIXED_DOCKER_VERSION``) so pictures do not change from one machine to the next.
    It still connects to the real engine, so an unreachable engine is still reported as such."""

    def docker_version(self) -> str:
        self.docker  # connect (or raise DockerUnavailable) exactly like the real LocalHost
        return FIXED_DOCKER_VERSION


def make_root(tmp_path: Path) -> Path:
    """A host root with the practice lab's os-release (Debian 12), so detection is stable."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "os-release").write_text(read_asset("lab", "os-release"), encoding="utf-8")
    return root


def wizard_engine(tmp_path: Path, values: dict[str, dict[str, Any]] | None = None, *,
                  write_config: bool = True, fixed_docker: bool = False) -> Engine:
    """An engine on ``tmp_path`` like ``hardstep --root --config --state-dir`` builds it.

    ``write_config=False`` leaves the settings file absent: the wizard's first run.
    """
    root = make_root(tmp_path)
    config_path = tmp_path / "config.toml"
    if write_config:
        save_config(Config(values or {}), config_path)
    engine = make_engine(root, config_path, tmp_path / "state")
    if fixed_docker:
        engine.host = FixedDockerHost(root)
    return engine


# What tests/test_startup.py and tests/test_package.py read at the wizard's first frame, started
# as a user starts it (tests/first_frame.py): how many garbage collections (and full ones) ran
# from the moment Textual started loading, the names its stylesheet's rules select, then, on the
# last line, its modules. No worker has started by then.
LOADED_AT_FIRST_FRAME = """
import gc, json

collected = []


def textual_loads():
    gc.callbacks.append(lambda phase, info: collected.append(info["generation"]) if phase == "start" else None)


def on_first_frame(app, screen):
    selected = sorted({name for rule in app.stylesheet.rules for name in rule.selector_names})
    print(json.dumps({"collections": len(collected), "full_collections": collected.count(2),
                      "selected": selected}), flush=True)
    print(json.dumps(sorted(sys.modules)), flush=True)
    os._exit(0)
"""


def first_frame_script(home: Path) -> str:
    """A child script that starts the wizard on ``home`` and prints what ``LOADED_AT_FIRST_FRAME`` says."""
    return probe(LOADED_AT_FIRST_FRAME) + wizard(home)


# Fixed names for snapshots: they must be the same on every machine, and no real stack uses them.
SNAPSHOT_VALUES = {
    "docker": {"private_network": "hssnap-private", "socket_proxy_container": "hssnap-dockerproxy",
               "socket_proxy_image": "hardstep-test/socket-proxy:2", "probe_image": "hardstep-test/busybox:1"},
    "traefik": {"container": "hssnap-traefik", "web_network": "hssnap-web"},
    "synapse": {"container": "hssnap-synapse"},
    "turn": {"container": "hssnap-coturn"},
}


def seed(engine: Engine, step_id: str, status: Status, checks: list[tuple[str, bool | None, str]] = (),
         error: str | None = None) -> None:
    """Put a step in ``status`` with the given last checks, all stamped ``FIXED_AT``."""
    results = [CheckResult(step_id, name, ok, detail, at=FIXED_AT) for name, ok, detail in checks]
    engine.state.update_step(step_id, status=status.value, error=error,
                             checks=[r.to_json() for r in results])


def not_applicable(engine: Engine, step_id: str, reason: str) -> None:
    """Stand-in for a step that does not apply to this host (no real step refuses a Debian host
    yet): this engine's instance of the step reports ``reason`` from ``applicable``."""
    engine.step(step_id).applicable = lambda host: Applicability(False, reason)


def quiet_app(engine: Engine) -> HardstepApp:
    """The wizard with animations off, as the snapshot suite of Textual itself runs."""
    app = HardstepApp(engine)
    app.animation_level = "none"
    return app


def drive(engine: Engine, scenario, *, size: tuple[int, int] = SIZE, notes: "Notes | None" = None) -> None:
    """Open the wizard on ``engine`` headless (animations off), let its start-up work finish, then
    ``await scenario(app, pilot)``: the frame every wizard test shares. ``notes`` keeps the
    notifications it posts."""
    import asyncio

    async def run() -> None:
        app = quiet_app(engine)
        async with app.run_test(size=size, message_hook=notes) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(run())


async def settle(pilot) -> None:
    """Let every worker finish and the screen catch up with what they posted: three rounds at
    least, then until two rounds in a row find no worker running and the main screen done
    loading (its start-up work runs after the first frame, so a fixed number of rounds falls
    short on a busy machine)."""
    app = pilot.app
    quiet = 0
    for rounds in range(1, 201):
        await app.workers.wait_for_complete()
        await pilot.pause()
        busy = any(not worker.is_finished for worker in app.workers) or getattr(app.screen, "loaded", True) is False
        quiet = 0 if busy else quiet + 1
        if rounds >= 3 and quiet >= 2:
            return
    raise AssertionError("the wizard did not settle: its workers kept running")


async def wait_until(pilot, condition, timeout: float = 60.0) -> None:
    """Pause until ``condition()`` holds (workers that chain screens need several rounds)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


class Notes:
    """A ``run_test(message_hook=...)`` that keeps every notification the wizard posts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (severity, message)

    def __call__(self, message) -> None:
        from textual.notifications import Notify

        if isinstance(message, Notify):
            self.messages.append((message.notification.severity, message.notification.message))

    def text(self) -> str:
        return "\n".join(message for _, message in self.messages)


def shown(app, selector: str) -> str:
    """The plain text of every Static matching ``selector`` on the current screen, joined."""
    from textual.widgets import Static

    return "\n".join(str(w.content) for w in app.screen.query(selector) if isinstance(w, Static))


class FileStandInStep(Step):
    """Stand-in for a file step (the registry has none yet): writes one line into
    ``/etc/hardstep-standin.conf`` under the host root. Only tests that need a step without
    Docker register it, through ``register_file_step``."""

    id = "file-standin"
    title = "File stand-in step"
    uses_docker = False
    options = (("synapse", "disable_registration"),)
    PATH = "/etc/hardstep-standin.conf"
    WANTED = "hardened = true\n"

    def wanted(self, config) -> str:
        return self.WANTED + ("registration = closed\n" if config.synapse.disable_registration else "")

    def explanation(self) -> str:
        return "# File stand-in step\n\nA test step that only edits a file."

    def plan(self, host, config):
        current = host.read_text(self.PATH)
        wanted = self.wanted(config)
        return [] if current == wanted else [EditFile(self.PATH, current, wanted)]

    def notes(self, host, config):
        return [] if config.synapse.disable_registration else ["registration stays open"]

    def validate(self, host, config):
        ok = host.read_text(self.PATH) == self.wanted(config)
        return [self.check("file says hardened", ok, "hardened = true" if ok else "not yet")]


def register_file_step(monkeypatch) -> None:
    """Add ``FileStandInStep`` after the real steps for this test only."""
    from app import steps

    monkeypatch.setitem(steps.REGISTRY, FileStandInStep.id, ("tests.wizard_support", "FileStandInStep"))
