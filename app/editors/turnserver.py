"""Set options of coTURN's ``turnserver.conf`` while every other line stays as it was.

The format, as coturn 4.6.1 reads it (reproduced): one option a line, ``key=value`` or a bare
``key`` for a flag; whitespace around the line, the key and the value is ignored; a line whose
first non-blank character is ``#`` is a comment. A ``#`` *after* a value is not a comment:
``cert=/opt/certs/fullchain.pem # new`` makes coturn look for a file named
``/opt/certs/fullchain.pem # new``. So when this editor rewrites such a line it moves the
``# ...`` part onto its own comment line above, where it means what its author wanted.

A new option goes right below the last commented-out example of it (``#cert=...``), or at the
end. Removing an option comments its line out. The result is parsed again and every option that
was not asked for must read exactly as before, or nothing is returned. CRLF endings and the
file's final-newline state are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Union

from app.errors import HardstepError
from app.redact import remember_secrets

# A wanted value: text (one line ``key=text``), True (a bare flag) or a list (repeated lines).
Wanted = Union[str, bool, list[str]]
TRUE_WORDS = {"1", "on", "yes", "true", "t", "y"}
_TRAILING_COMMENT = re.compile(r"\s#")


class TurnConfEditError(HardstepError):
    """The file cannot be edited safely; nothing was written."""


@dataclass(frozen=True)
class Option:
    line: int  # index into the file's lines
    key: str
    value: str | None  # None: a bare flag


def split_lines(text: str) -> list[str]:
    """Lines with their endings; only ``\\n`` ends a line (a ``\\r`` before it stays in the line)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _option(index: int, line: str) -> Option | None:
    body = line.rstrip("\r\n").strip()
    if not body or body.startswith("#"):
        return None
    key, sep, value = body.partition("=")
    return Option(index, key.strip(), value.strip() if sep else None)


def parse(text: str) -> list[Option]:
    """The active options, in file order (their secrets remembered, so no later text quotes one)."""
    options = [o for i, line in enumerate(split_lines(text)) if (o := _option(i, line))]
    for option in options:
        remember_secrets({option.key: option.value})
    return options


def values(text: str) -> dict[str, list[str | None]]:
    """Active values per key, in file order (coturn uses the last one of a single option)."""
    found: dict[str, list[str | None]] = {}
    for option in parse(text):
        found.setdefault(option.key, []).append(option.value)
    return found


def is_on(value: str | None) -> bool:
    """A flag line: bare, or with a true word (``no-cli=yes``)."""
    return value is None or value.lower() in TRUE_WORDS


def holds(current: list[str | None], wanted: Wanted) -> bool:
    """True when the active values of a key already say ``wanted``."""
    if wanted is True:
        return any(is_on(v) for v in current) and all(is_on(v) for v in current)
    if isinstance(wanted, list):
        return all(w in current for w in wanted)
    return bool(current) and all(v == wanted for v in current)


def set_options(text: str, wanted: dict[str, Wanted], unset: Iterable[str] = ()) -> str:
    """Return ``text`` with ``wanted`` set and the options in ``unset`` commented out.

    A text wanted value replaces every active line of its key; a list adds the values the file
    lacks; True makes the key a bare flag. Applying twice equals applying once.
    """
    unset = [key for key in unset if key not in wanted]
    before = values(text)
    todo = {k: v for k, v in wanted.items() if not holds(before.get(k, []), v)}
    drop = [k for k in unset if k in before]
    if not todo and not drop:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    no_final_newline = bool(text) and not text.endswith("\n")
    lines = split_lines(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline  # so a line can follow it; taken off again below
    replaced: dict[int, list[str]] = {}
    after: dict[int, list[str]] = {}  # new lines after this index (-1: at the very start)
    for option in parse(text):
        if option.key in drop:
            replaced[option.line] = [_comment_out(lines[option.line])]
        elif option.key in todo and not isinstance(todo[option.key], list):
            if todo[option.key] is True and is_on(option.value):
                continue
            replaced[option.line] = _rewrite(lines[option.line], option.key, todo[option.key], newline)
    for key, value in todo.items():
        missing = ([v for v in value if v not in before.get(key, [])] if isinstance(value, list)
                   else [] if key in before else [value])
        if missing:
            spot = _spot(lines, key, [o.line for o in parse(text) if o.key == key])
            after.setdefault(spot, []).extend(_line(key, v, newline) for v in missing)
    out = after.get(-1, [])
    for index, line in enumerate(lines):
        out += replaced.get(index, [line]) + after.get(index, [])
    result = "".join(out)
    if no_final_newline and result.endswith(newline):
        result = result[:-len(newline)]
    _verify(text, result, wanted, unset)
    return result


def _line(key: str, value: str | bool, newline: str) -> str:
    return f"{key}{newline}" if value is True else f"{key}={value}{newline}"


def _rewrite(line: str, key: str, value: str | bool, newline: str) -> list[str]:
    """``key=value`` in place of ``line``, keeping its indent; a ``# note`` after the old value
    moves onto a comment line above (coturn would read it as part of the value)."""
    body = line.rstrip("\r\n")
    ending = line[len(body):] or newline
    indent = body[:len(body) - len(body.lstrip())]
    _, _, old = body.partition("=")
    note = _TRAILING_COMMENT.search(old)
    lead = [f"{indent}{old[note.start():].strip()}{ending}"] if note else []
    return lead + [indent + _line(key, value, ending)]


def _comment_out(line: str) -> str:
    body = line.lstrip()
    return line[:len(line) - len(body)] + "#" + body


def _spot(lines: list[str], key: str, active: list[int]) -> int:
    """Index of the line a new ``key`` line goes after: its last active line, else its last
    commented-out example, else the file's last line."""
    if active:
        return active[-1]
    example = re.compile(rf"^\s*#\s*{re.escape(key)}\s*(?:=.*)?$")
    examples = [i for i, line in enumerate(lines) if example.match(line.rstrip("\r\n"))]
    return examples[-1] if examples else len(lines) - 1


def _verify(before: str, after: str, wanted: dict[str, Wanted], unset: list[str]) -> None:
    touched = set(wanted) | set(unset)
    old = [(o.key, o.value) for o in parse(before) if o.key not in touched]
    new = [(o.key, o.value) for o in parse(after) if o.key not in touched]
    result = values(after)
    ok = old == new and all(holds(result.get(k, []), v) for k, v in wanted.items()) \
        and not any(k in result for k in unset)
    if not ok:
        raise TurnConfEditError(f"setting {', '.join(sorted(touched))} would change other options too; "
                                "nothing was written (please report this file)")
