"""The engine: plan, apply, check and roll back steps, keeping state and the audit log.

The command line and the wizard both drive hardstep through this class, so they behave alike.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from app.engine.model import Applicability, CheckResult, Event, Reporter, Status, ignore, now_iso
from app.engine.undo import UndoRecord, dump_records, load_records
from app.errors import DockerUnavailable, HardstepError, describe_error
from app.net import pins
from app.steps import StepInfo, get_step, step_ids, step_info

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.engine.actions import Action, ApplyContext
    from app.engine.lock import Holder
    from app.host.base import Host
    from app.engine.state import StateStore
    from app.steps.base import Step


@dataclass
class Plan:
    """What applying a step would do on this host: its actions in order, and notes to show."""
    step: str
    applicable: Applicability
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings shown with the plan

    @property
    def empty(self) -> bool:
        return not self.actions


@dataclass
class Outcome:
    """How an apply, a rollback or a check ended: what was done, the checks and the status."""
    step: str
    ok: bool
    done: list[str] = field(default_factory=list)
    error: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    status: Status = Status.PENDING


class Engine:
    def __init__(self, host: "Host", config: "Config", state: "StateStore"):
        self.host = host
        self.config = config
        self.state = state
        self._steps: dict[str, "Step"] = {}

    @property
    def config(self) -> "Config":
        return self._config

    @config.setter
    def config(self, config: "Config") -> None:
        """New settings (the wizard's settings form saves some) reach every probe from here too:
        the ``[checks]`` pins and extra CA (``app.net.pins``), its CA file read on the host."""
        self._config = config
        pins.configure(config.checks.resolve, config.checks.ca_file, self.host.read_text)

    # --- steps -----------------------------------------------------------------------------
    def step(self, step_id: str) -> "Step":
        if step_id not in self._steps:
            self._steps[step_id] = get_step(step_id)
        return self._steps[step_id]

    def steps(self) -> list["Step"]:
        """Every step, instantiated: this imports every step module."""
        return [self.step(step_id) for step_id in step_ids()]

    def info(self, step_id: str) -> StepInfo:
        """Title, Docker need and options of a step, from the registry: no import."""
        return step_info(step_id)

    def infos(self) -> list[StepInfo]:
        """Every step as the step list shows it; no step module is imported."""
        return [self.info(step_id) for step_id in step_ids()]

    def status(self, step_id: str) -> Status:
        return self.state.status(step_id) or Status.PENDING

    def applicability(self, step_id: str) -> Applicability:
        return self.step(step_id).applicable(self.host)

    # --- one hardstep at a time -------------------------------------------------------------
    @contextmanager
    def exclusive(self, command: str, report: Reporter = ignore, step_id: str = "") -> Iterator[None]:
        """Hold the state folder's run lock (app/engine/lock.py) for ``command``: raises LockHeld
        at once when another hardstep holds it; says so when it takes over a stale one."""
        with self.state.lock.hold(command) as stale:
            if stale:
                report(Event(step_id, stale.taken_over, level="warning"))
            yield

    def running_elsewhere(self) -> "Holder | None":
        """The other hardstep changing this host right now, if any (never waits)."""
        return self.state.lock.holder()

    # --- plan and apply --------------------------------------------------------------------
    def plan(self, step_id: str) -> Plan:
        step = self.step(step_id)
        applicable = step.applicable(self.host)
        if not applicable.ok:
            return Plan(step_id, applicable)
        return Plan(step_id, applicable, step.plan(self.host, self.config), step.notes(self.host, self.config))

    def apply(self, step_id: str, plan: Plan | None = None, report: Reporter = ignore) -> Outcome:
        with self.exclusive(f"hardstep apply {step_id}", report, step_id):
            return self._apply(step_id, plan, report)

    def _apply(self, step_id: str, plan: Plan | None, report: Reporter) -> Outcome:
        step = self.step(step_id)
        plan = plan or self.plan(step_id)
        if not plan.applicable.ok:
            self.state.update_step(step_id, status=Status.NOT_APPLICABLE.value)
            raise HardstepError(f"{step_id} does not apply to this host: {plan.applicable.reason}")
        ctx = self._context(step_id, report)
        outcome = Outcome(step_id, ok=True)
        self.adopt_in_flight(step_id)  # applying again continues an interrupted run
        try:
            step.preflight(self.host, self.config, plan.actions)  # once, before anything is written
        except HardstepError as exc:
            outcome.ok, outcome.error, outcome.status = False, describe_error(exc), Status.FAILED
            self.state.audit(step_id, "preflight", "refused", error=outcome.error)
            ctx.log(f"refused: {outcome.error}", level="error")
            self.state.update_step(step_id, status=Status.FAILED.value, error=outcome.error)
            return outcome
        this_run: list[UndoRecord] = []
        for index, action in enumerate(plan.actions):
            ctx.log(action.summary)
            pending: list[UndoRecord] = []
            try:
                # Undo information is durable BEFORE the change: prepare() takes the file backup,
                # and the in-flight record holds its undo records, so a process killed during or
                # right after the action still leaves rollback all it needs (app/engine/resume.py).
                pending = action.prepare(self.host, ctx)
                self.state.update_step(step_id, in_flight={"index": index, "summary": action.summary,
                                                           "started": now_iso(), "undo": dump_records(pending)})
                self.state.audit(step_id, action.summary, "started")
                undo = step.apply(self.host, self.config, action, ctx)
            except DockerUnavailable:
                self.state.audit(step_id, action.summary, "failed", error="Docker engine unreachable")
                raise
            except Exception as exc:  # every failure becomes a message, never a traceback
                outcome.ok, outcome.error = False, describe_error(exc)
                self.state.audit(step_id, action.summary, "failed", error=outcome.error,
                                 command=action.command())
                ctx.log(f"failed: {outcome.error}", level="error")
                # The failed action may have done part of its change (a replace that renamed the old
                # container, then lost the engine): what it prepared joins the step's undo records,
                # is undone with the run's, and stays recorded if that undo fails.
                self.state.adopt_in_flight(step_id)
                if this_run or pending:
                    outcome.error += self._undo_run(step, this_run, pending, action, ctx)
                self.state.update_step(step_id, status=Status.FAILED.value, error=outcome.error)
                outcome.status = Status.FAILED
                return outcome
            this_run += undo
            self.state.finish_action(step_id, dump_records(undo))
            self.state.audit(step_id, action.summary, "ok", command=action.command())
            outcome.done.append(action.summary)
        self.state.update_step(step_id, status=Status.APPLIED.value, in_flight=None, error=None)
        outcome.checks = self.check(step_id, after_apply=True)
        outcome.status = self.status(step_id)
        outcome.ok = outcome.status == Status.VERIFIED
        return outcome

    def _context(self, step_id: str, report: Reporter) -> "ApplyContext":
        # Imported here: only applying and rolling back need the actions module, and the
        # wizard creates its engine before its first frame.
        from app.engine.actions import ApplyContext

        return ApplyContext(step_id, self.state.backup_dir(step_id), report)

    # --- interrupted runs ------------------------------------------------------------------
    def in_flight(self, step_id: str) -> dict | None:
        """The action a killed process was running for this step, or None."""
        return self.state.step(step_id).get("in_flight") or None

    def adopt_in_flight(self, step_id: str) -> dict | None:
        """Keep the undo records of an interrupted action (rollback still undoes it), remove the
        temp file an interrupted atomic write may have left, and stop calling it in flight."""
        flight = self.state.adopt_in_flight(step_id)
        if flight:
            for record in self._typed(step_id, flight.get("undo")):
                record.after_interrupt(self.host)
            self.state.audit(step_id, flight.get("summary", "?"), "interrupted",
                             started=flight.get("started"))
        return flight

    # --- checks ----------------------------------------------------------------------------
    def _undo_run(self, step: "Step", earlier: list[UndoRecord], pending: list[UndoRecord], failed: Action,
                  ctx: ApplyContext) -> str:
        """A step applies whole or not at all: undo what this run did before ``failed`` (``earlier``)
        and whatever part of its own change ``failed`` left (the records it prepared, ``pending``)."""
        what = "the changes made before it" if earlier else "what it had begun"
        ctx.log(f"undoing {what}", level="warning")
        records = earlier + pending
        try:
            for action in step.rollback(self.host, self.config, records):
                action.apply(self.host, ctx)
                self.state.audit(step.id, f"undo after failure: {action.summary}", "ok")
            if earlier:
                failed.after_undo(self.host, ctx)
        except Exception as exc:
            self.state.audit(step.id, "undo after failure", "failed", error=describe_error(exc))
            return f"; undoing {what} also failed ({describe_error(exc)}): run hardstep rollback {step.id}"
        remaining = [r for r in self.undo_records(step.id) if r not in records]
        self.state.update_step(step.id, undo=dump_records(remaining))
        return f"; {what} {'were' if earlier else 'was'} undone"

    def check(self, step_id: str, after_apply: bool = False) -> list[CheckResult]:
        return self.check_status(step_id, after_apply)[0]

    def check_status(self, step_id: str, after_apply: bool = False) -> tuple[list[CheckResult], Status]:
        """Run the step's live checks and record them with the status they give, unless another
        hardstep is changing the host: its half-done state is no verdict, so they are only returned."""
        step = self.step(step_id)
        applicable = step.applicable(self.host)
        if not applicable.ok:
            results = [step.check("applicable", None, f"not applicable: {applicable.reason}")]
            status = Status.NOT_APPLICABLE
        else:
            try:
                results = step.validate(self.host, self.config)
            except DockerUnavailable:
                raise
            except Exception as exc:
                results = [step.check("checks ran", False, f"the checks could not run: {describe_error(exc)}")]
            status = self._status_after(step_id, results, after_apply)
        if not self.running_elsewhere():
            self.state.record_checks(step_id, results, status)
        return results, status

    def check_many(self, ids: list[str] | None = None) -> list[CheckResult]:
        results: list[CheckResult] = []
        for step_id in ids or step_ids():
            results += self.check(step_id)
        return results

    def _status_after(self, step_id: str, results: list[CheckResult], after_apply: bool) -> Status:
        if all(r.ok is not False for r in results):
            return Status.VERIFIED
        previous = self.status(step_id)
        if after_apply or previous in (Status.APPLIED, Status.FAILED):
            return Status.FAILED
        if previous in (Status.VERIFIED, Status.DRIFTED):
            return Status.DRIFTED
        return Status.PENDING

    # --- rollback --------------------------------------------------------------------------
    def rollback_plan(self, step_id: str) -> list[Action]:
        """Undo everything recorded, an interrupted action's prepared undo records included."""
        records = self.undo_records(step_id)
        in_flight = self._typed(step_id, (self.in_flight(step_id) or {}).get("undo"))
        return self.step(step_id).rollback(self.host, self.config, records + [r for r in in_flight if r not in records])

    def undo_records(self, step_id: str) -> list[UndoRecord]:
        """The step's recorded changes, typed (state.json keeps them as JSON objects)."""
        return self._typed(step_id, self.state.undo_records(step_id))

    def _typed(self, step_id: str, entries: list[dict] | None) -> list[UndoRecord]:
        self.step(step_id)  # imported first: the step's modules register its undo record types
        return load_records(entries)

    def rollback(self, step_id: str, actions: list[Action] | None = None, report: Reporter = ignore) -> Outcome:
        with self.exclusive(f"hardstep rollback {step_id}", report, step_id):
            return self._rollback(step_id, actions, report)

    def _rollback(self, step_id: str, actions: list[Action] | None, report: Reporter) -> Outcome:
        actions = self.rollback_plan(step_id) if actions is None else actions
        ctx = self._context(step_id, report)
        outcome = Outcome(step_id, ok=True)
        for action in actions:
            ctx.log(action.summary)
            try:
                action.apply(self.host, ctx)
            except DockerUnavailable:
                raise
            except Exception as exc:
                outcome.ok, outcome.error = False, describe_error(exc)
                self.state.audit(step_id, f"rollback: {action.summary}", "failed", error=outcome.error)
                ctx.log(f"rollback failed: {outcome.error}", level="error")
                outcome.status = self.status(step_id)
                return outcome
            self.state.audit(step_id, f"rollback: {action.summary}", "ok", command=action.command())
            outcome.done.append(action.summary)
        if self.in_flight(step_id):
            self.adopt_in_flight(step_id)  # its undo was in the actions just applied
        self.state.update_step(step_id, status=Status.PENDING.value, undo=[], checks=[], error=None)
        outcome.status = Status.PENDING
        return outcome
