"""Resuming after hardstep stopped in the middle of an apply (a crash, a closed SSH session, a
reboot such as BurmillaOS's upgrade): what was in flight, whether it completed, continue or roll back.

How a run survives being killed (see ``Engine.apply``): before each action the engine saves an
in-flight record in ``state.json`` (written atomically) holding the action's summary, its start
time and the undo records ``Action.prepare`` made durable first (a file's backup is taken before
the file is touched). After the action its undo records join the step's in the same write that
clears the in-flight record. So at any instant of a kill, rollback knows every change.

Whether the interrupted action completed is found by re-checking, not by guessing: steps are
idempotent, so a fresh plan holds only what is left; the action completed when its summary is no
longer in it. Continue is ``Engine.apply`` (it adopts the in-flight record, keeping its undo
records, then applies the fresh plan); roll back is ``Engine.rollback`` (the interrupted action's
prepared undo included). The command line and the wizard both use these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.engine.model import ignore
from app.errors import DockerUnavailable, describe_error

if TYPE_CHECKING:
    from app.engine.model import Reporter
    from app.engine.runner import Engine, Plan


@dataclass
class Interrupted:
    """One step whose apply stopped in the middle of an action."""

    step: str
    title: str
    summary: str  # the action that was in flight
    index: int  # its position in that run's plan, from 0
    started: str
    completed: bool | None = None  # None: not re-checked yet, or the re-check could not tell
    remaining: list[str] = field(default_factory=list)  # summaries of the fresh plan
    detail: str = "not re-checked yet"
    plan: "Plan | None" = field(default=None, repr=False)

    @property
    def notice(self) -> str:
        return f"{self.step}: action '{self.summary}' was in flight; re-checking..."

    def stopped(self, resume: str = "hardstep resume") -> str:
        """What a later command tells the user: it stopped there, and ``resume`` goes on."""
        return (f"{self.step}: action '{self.summary}' was in flight (started {self.started}) when hardstep "
                f"stopped; '{resume}' re-checks it, then continue or roll back.")


def interrupted(engine: "Engine", ids: list[str] | None = None) -> list[Interrupted]:
    """The steps a killed process left with an action in flight, in wizard order (state only).
    None while another hardstep is changing the host: its actions in flight are running."""
    from app.steps import step_ids

    if engine.running_elsewhere():
        return []
    flights = engine.state.in_flight()
    order = step_ids()  # the registry's order and titles: no step module is imported
    found = []
    for step_id in sorted(flights, key=lambda s: order.index(s) if s in order else len(order)):
        if ids and step_id not in ids:
            continue
        flight: dict[str, Any] = flights[step_id]
        title = engine.info(step_id).title if step_id in order else step_id
        found.append(Interrupted(step_id, title, str(flight.get("summary", "?")), int(flight.get("index", 0)),
                                 str(flight.get("started", "unknown"))))
    return found


def recheck(engine: "Engine", item: Interrupted) -> Interrupted:
    """Make a fresh plan and say whether the interrupted action completed. Never raises for a
    plan that cannot be made: ``completed`` stays None and ``detail`` says why."""
    try:
        plan = engine.plan(item.step)
    except DockerUnavailable as exc:
        item.completed, item.detail = None, f"cannot tell yet: {exc}"
        return item
    except Exception as exc:
        item.completed, item.detail = None, f"cannot tell: the plan could not be made ({describe_error(exc)})"
        return item
    if not plan.applicable.ok:
        item.completed, item.detail = None, f"cannot tell: the step does not apply now ({plan.applicable.reason})"
        return item
    item.plan = plan
    item.remaining = [a.summary for a in plan.actions]
    item.completed = item.summary not in item.remaining
    left = len(item.remaining)
    if item.completed:
        item.detail = "it completed; nothing is left to do" if not left else \
            f"it completed; {left} change(s) of this step are left to apply"
    else:
        item.detail = f"it did not complete; {left} change(s) are left to apply, this one included"
    return item


def settle(engine: "Engine", item: Interrupted, report: "Reporter" = ignore) -> bool:
    """When the re-check finds nothing left, the run did finish (a reboot ended it after the last
    change): keep its undo records, call the step applied, and let the checks that follow decide
    verified or failed. Returns whether it settled. Settling writes: it holds the run lock."""
    from app.engine.model import Status

    if item.completed is not True or item.remaining:
        return False
    with engine.exclusive(f"hardstep check {item.step} (settling an interrupted apply)", report, item.step):
        engine.adopt_in_flight(item.step)
        engine.state.update_step(item.step, status=Status.APPLIED.value, error=None)
        engine.state.audit(item.step, f"resume: {item.summary}", "completed", detail="found complete on re-check")
    return True
