"""The first-run screen: what hardstep found on this host, and the way to the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Footer, Static

from app.assets import asset_path
from screens import jobs
from screens.base import EngineScreen

if TYPE_CHECKING:
    from app.host.detect import HostReport
    from app.engine.runner import Engine

INTRO = ("hardstep hardens this Docker host one step at a time and proves every step with live "
         "checks. Nothing changes until you have read a step's plan and confirmed it.")

FIRST_SETTINGS = ("There is no settings file yet, so hardstep uses its defaults. Review them now: the names of "
                  "your containers and networks matter.")
LAB_SETTINGS = ("The lab's settings are ready: they name the hslab- containers, aim hardstep at the lab's engine "
                "and let the checks reach the lab's names. Review them if you like, then continue.")


def found(names: dict[str, bool]) -> list[Content]:
    return [Content.assemble(("✓ ", "$text-success"), name) if exists
            else Content.assemble(("✗ ", "$text-warning"), name, (" (not found)", "$foreground-muted"))
            for name, exists in names.items()]


def report_content(report: "HostReport") -> Content:
    """The detection as label/value lines, one configured object per line."""
    rows: list[tuple[str, list[Content]]] = [
        ("Operating system", [Content(f"{report.os_name} {report.os_version}".strip())]),
        ("Docker engine", [Content.assemble(("✓ ", "$text-success"), f"reachable, version {report.docker}")
                           if report.docker_ok else
                           Content.assemble(("✗ unreachable: ", "$text-error"), report.docker)]),
    ]
    if report.docker_ok:
        rows += [("Containers", found(report.containers)), ("Networks", found(report.networks))]
    lines: list[Content] = []
    for label, values in rows:
        for index, value in enumerate(values):
            lines.append(Content.assemble((f"{label if index == 0 else '':<18}", "bold"), value))
    return Content("\n").join(lines)


class WelcomeScreen(EngineScreen[None]):
    """Detects the host in a worker, offers the settings form, then hands over to the main screen."""

    CSS_PATH = str(asset_path("settings.tcss"))  # shared with the settings screen
    BINDINGS = [
        Binding("s", "settings", "Settings"),
        Binding("c", "continue", "Continue"),
        Binding("q", "app.quit", "Quit"),
    ]

    WHAT = {"detect": "Looking at this host"}

    def __init__(self, engine: "Engine") -> None:
        super().__init__(engine)
        self.handlers = {"detect": self._detected}

    def compose(self) -> ComposeResult:
        from app.lab.guard import is_lab_config
        from app.lab.stack import ABOUT

        lab = is_lab_config(self.engine.config)
        if self.engine.host.remote:  # its module only then: the report's text loads with it
            from screens.widgets.host_line import HostLine

            yield HostLine(self.engine.host)
        with VerticalScroll(id="welcome"):
            yield Static("Welcome to hardstep's practice lab" if lab else "Welcome to hardstep", id="welcome-title")
            yield Static(INTRO, id="welcome-intro")
            if lab:
                yield Static("Practice lab", classes="welcome-heading")
                yield Static(ABOUT, id="welcome-lab")
            yield Static("This host", classes="welcome-heading")
            yield Static("Looking at this host…", id="welcome-host")
            yield Static("Settings", classes="welcome-heading")
            yield Static(LAB_SETTINGS if lab else FIRST_SETTINGS, id="welcome-settings")
        with Horizontal(id="welcome-buttons"):
            yield Button("Review settings (s)", id="welcome-review", variant="primary")
            yield Button("Continue (c)", id="welcome-continue")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#welcome-review", Button).focus()
        self.run_job("detect", jobs.detect_host, exclusive=True)

    def _detected(self, report: "HostReport") -> None:
        self.query_one("#welcome-host", Static).update(report_content(report))

    def job_failed(self, name: str, error: BaseException | None) -> None:
        self.query_one("#welcome-host", Static).update(Content.assemble(
            (self.failure_text(name, error), "$text-error"),
            "\nYou can still review the settings and continue; every step looks again."))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "welcome-review":
            self.action_settings()
        elif event.button.id == "welcome-continue":
            self.action_continue()

    def action_settings(self) -> None:
        from screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.engine), self._settings_closed)

    def _settings_closed(self, saved: bool | None) -> None:
        if saved:
            self.query_one("#welcome-settings", Static).update(
                "Settings saved. Press c to continue to the steps.")
            self.query_one("#welcome-continue", Button).focus()
            self.run_job("detect", jobs.detect_host, exclusive=True)  # the names may have changed

    def action_continue(self) -> None:
        self.dismiss(None)
