"""Many hosts at once: each its own Engine (its own connection, settings and state folder), run
side by side in threads, a host that cannot be reached a result saying why, never an abort.

The step status a check gives (``Engine.check_status``) becomes one cell of the host x step table:

    verified   every check passed (or was skipped)            Status.VERIFIED
    drifted    a check fails where the step had verified      Status.DRIFTED
    failed     a check fails (never applied, or failed since) Status.FAILED, Status.PENDING
    n/a        the step does not apply to this host           Status.NOT_APPLICABLE
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from app.engine.model import CheckResult, Status
from app.errors import EXIT_ERROR, EXIT_FAILED, EXIT_OK, describe_error
from app.net import pins

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.host.target import SshTarget

T = TypeVar("T")
WORKERS = 8  # connections open at once; more hosts wait their turn
CELLS = {Status.VERIFIED: "verified", Status.DRIFTED: "drifted", Status.FAILED: "failed",
         Status.PENDING: "failed", Status.NOT_APPLICABLE: "n/a", Status.APPLIED: "failed"}


@dataclass(frozen=True)
class Member:
    """One host of the run: its name as the user wrote it (the inventory's, or ``--host``'s)."""

    name: str
    target: "SshTarget"


@dataclass
class HostChecks:
    member: Member
    cells: dict[str, str] = field(default_factory=dict)  # step id -> verified / drifted / failed / n/a
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # why the host could not be checked
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_FAILED if any(r.ok is False for r in self.results) else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {"host": self.member.name, "label": self.member.target.label, "target": str(self.member.target),
                "exit": self.exit_code, "error": self.error, "notes": self.notes,
                "steps": [{"step": step, "status": cell,
                           "checks": [r.to_json() for r in self.results if r.step == step]}
                          for step, cell in self.cells.items()]}


def over_hosts(members: list[Member], open_engine: Callable[[Member], "Engine"],
               work: Callable[["Engine"], T]) -> list[tuple[Member, T | None, str | None]]:
    """``work`` on each host's engine, in parallel; per host (member, result, None) or (member,
    None, why it failed), in the members' order."""
    def one(member: Member) -> tuple[Member, T | None, str | None]:
        with pins.isolated():  # each host's [checks] resolve and CA, in its own thread
            engine = None
            try:
                engine = open_engine(member)
                return member, work(engine), None
            except Exception as exc:  # unreachable, a refused key, bad settings: that host's row
                return member, None, describe_error(exc)
            finally:
                if engine is not None:
                    engine.host.close()

    with ThreadPoolExecutor(max_workers=max(1, min(WORKERS, len(members))), thread_name_prefix="host") as pool:
        return list(pool.map(one, members))


def check_hosts(members: list[Member], open_engine: Callable[[Member], "Engine"],
                ids: list[str] | None = None) -> list[HostChecks]:
    """Every step's checks (or those of ``ids``) on every host."""
    def check(engine: "Engine") -> tuple[dict[str, str], list[CheckResult], list[str]]:
        cells: dict[str, str] = {}
        results: list[CheckResult] = []
        steps = ids or [s.id for s in engine.steps()]
        if any(engine.step(i).uses_docker for i in steps):
            engine.host.docker  # unreachable engine: the host's row says so, as 'hardstep check' would
        from app.engine.resume import interrupted

        holder = engine.running_elsewhere()
        notes = [f"a run is in progress: {holder}; its checks are not recorded"] if holder else []
        resume = f"hardstep --host {engine.host.label} resume" if engine.host.remote else "hardstep resume"
        notes += [i.stopped(resume) for i in interrupted(engine, steps)]
        for step_id in steps:
            found, status = engine.check_status(step_id)
            results += found
            cells[step_id] = CELLS[status]
        return cells, results, notes

    return [HostChecks(member, cells=done[0], results=done[1], notes=done[2]) if done else
            HostChecks(member, error=error) for member, done, error in over_hosts(members, open_engine, check)]


def worst(hosts: list[HostChecks]) -> int:
    """The exit code of a run over many hosts: the worst host's."""
    return max((h.exit_code for h in hosts), default=EXIT_OK)
