"""Set keys of a JSON object file (``daemon.json``) while leaving every other byte as it was.

``json`` parses and validates (a file that is not valid JSON, or repeats a key, is refused);
the change itself is made on the text: a changed value is replaced where it stands, a new key
is added after the object's last member with the indentation, key separator and line endings the
file already uses. The result is parsed again and compared with what was intended.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.errors import HardstepError
from app.redact import remember_secrets

_WS = " \t\r\n"
_LITERAL = re.compile(r"-?[0-9][0-9.eE+-]*|-|true|false|null")
DEFAULT_INDENT = "  "


class JsonEditError(HardstepError):
    """The file cannot be edited safely; nothing was written."""


def parse(text: str, path: str = "the file") -> dict[str, Any]:
    """The file's object; ``""`` counts as ``{}``. Invalid JSON, repeated keys or a top level
    that is not an object are refused with the place of the problem."""
    if not text.strip():
        return {}

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise JsonEditError(f"{path} sets {', '.join(repeated)} twice; fix it by hand, nothing was written")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        # Python's json reads NaN and Infinity; JSON (and dockerd) does not.
        line = next((n for n, l in enumerate(text.splitlines(), 1) if name in l), "?")
        raise JsonEditError(f"{path} holds {name} at line {line}, which is not JSON (dockerd refuses it too); "
                            "write a number there or remove the key, then plan again. Nothing was written")

    try:
        data = json.loads(text, object_pairs_hook=no_repeats, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise JsonEditError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                            "fix it by hand, nothing was written") from None
    if not isinstance(data, dict):
        raise JsonEditError(f"{path} must hold a JSON object ({{...}}); fix it by hand, nothing was written")
    remember_secrets(data)  # a proxy URL may carry a password: no text hardstep shows later quotes it
    return data


def set_keys(text: str, values: dict[str, Any], path: str = "the file") -> str:
    """``text`` with the top-level ``values`` set; a dict value is merged into an existing object."""
    current = parse(text, path)
    expected = json.loads(json.dumps(current))
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(expected.get(key), dict):
            expected[key].update(value)
        else:
            expected[key] = value
    if expected == current:
        return text
    if not text.strip():
        return _render(expected, _Style(DEFAULT_INDENT, ": ", "\n", False), 0) + "\n"
    scanner = _Scanner(text)
    start = scanner.skip(0)
    result = scanner.set_in(start, values, 1)
    if parse(result, path) != expected:  # a bug here must never reach the disk
        raise JsonEditError(f"internal: editing {path} would change more than intended; nothing was written")
    return result


class _Style:
    def __init__(self, unit: str, separator: str, newline: str, inline: bool):
        self.unit, self.separator, self.newline, self.inline = unit, separator, newline, inline


def _render(value: Any, style: _Style, depth: int) -> str:
    """A value in the file's style: objects one member a line (or inline), the rest compact."""
    if not isinstance(value, dict) or not value:
        return json.dumps(value, ensure_ascii=False)
    if style.inline:
        inner = ", ".join(f"{json.dumps(k, ensure_ascii=False)}{style.separator}{_render(v, style, depth + 1)}"
                          for k, v in value.items())
        return "{" + inner + "}"
    pad = style.unit * (depth + 1)
    lines = [f"{pad}{json.dumps(k, ensure_ascii=False)}{style.separator}{_render(v, style, depth + 1)}"
             for k, v in value.items()]
    return "{" + style.newline + ("," + style.newline).join(lines) + style.newline + style.unit * depth + "}"


class _Scanner:
    """Finds members in text already known to be valid JSON."""

    def __init__(self, text: str):
        self.text = text
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _WS:
            i += 1
        return i

    def string_end(self, i: int) -> int:
        i += 1
        while self.text[i] != '"':
            i += 2 if self.text[i] == "\\" else 1
        return i + 1

    def value_end(self, i: int) -> int:
        char = self.text[i]
        if char == '"':
            return self.string_end(i)
        if char not in "{[":
            return _LITERAL.match(self.text, i).end()
        depth = 0
        while True:
            char = self.text[i]
            if char == '"':
                i = self.string_end(i)
                continue
            depth += char in "{["
            depth -= char in "}]"
            i += 1
            if depth == 0:
                return i

    def members(self, start: int) -> tuple[list[tuple[str, int, int, int]], int]:
        """([(key, key_start, value_start, value_end)], index of the closing brace)."""
        found = []
        i = self.skip(start + 1)
        while self.text[i] != "}":
            key_end = self.string_end(i)
            value_start = self.skip(self.skip(key_end) + 1)
            value_end = self.value_end(value_start)
            found.append((json.loads(self.text[i:key_end]), i, value_start, value_end))
            i = self.skip(value_end)
            if self.text[i] == ",":
                i = self.skip(i + 1)
        return found, i

    def style(self, start: int, members: list, depth: int) -> _Style:
        """Indentation, key separator and layout of the object at ``start``."""
        if not members:
            return _Style(DEFAULT_INDENT, ": ", self.newline, False)
        key, key_start, value_start, _ = members[0]
        key_end = self.string_end(key_start)
        separator = self.text[key_end:value_start]
        line_start = self.text.rfind("\n", 0, key_start) + 1
        if line_start <= start:  # the first member shares the brace's line
            return _Style(DEFAULT_INDENT, separator, self.newline, True)
        indent = self.text[line_start:key_start]
        unit = indent[: max(1, len(indent) // depth)] if indent else DEFAULT_INDENT
        return _Style(unit, separator, self.newline, False)

    def set_in(self, start: int, values: dict[str, Any], depth: int) -> str:
        """The whole text with ``values`` set in the object that opens at ``start``."""
        members, close = self.members(start)
        style = self.style(start, members, depth)
        by_key = {m[0]: m for m in members}
        edits: list[tuple[int, int, str]] = []
        added = []
        for key, value in values.items():
            if key in by_key:
                _, _, value_start, value_end = by_key[key]
                if isinstance(value, dict) and self.text[value_start] == "{":
                    inner = _Scanner(self.text[: value_end])
                    merged = inner.set_in(value_start, value, depth + 1)
                    edits.append((value_start, value_end, merged[value_start:]))
                elif json.loads(self.text[value_start:value_end]) != value:
                    edits.append((value_start, value_end, _render(value, style, depth)))
            else:
                added.append(f"{json.dumps(key, ensure_ascii=False)}{style.separator}{_render(value, style, depth)}")
        if added:
            pad = style.unit * depth
            if members and style.inline:
                edits.append((members[-1][3], members[-1][3], ", " + ", ".join(added)))
            elif members:
                joined = "".join(f",{style.newline}{pad}{item}" for item in added)
                edits.append((members[-1][3], members[-1][3], joined))
            else:  # an empty object: lay the members out inside its braces
                body = ("," + style.newline).join(pad + item for item in added)
                edits.append((start + 1, close, style.newline + body + style.newline + style.unit * (depth - 1)))
        text = self.text
        for begin, end, replacement in sorted(edits, reverse=True):
            text = text[:begin] + replacement + text[end:]
        return text
