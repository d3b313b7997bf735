"""The engine calls the wizard makes, as plain functions that run inside thread workers.

Nothing here imports Textual: each function reads or changes the host through the engine and
returns plain data the screen draws on the UI thread. Expected refusals (a plan that cannot be
made, Docker gone) come back as data; anything else raises and becomes a worker error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.errors import describe_error
from app.errors import DockerUnavailable, HardstepError
from app.engine.model import CheckResult, Reporter, Status

if TYPE_CHECKING:
    from pathlib import Path

    from app.engine.actions import Action
    from app.config.settings import Config
    from app.host.detect import HostReport
    from app.engine.runner import Engine, Outcome, Plan
    from app.engine.resume import Interrupted


@dataclass
class StepState:
    """What the state directory remembers about one step."""

    status: Status = Status.PENDING
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    in_flight: dict | None = None  # the action a killed apply left unfinished (app/resume.py)


@dataclass
class PlanResult:
    """A step's plan for the Plan tab, or why there is none."""

    step_id: str
    plan: "Plan | None" = None
    error: str | None = None  # why there is no plan, in words the user can act on
    docker_down: bool = False


@dataclass
class Finished:
    """The end of an apply, validate or rollback: the outcome and the step's state after it."""

    step_id: str
    kind: str  # apply | validate | rollback
    state: StepState
    outcome: "Outcome | None" = None


def detect_host(engine: "Engine") -> "HostReport":
    from app.host.detect import detect

    return detect(engine.host, engine.config)


def save_settings(engine: "Engine", config: "Config") -> "Config":
    """Write ``config`` to the engine's settings file; return it as the file now holds it."""
    from app.config.settings import Config, save_config

    path = save_config(config, engine.config.path)
    return Config(config.to_dict(), path=path, exists=True)


def read_state(engine: "Engine", step_id: str) -> StepState:
    entry = engine.state.step(step_id)
    return StepState(engine.status(step_id), engine.state.checks(step_id), entry.get("error"),
                     entry.get("in_flight") or None)


def read_states(engine: "Engine") -> dict[str, StepState]:
    states = {step.id: read_state(engine, step.id) for step in engine.steps()}
    for step_id, state in states.items():
        # Cheap (os-release, no Docker), and it spares a Debian user a first step that cannot apply.
        if state.status == Status.PENDING and not engine.applicability(step_id).ok:
            state.status = Status.NOT_APPLICABLE
    return states


def docker_status(engine: "Engine") -> tuple[bool, str]:
    return engine.host.docker_status()


def explanation(engine: "Engine", step_id: str) -> tuple[str, str]:
    return step_id, engine.step(step_id).explanation()


def make_plan(engine: "Engine", step_id: str) -> PlanResult:
    try:
        return PlanResult(step_id, plan=engine.plan(step_id))
    except DockerUnavailable as exc:
        return PlanResult(step_id, error=describe_error(exc), docker_down=True)
    except HardstepError as exc:  # a parser's message may quote the file: redacted like every error
        return PlanResult(step_id, error=describe_error(exc))
    except Exception as exc:  # an SDK error while planning is a message in the plan view
        return PlanResult(step_id, error=f"the plan could not be made: {describe_error(exc)}")


def apply_step(engine: "Engine", step_id: str, plan: "Plan", report: Reporter) -> Finished:
    # The run lock is held only while the wizard changes the host: another hardstep is refused
    # meanwhile, and this one is refused (a worker error message) while another runs.
    with engine.exclusive(f"hardstep wizard: apply {step_id}", report, step_id):
        outcome = engine.apply(step_id, plan, report=report)
    return Finished(step_id, "apply", read_state(engine, step_id), outcome)


def validate_step(engine: "Engine", step_id: str) -> Finished:
    engine.check(step_id)
    return Finished(step_id, "validate", read_state(engine, step_id))


def rollback_plan(engine: "Engine", step_id: str) -> tuple[str, list["Action"]]:
    return step_id, engine.rollback_plan(step_id)


def rollback_step(engine: "Engine", step_id: str, actions: list["Action"], report: Reporter) -> Finished:
    with engine.exclusive(f"hardstep wizard: rollback {step_id}", report, step_id):
        outcome = engine.rollback(step_id, actions, report=report)
    return Finished(step_id, "rollback", read_state(engine, step_id), outcome)


def outcome_message(title: str, result: Finished) -> tuple[str, str]:
    """One line for the end of an operation, and its notification severity."""
    outcome, checks = result.outcome, result.state.checks
    if outcome is not None and outcome.error:
        what = "Rollback" if result.kind == "rollback" else "Apply"
        return (f"{what} of {title} failed: {outcome.error}. What was done is recorded; "
                "fix the cause, then apply or roll back.", "error")
    if result.kind == "rollback":
        return f"{title} rolled back: the host is as it was before this step.", "information"
    failing = sum(c.ok is False for c in checks)
    if failing:
        return f"{title}: {failing} of {len(checks)} checks fail; see the Checks tab (3).", "warning"
    skipped = sum(c.ok is None for c in checks)
    verb = "applied and verified" if result.kind == "apply" else "verified"
    counted = f"{len(checks) - skipped} checks pass" + (f", {skipped} skipped" if skipped else "")
    return f"{title} {verb}: {counted}.", "information"


# --- resume and report ----------------------------------------------------------------------------
def recheck_interrupted(engine: "Engine", items: list["Interrupted"]) -> list[tuple["Interrupted", int | None]]:
    """Re-check each interrupted step (a fresh plan) and count what a rollback would undo
    (None when the rollback plan cannot be made now; the re-check still counts)."""
    from app.engine.resume import recheck

    results = []
    for item in items:
        try:
            undo_count: int | None = len(engine.rollback_plan(item.step))
        except Exception:
            undo_count = None
        results.append((recheck(engine, item), undo_count))
    return results


def resume_steps(engine: "Engine", step_ids: list[str], how: str, report: Reporter) -> list[tuple[str, str]]:
    """Continue or roll back each step; one (message, severity) per step."""
    messages = []
    with engine.exclusive(f"hardstep wizard: resume --{how}", report):
        for step_id in step_ids:
            title = engine.step(step_id).title
            if how == "continue":
                outcome = engine.apply(step_id, report=report)
                result = Finished(step_id, "apply", read_state(engine, step_id), outcome)
            else:
                outcome = engine.rollback(step_id, report=report)
                result = Finished(step_id, "rollback", read_state(engine, step_id), outcome)
            messages.append(outcome_message(title, result))
    return messages


def export_report(engine: "Engine") -> "Path":
    """Write the whole-host report (Markdown) to ``<state dir>/reports/``; return its path."""
    from app.engine.model import utcnow
    from app.engine.report import build_report, render, write_report

    path = engine.state.dir / "reports" / f"hardstep-report-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.md"
    write_report(path, render(build_report(engine), "md"))
    return path
