"""How the command line shows plans, progress and checks, and how it asks before it acts."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, TextIO

from app.errors import HardstepError
from app.redact import redact

if TYPE_CHECKING:
    from app.engine.model import CheckResult, Event
    from app.engine.runner import Plan


class RedactedStream(io.TextIOBase):
    """stdout or stderr with every line through redaction: the last line of defence for all a
    command prints. Whole lines are redacted at once (a line a print splits in parts is kept
    until it ends); a flush (a prompt before input) lets a partial line out."""

    def __init__(self, stream: TextIO):
        self._stream, self._pending = stream, ""

    def write(self, text: str) -> int:
        self._pending += text
        done, newline, self._pending = self._pending.rpartition("\n")
        if newline:
            self._stream.write(redact(done + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def write_verbatim(self, text: str) -> None:
        """Text redacted before it was escaped (a rendered report): a text rule applied to
        escaped HTML or Markdown would break it, so it goes out as it is."""
        self.flush()
        self._stream.write(text)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


@contextmanager
def redacted_output() -> Iterator[None]:
    """While it lasts, nothing reaches stdout or stderr without redaction."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactedStream(sys.stdout), RedactedStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def write_verbatim(text: str) -> None:
    """Write text that was redacted before it was escaped (see ``RedactedStream.write_verbatim``)."""
    stream = sys.stdout
    (stream.write_verbatim if isinstance(stream, RedactedStream) else stream.write)(text)


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


def print_checks(results: list["CheckResult"], prefix: str = "") -> None:
    for r in results:
        print(f"{prefix}{r.status.upper():<5} {r.step:<16} {r.check:<28} {r.detail}")
