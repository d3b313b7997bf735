"""Shown at start when an apply was interrupted (a crash, a closed SSH session, a reboot): which
action was in flight, whether it completed (re-checked in a worker), and Continue / Roll back / Later.

Continue applies what a fresh plan says is left; Roll back undoes every recorded change of the
step, the interrupted action's included; Later leaves everything as it is (the main screen and
``hardstep resume`` offer it again). The dialog answers with the messages to show, or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from app.engine.model import Event
from screens import jobs
from screens.base import EngineScreen
from screens.widgets.activity import StepEvent

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.engine.resume import Interrupted

Messages = list[tuple[str, str]]  # (message, severity)

INTRO = ("hardstep stopped while it was changing this host (a crash, a closed SSH session or a "
         "reboot). Every backup and undo record was kept.")


def item_content(item: "Interrupted", undo_count: int | None) -> Content:
    """One interrupted step: what was running, since when, and what the re-check found."""
    if item.detail == "not re-checked yet":
        found = Content.styled("re-checking…", "$foreground-muted")
    elif item.completed is None:
        found = Content.assemble(("? ", "$text-warning"), item.detail)
    else:
        found = Content.assemble(("✓ yes: " if item.completed else "✗ no: ",
                                  "$text-success" if item.completed else "$text-warning"), item.detail)
    lines = [Content.assemble((item.title, "bold"), (f" · {item.step}", "$foreground-muted")),
             Content.assemble(("Action      ", "bold"), f"{item.summary} (change {item.index + 1})"),
             Content.assemble(("Started     ", "bold"), item.started),
             Content.assemble(("Completed?  ", "bold"), found)]
    lines += [Content.assemble(("Left        ", "bold"), summary) for summary in item.remaining]
    if undo_count is not None:
        lines.append(Content.assemble(("Roll back   ", "bold"), f"undoes {undo_count} recorded change(s)"))
    return Content("\n").join(lines)


class ResumeScreen(EngineScreen[Messages | None], ModalScreen[Messages | None]):
    """Later has the focus: an absent-minded Enter changes nothing."""

    BINDINGS = [
        Binding("c", "resume('continue')", "Continue"),
        Binding("r", "resume('rollback')", "Roll back"),
        Binding("l,escape", "later", "Later"),
    ]
    WHAT = {"recheck": "Re-checking", "continue": "Continuing", "rollback": "Rolling back"}
    DEFAULT_CSS = """
    ResumeScreen { align: center middle; background: $background 60%; }  /* EngineScreen comes first in the MRO */
    #resume-dialog { width: 76; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
                     border: thick $warning; background: $surface; }
    #resume-title { text-style: bold; height: auto; }
    #resume-intro, #resume-status { height: auto; }
    #resume-items { height: auto; max-height: 12; }
    .resume-item { height: auto; margin: 1 0 0 0; }
    #resume-status { margin: 1 0 0 0; }
    #resume-buttons { height: auto; align-horizontal: right; margin: 1 0 0 0; }
    #resume-buttons Button { margin: 0 0 0 2; }
    """

    def __init__(self, engine: "Engine", items: list["Interrupted"]) -> None:
        super().__init__(engine)
        self.items = items
        self.busy: str | None = "recheck"
        self.handlers = {"recheck": self._rechecked, "continue": self._done, "rollback": self._done}

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-dialog"):
            yield Static("An apply was interrupted", id="resume-title")
            yield Static(INTRO, id="resume-intro")
            with VerticalScroll(id="resume-items"):
                for item in self.items:
                    yield Static(item_content(item, None), id=f"resume-{item.step}", classes="resume-item")
            yield Static("Re-checking what is left to do…", id="resume-status")
            with Horizontal(id="resume-buttons"):
                yield Button("Continue (c)", id="resume-continue", variant="warning", disabled=True)
                yield Button("Roll back (r)", id="resume-rollback", variant="warning", disabled=True)
                yield Button("Later (l)", id="resume-later", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#resume-later", Button).focus()
        self.run_job("recheck", jobs.recheck_interrupted, self.items)

    # --- workers ---------------------------------------------------------------------------
    def _rechecked(self, results: list[tuple["Interrupted", int]]) -> None:
        self.busy = None
        for item, undo_count in results:
            self.query_one(f"#resume-{item.step}", Static).update(item_content(item, undo_count))
        self._status("Continue applies what is left, then runs the checks; Roll back undoes it all.")
        self._enable(True)

    def _done(self, messages: Messages) -> None:
        self.dismiss(messages)

    def job_failed(self, name: str, error: BaseException | None) -> None:
        self.busy = None
        self._status(Content.styled(self.failure_text(name, error) + " Nothing else was changed.", "$text-error"))
        self._enable(True)  # after a failed re-check the user may still roll back

    def on_step_event(self, message: StepEvent) -> None:
        self._status(message.event.message)

    # --- buttons ---------------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "resume-later":
            self.action_later()
        else:
            self.action_resume(event.button.id.removeprefix("resume-"))

    def action_resume(self, how: str) -> None:
        if self.busy:
            return  # keys work once the re-check has answered, and once only
        self.busy = how
        self._enable(False)
        self._status("Continuing…" if how == "continue" else "Rolling back…")
        self.run_job(how, jobs.resume_steps, [item.step for item in self.items], how, self._report)

    def action_later(self) -> None:
        if self.busy in ("continue", "rollback"):
            return  # the host is changing: the answer comes when it is done
        self.dismiss(None)

    def _report(self, event: Event) -> None:
        """The engine's progress callback; runs in the worker thread (post_message is thread-safe)."""
        self.post_message(StepEvent(event))

    def _status(self, text: str | Content) -> None:
        self.query_one("#resume-status", Static).update(text)

    def _enable(self, on: bool) -> None:
        for button in ("#resume-continue", "#resume-rollback"):
            self.query_one(button, Button).disabled = not on


class ResumeOffer:
    """Mixed into ``MainScreen``: open the resume dialog once per start when the saved state
    names an action in flight, and export the whole-host report (key e, palette)."""

    engine: "Engine"
    steps: dict
    states: dict[str, jobs.StepState]
    plans: dict
    _resume_offered: bool = False  # the dialog opens once per start

    def _offer_resume(self) -> None:
        """An apply was killed mid-way: say so first, before anything else can run."""
        from app.engine.resume import Interrupted

        flights = {step_id: state.in_flight for step_id, state in self.states.items() if state.in_flight}
        if self._resume_offered or not flights:
            return
        self._resume_offered = True
        items = [Interrupted(step_id, self.steps[step_id].title, str(f.get("summary", "?")),
                             int(f.get("index", 0)), str(f.get("started", "unknown")))
                 for step_id, f in flights.items() if step_id in self.steps]
        self.app.push_screen(ResumeScreen(self.engine, items), self._resumed)

    def _resumed(self, messages: Messages | None) -> None:
        if messages is None:
            self.notify("Left as it is: hardstep resume (or the next start) offers it again.")
            return
        for message, severity in messages:
            self.notify(message, severity=severity, timeout=8)
        self.plans.clear()
        self.run_job("states", jobs.read_states)  # the step list and heading catch up
        if self.selected:
            self.show_step(self.selected.id)

    def action_export_report(self) -> None:
        self.run_job("report", jobs.export_report, exclusive=True)

    def _report_written(self, path) -> None:
        self.notify(f"Report written to {path} (Markdown, secrets redacted). hardstep report "
                    "--format html or json writes the others.", timeout=10)
