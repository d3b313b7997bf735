"""How the command line shows plans, progress and checks, and how it asks before it acts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from app.errors import HardstepError

if TYPE_CHECKING:
    from app.engine.model import CheckResult, Event
    from app.engine.runner import Plan


def note(message: str) -> None:
    """Notices go to stderr, so the output of --json stays parseable."""
    print(f"hardstep: {message}", file=sys.stderr, flush=True)


def note_event(event: "Event") -> None:
    """A reporter for what the engine says outside a step's progress (a stale lock taken over)."""
    note(event.message)


def print_plan(plan: "Plan", title: str) -> None:
    if not plan.applicable.ok:
        print(f"{plan.step}: not applicable: {plan.applicable.reason}")
        return
    for note in plan.notes:
        print(f"warning: {note}")
    if plan.empty:
        print(f"{plan.step}: nothing to do, this host already has it.")
        return
    print(f"{title} — {len(plan.actions)} change(s):")
    for number, action in enumerate(plan.actions, 1):
        described = action.describe()
        print(f"\n{number}. {described['summary']}")
        for line in described["command"].splitlines():
            print(f"   $ {line}")
        if described["diff"]:
            print("   " + described["diff"].rstrip("\n").replace("\n", "\n   "))


def confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise HardstepError("no terminal to ask for confirmation; pass --yes to proceed")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def print_event(event: "Event") -> None:
    if event.fraction is not None and 0 < event.fraction < 1:
        return  # progress bars are for the wizard; the log keeps the milestones
    print(f"  {'!' if event.level != 'info' else '-'} {event.message}", flush=True)


def print_checks(results: list["CheckResult"]) -> None:
    for r in results:
        print(f"{r.status.upper():<5} {r.step:<16} {r.check:<28} {r.detail}")
