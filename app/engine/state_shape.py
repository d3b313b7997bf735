"""The shape ``state.json`` must have. A file that is valid JSON of another shape (edited by hand,
written by a tool, half restored) stops hardstep at once with the place of the problem, instead
of a failure deep inside a command. Fields are optional and unknown fields are kept, so a state
folder from an older or newer hardstep still loads."""

from __future__ import annotations

from typing import Any

from app.engine.model import Status

TEXT, MAYBE_TEXT, NUMBER = (str,), (str, type(None)), (int,)
STEP = {"status": MAYBE_TEXT, "error": MAYBE_TEXT, "updated": MAYBE_TEXT, "checked": MAYBE_TEXT,
        "checks": (list,), "undo": (list,), "in_flight": (dict, type(None))}
CHECK = {"step": TEXT, "check": TEXT, "ok": (bool, type(None)), "detail": MAYBE_TEXT, "evidence": (dict,),
         "at": MAYBE_TEXT, "status": MAYBE_TEXT}
CHECK_REQUIRED = ("step", "check", "ok")  # what CheckResult.from_json cannot do without
FLIGHT = {"index": NUMBER, "summary": TEXT, "started": MAYBE_TEXT, "undo": (list,)}
STATUSES = {s.value for s in Status}


def shape_problem(data: Any) -> str | None:
    """What is wrong with the parsed file (``"steps.synapse.undo is text, not a list"``), or None."""
    if not isinstance(data, dict):
        return f"it holds {kind(data)}, not an object"
    steps = data.get("steps", {})
    if not isinstance(steps, dict):
        return f"steps is {kind(steps)}, not an object"
    for name, entry in steps.items():
        where = f"steps.{name}"
        problem = fields(entry, STEP, where)
        if problem:
            return problem
        if entry.get("status") and entry["status"] not in STATUSES:
            return f"{where}.status is {entry['status']!r}, not one of {', '.join(sorted(STATUSES))}"
        for number, check in enumerate(entry.get("checks") or []):
            problem = fields(check, CHECK, f"{where}.checks[{number}]", CHECK_REQUIRED)
            if problem:
                return problem
        flight = entry.get("in_flight") or {}
        problem = (records(entry.get("undo"), f"{where}.undo") or fields(flight, FLIGHT, f"{where}.in_flight")
                   or records(flight.get("undo"), f"{where}.in_flight.undo"))
        if problem:
            return problem
    return None


def fields(value: Any, spec: dict[str, tuple[type, ...]], where: str, required: tuple[str, ...] = ()) -> str | None:
    if not isinstance(value, dict):
        return f"{where} is {kind(value)}, not an object"
    missing = [key for key in required if key not in value]
    if missing:
        return f"{where} has no {missing[0]}"
    for key, types in spec.items():
        if key in value and not _is(value[key], types):
            return f"{where}.{key} is {kind(value[key])}, not {' or '.join(kind(t()) for t in types)}"
    return None


def records(entries: Any, where: str) -> str | None:
    """Undo records are objects; what each one holds is the record class's to read."""
    for number, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            return f"{where}[{number}] is {kind(entry)}, not an object"
    return None


def _is(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # JSON true is no number
    return isinstance(value, types)


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)
