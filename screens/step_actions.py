"""How the main screen changes the host: apply, validate, rollback, and ticked plan options.

One operation at a time: ``start`` reserves the step (``running``), a worker makes a fresh plan,
the confirmation dialog shows it, and only a "yes" runs the engine in a thread worker whose
progress comes back as ``StepEvent`` messages. ``_release`` frees the slot however it ends.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from app.engine.model import Event
from screens import jobs
from screens.widgets.activity import StepEvent
from screens.widgets.step_list import StepList

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.steps import StepInfo
    from screens.widgets.plan_view import PlanOptions
    from screens.widgets.step_pane import StepPane


class StepActions:
    """Mixed into ``MainScreen``, which provides the attributes declared here, the drawing
    (``show_step``, ``_draw_heading``, ``_redraw_selected``, ``_plan_loaded``, ``action_tab``)
    and, through ``EngineScreen``, ``run_job``."""

    # Jobs that hold the one "something is running" slot while they work.
    OPERATIONS: ClassVar[tuple[str, ...]] = ("prepare-apply", "apply", "validate", "prepare-rollback",
                                             "rollback")
    engine: "Engine"
    steps: dict[str, "StepInfo"]
    states: dict[str, jobs.StepState]
    plans: dict[str, jobs.PlanResult]
    docker_ok: bool | None
    running: str | None  # the step an apply, validate or rollback holds
    busy: str | None  # what the heading says while it runs (not while asking)
    loaded: bool  # the screen's tabs are mounted
    pane: "StepPane"
    selected: "StepInfo | None"

    def start(self, kind: str, step: "StepInfo | None") -> None:
        """Begin an apply, validate or rollback, unless something makes it unsafe."""
        # A key typed ahead of the first frame waits for nothing: the tabs are not mounted yet.
        if step is None or not self.loaded:
            return
        if self.running:
            self.notify(f"Wait: {self.steps[self.running].title} is still running.", severity="warning")
            return
        # The daemon step's rollback restores daemon.json, then starts the engine: it is the way
        # back when a daemon.json keeps the engine down, so it does not wait for the engine.
        offline_rollback = kind == "rollback" and step.rolls_back_without_engine
        if step.uses_docker and self.docker_ok is False and not offline_rollback:
            self.notify(f"{step.title} needs Docker, which does not answer. Start it "
                        "(systemctl start docker) or set DOCKER_HOST, then press d.", severity="error")
            return
        self.running = step.id
        if kind == "validate":
            self.busy = "Running the live checks…"
            self._draw_heading(step)
            self.action_tab("checks")
            self.run_job("validate", jobs.validate_step, step.id)
        elif kind == "apply":  # a fresh plan: the one in the dialog is the one applied
            self.run_job("prepare-apply", jobs.make_plan, step.id)
        else:
            self.run_job("prepare-rollback", jobs.rollback_plan, step.id)

    def _confirm_apply(self, result: jobs.PlanResult) -> None:
        """A fresh plan is ready: ask before applying it, or say why there is nothing to apply."""
        self._plan_loaded(result)
        step, plan = self.steps[result.step_id], result.plan
        if plan is None or not plan.applicable.ok or plan.empty:
            self._release()
            reason = (result.error if plan is None else plan.applicable.reason if not plan.applicable.ok
                      else "this host already has it; press v to run the checks")
            self.notify(f"Nothing to apply for {step.title}: {reason}.", severity="warning", timeout=8)
            return
        from screens.widgets.plan_view import plan_notes

        self._ask("apply", step, plan, plan.actions, f"Apply “{step.title}”?",
                  "These changes will be made on this host, in this order. hardstep keeps what it "
                  "needs to roll them back.", plan_notes(plan))

    def _confirm_rollback(self, result: tuple[str, list]) -> None:
        step_id, actions = result
        step = self.steps[step_id]
        if not actions:
            self._release()
            self.notify(f"Nothing to roll back for {step.title}: hardstep made no change here it can undo.",
                        severity="warning")
            return
        self._ask("rollback", step, actions, actions, f"Roll back “{step.title}”?",
                  "These changes will undo what hardstep did for this step, newest first.")

    def _ask(self, kind: str, step: "StepInfo", payload: Any, actions: list, title: str, intro: str,
             notes: list[str] = ()) -> None:
        from screens.dialogs import ConfirmScreen

        label = "Apply" if kind == "apply" else "Roll back"
        self.app.push_screen(ConfirmScreen(title, intro, actions, label, notes),
                             partial(self._answered, kind, step, payload))

    def _answered(self, kind: str, step: "StepInfo", payload: Any, yes: bool | None) -> None:
        if not yes:
            self._release()
            self.notify("Nothing was changed.")
            return
        verb = "Applying" if kind == "apply" else "Rolling back"
        self.busy = f"{verb}… see the Log tab (4)."
        self._draw_heading(step)
        self.action_tab("log")
        self.pane.activity.start(f"── {verb} {step.id} ──")
        job = jobs.apply_step if kind == "apply" else jobs.rollback_step
        self.run_job(kind, job, step.id, payload, self.reporter)

    def _finished(self, result: jobs.Finished) -> None:
        """Draw the step's new state and say, in one line, how it went."""
        self._release()
        if self.steps[result.step_id].rolls_back_without_engine and result.kind == "rollback":
            self.run_job("docker", jobs.docker_status)  # the engine it started (or not): say so
        self.states[result.step_id] = result.state
        self.plans.pop(result.step_id, None)
        self.query_one(StepList).set_status(result.step_id, result.state.status)
        message, severity = jobs.outcome_message(self.steps[result.step_id].title, result)
        self.pane.activity.finish(message)
        self.notify(message, severity=severity, timeout=8)
        if result.kind != "rollback" or (result.outcome and result.outcome.error):
            self.action_tab("checks")
        if self.selected and self.selected.id == result.step_id:
            self.show_step(result.step_id)

    def _release(self) -> None:
        """Nothing runs any more: the keys work again and the heading stops saying so."""
        step_id, self.running, self.busy = self.running, None, None
        if step_id:
            self._redraw_selected(step_id)

    def reporter(self, event: Event) -> None:
        """The engine's ``report`` callback. Runs in the worker thread: post_message is thread-safe."""
        self.post_message(StepEvent(event))

    def on_step_event(self, message: StepEvent) -> None:
        self.pane.activity.add(message.event)

    def on_plan_options_toggled(self, message: "PlanOptions.Toggled") -> None:
        """A ticked plan option is a setting: save it, then plan again with it."""
        if self.running:
            self.notify("Options can change when nothing is running.", severity="warning")
            if self.selected:
                self.show_step(self.selected.id)  # untick what was just ticked
            return
        config = self.engine.config.with_value(message.section, message.key, message.value)
        self.run_job("option", jobs.save_settings, config, exclusive=True)

    def _option_saved(self, config) -> None:
        self.engine.config = config
        self.plans.clear()
        if self.selected:
            self.show_step(self.selected.id)
