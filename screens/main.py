"""The main screen: the steps on the left, the selected step on the right.

Every engine call runs in a thread worker (``screens.jobs``). Its result, or its failure, comes
back as ``Worker.StateChanged`` and is drawn here on the UI thread; a failure is a message that
says what to do next, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer

from app.config.settings import field
from app.errors import DockerUnavailable
from app.engine.model import Status
from screens import jobs
from screens.base import EngineScreen
from screens.container_picking import ContainerPicking
from screens.palette import StepCommands
from screens.resume import ResumeOffer
from screens.step_actions import StepActions
from screens.widgets.banner import DockerBanner
from screens.widgets.step_list import StepList
from screens.widgets.step_pane import StepPane

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.steps import StepInfo


class MainScreen(StepActions, ContainerPicking, ResumeOffer, EngineScreen[None]):
    """Walks the user through the steps: read why, review the plan, apply, see the proof.

    This module shows; ``StepActions`` (screens/step_actions.py) changes the host.
    """

    BINDINGS = [
        Binding("a", "apply", "Apply"),
        Binding("v", "validate", "Validate"),
        Binding("r", "rollback", "Rollback"),
        Binding("s", "settings", "Settings"),
        Binding("p", "pick_containers", "Pick containers"),  # steps that pick containers only
        Binding("d", "retry_docker", "Retry"),
        Binding("e", "export_report", "Report", show=False),  # also in the palette
        Binding("q", "quit", "Quit"),
        Binding("1", "tab('why')", "Why", show=False),
        Binding("2", "tab('plan')", "Plan", show=False),
        Binding("3", "tab('checks')", "Checks", show=False),
        Binding("4", "tab('log')", "Log", show=False),
    ]
    COMMANDS = {StepCommands}
    WHAT = {"states": "Reading the saved state", "explain": "Reading the step's explanation",
            "plan": "Planning", "docker": "Asking Docker", "prepare-apply": "Planning",
            "apply": "Apply", "validate": "The checks", "prepare-rollback": "Planning the rollback",
            "rollback": "Rollback", "option": "Saving the option",
            "suggestions": "Listing the running containers", "picked": "Saving the picked containers",
            "report": "Writing the report"}

    def __init__(self, engine: "Engine") -> None:
        super().__init__(engine)
        # From the registry: no step module is imported (a worker does, when one is needed).
        self.steps: dict[str, "StepInfo"] = {step.id: step for step in engine.infos()}
        self.states: dict[str, jobs.StepState] = {}
        self.plans: dict[str, jobs.PlanResult] = {}
        self.docker_ok: bool | None = None  # None until the first answer
        self.running: str | None = None  # the step an apply, validate or rollback holds
        self.busy: str | None = None  # what the heading says while it runs (not while asking)
        self._explanations: dict[str, str] = {}
        self._quit_armed = False
        self.loaded = False  # the hidden tabs are mounted and the selected step is shown
        self.handlers = {
            "states": self._states_loaded, "explain": self._explanation_loaded,
            "plan": self._plan_loaded, "docker": self._docker_answered,
            "prepare-apply": self._confirm_apply, "prepare-rollback": self._confirm_rollback,
            "apply": self._finished, "validate": self._finished, "rollback": self._finished,
            "option": self._option_saved, "suggestions": self._open_picker, "picked": self._picked_saved,
            "report": self._report_written,
        }

    def compose(self) -> ComposeResult:
        if self.engine.host.remote:  # its module only then: the report's text loads with it
            from screens.widgets.host_line import HostLine

            yield HostLine(self.engine.host)
        with Horizontal(id="main-body"):
            yield StepList([(s.id, s.title) for s in self.steps.values()], id="step-list")
            yield StepPane(id="step-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(StepList).border_title = "Steps"
        self.query_one(StepList).focus()
        if self.steps:  # the list starts on the first step: its heading is in the first frame
            self._draw_heading(next(iter(self.steps.values())))
        # The first frame shows the list and the heading; the hidden banner and tabs' widgets (a
        # third of that frame), the explanation, the plan and the workers follow: a step module,
        # the Docker SDK or the Markdown parser imported meanwhile would hold the GIL and delay it.
        self.call_after_refresh(self._load)

    async def _load(self) -> None:
        banner = DockerBanner(id="docker-banner")  # hidden until Docker does not answer
        banner.hide()
        await self.mount(banner, before="#main-body")
        await self.pane.fill()
        self.loaded = True
        if self.selected:  # the first step, or the one highlighted since the first frame
            self.show_step(self.selected.id)
        self.run_job("states", jobs.read_states)
        self.run_job("docker", jobs.docker_status)

    @property
    def pane(self) -> StepPane:
        return self.query_one(StepPane)

    # --- workers ---------------------------------------------------------------------------
    def job_ended(self, name: str, succeeded: bool) -> None:
        if name in self.OPERATIONS and not succeeded:
            self._release()
        if name == "option" and not succeeded and self.selected:
            self.show_step(self.selected.id)  # the boxes go back to what the file says

    def job_failed(self, name: str, error: BaseException | None) -> None:
        if isinstance(error, DockerUnavailable):
            self._docker_answered((False, str(error)))
            self.notify(f"{self.WHAT[name]} stopped: {error}", severity="error", timeout=10)
            return
        message = self.failure_text(name, error)
        self.pane.activity.finish(f"✗ {message}")
        self.notify(message + " Nothing else was changed; see the Log tab (4), fix the cause and try again.",
                    severity="error", timeout=10)

    # --- selection -------------------------------------------------------------------------
    @property
    def selected(self) -> "StepInfo | None":
        step_id = self.query_one(StepList).selected_id
        return self.steps.get(step_id) if step_id else None

    def on_step_list_highlighted(self, event: StepList.Highlighted) -> None:
        if event.step_id in self.steps:
            self.show_step(event.step_id)

    def select_step(self, step_id: str) -> None:
        """Select a step from elsewhere (the command palette)."""
        self.query_one(StepList).select(step_id)

    def show_step(self, step_id: str) -> None:
        """Draw what is known about the step now; fetch what is not (explanation, plan)."""
        if not self.loaded:
            return  # _load shows the selected step, once the tabs are there
        step = self.steps[step_id]
        self.refresh_bindings()  # "Pick containers" belongs to steps that pick containers only
        self._draw_heading(step)
        self.pane.show_options([(field(*option), bool(self.engine.config.value(*option)))
                                for option in step.options])
        self.pane.show_checks(self.states.get(step_id, jobs.StepState()).checks)
        if step_id in self._explanations:
            self.pane.show_explanation(self._explanations[step_id])
        else:
            self.run_job("explain", jobs.explanation, step_id, exclusive=True)
        if step_id in self.plans:
            self.pane.show_plan(self.plans[step_id])
        else:
            self.pane.show_plan_loading(step.title)
            self.run_job("plan", jobs.make_plan, step_id, exclusive=True)

    def _draw_heading(self, step: "StepInfo") -> None:
        state = self.states.get(step.id, jobs.StepState())
        note = None
        if step.uses_docker and self.docker_ok is False:
            note = Content.styled("Docker is unreachable: read-only for now.", "$text-warning")
        elif self.running == step.id and self.busy:
            note = Content.styled(self.busy, "$text-accent")
        elif state.status == Status.FAILED and state.error:
            note = Content.assemble(("Last error: ", "$text-error"), state.error)
        self.pane.show_heading(step.title, state.status, note)

    def _redraw_selected(self, step_id: str | None = None) -> None:
        if self.selected and step_id in (None, self.selected.id):
            self._draw_heading(self.selected)

    # --- results from workers --------------------------------------------------------------
    def _states_loaded(self, states: dict[str, jobs.StepState]) -> None:
        self.states.update(states)
        for step_id, state in states.items():
            self.query_one(StepList).set_status(step_id, state.status)
        step_list = self.query_one(StepList)
        if step_list.highlighted == 0 and self.states[step_list.selected_id].status == Status.NOT_APPLICABLE:
            step_list.select(next((step_id for step_id, state in self.states.items()
                                   if state.status != Status.NOT_APPLICABLE), step_list.selected_id))
        elif self.selected:
            self._draw_heading(self.selected)
            self.pane.show_checks(self.states[self.selected.id].checks)
        self._offer_resume()

    def _explanation_loaded(self, result: tuple[str, str]) -> None:
        step_id, text = result
        self._explanations[step_id] = text
        if self.selected and self.selected.id == step_id:
            self.pane.show_explanation(text)

    def _plan_loaded(self, result: jobs.PlanResult) -> None:
        self.plans[result.step_id] = result
        if result.docker_down:
            self._docker_answered((False, result.error or ""))
        if self.selected and self.selected.id == result.step_id:
            self.pane.show_plan(result)

    def _docker_answered(self, answer: tuple[bool, str]) -> None:
        ok, detail = answer
        was, self.docker_ok = self.docker_ok, ok
        self.query_one(DockerBanner).hide() if ok else self.query_one(DockerBanner).show_unreachable(detail)
        self.refresh_bindings()
        if was is False and ok:  # Docker is back: plans made without it are stale
            self.plans.clear()
            self.notify(f"Docker answers again (version {detail}).")
            if self.selected:
                self.show_step(self.selected.id)
        self._redraw_selected()

    # --- actions ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_docker":
            return self.docker_ok is False  # only offered while Docker is down
        if action == "pick_containers":
            return self.selected is not None and self.selected.picks_containers
        return True

    def action_tab(self, name: str) -> None:
        self.pane.select_tab(name)

    def action_retry_docker(self) -> None:
        self.run_job("docker", jobs.docker_status)

    def action_apply(self) -> None:
        self.start("apply", self.selected)

    def action_validate(self) -> None:
        self.start("validate", self.selected)

    def action_rollback(self) -> None:
        self.start("rollback", self.selected)

    def action_settings(self) -> None:
        if self.running:
            self.notify("Settings can change when nothing is running.", severity="warning")
            return
        from screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(self.engine), self._settings_closed)

    def _settings_closed(self, saved: bool | None) -> None:
        if saved and self.selected:  # new names mean new plans
            self.plans.clear()
            self.show_step(self.selected.id)

    def action_quit(self) -> None:
        if self.running and not self._quit_armed:
            self._quit_armed = True
            self.notify(f"{self.steps[self.running].title} is still running. Press q again to quit "
                        "anyway; the state file records where it stopped.", severity="warning")
            return
        self.app.exit()
