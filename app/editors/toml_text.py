"""Set keys of one TOML table while leaving every other byte of the file as it was.

tomlkit keeps comments, but it appends new keys after a table's trailing comments (so they land
under the next section's banner) and without the file's indentation. Here tomlkit parses and
validates; the change itself is made on the text, at the key's own line, next to a commented-out
example of the key when there is one, and the result is parsed again and compared with what was
intended before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

from app.errors import HardstepError
from app.redact import remember_secrets

_SCALAR = r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^\s#]+'
_HEADER = re.compile(r"^\s*\[(?!\[)")


class TomlEditError(HardstepError):
    """The file cannot be edited safely; nothing was written."""


def parse(text: str, path: str = "the file"):
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise TomlEditError(f"{path} is not valid TOML ({problem(text, exc)}); fix it by hand, "
                            "nothing was written") from None
    remember_secrets(document)  # so no text hardstep shows later can quote one of them
    return document


def problem(text: str, exc: Exception) -> str:
    """tomlkit's complaint with its place, ``line 3, column 6: Key "a" already exists``. A
    repeated key (KeyAlreadyPresent) comes without one: the standard library's parser says where."""
    line, column = getattr(exc, "line", None), getattr(exc, "col", None)
    if line is None:
        import tomllib

        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as std:
            place = re.search(r"at line (\d+), column (\d+)", str(std))
            line, column = place.groups() if place else (None, None)
    what = str(exc).split(" at line")[0].rstrip(".")
    return f"line {line}, column {column}: {what}" if line is not None else what


def render(value: Any) -> str:
    import tomlkit

    return tomlkit.item(value).as_string()


def set_keys(text: str, table: tuple[str, ...], values: dict[str, Any], path: str = "the file") -> str:
    """Return ``text`` with ``table``'s keys set to ``values`` (in that order for new keys)."""
    document = parse(text, path)
    expected = document.unwrap()
    node = expected
    for part in table:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise TomlEditError(f"{path}: {'.'.join(table)} is not a table; fix it by hand")
    node.update(values)

    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    header = _find_header(lines, table)
    if header is None and _has_table(document, table):
        result = _set_with_tomlkit(document, table, values)  # dotted keys: no header line to work at
    elif header is None:
        result = _append_table(text, table, values, newline)
    else:
        result = "".join(_edit_body(lines, header, values, newline))
        if text and not text.endswith("\n") and result.endswith("\n"):
            result = result[:-len(newline)]  # keep the file's "no final newline" state
    if parse(result, path).unwrap() != expected:
        raise TomlEditError(f"{path}: the edit would change more than {', '.join(values)}; "
                            "nothing was written (please report this file)")
    return result


def _find_header(lines: list[str], table: tuple[str, ...]) -> int | None:
    parts = r"\s*\.\s*".join(rf'(?:{re.escape(p)}|"{re.escape(p)}"|\'{re.escape(p)}\')' for p in table)
    pattern = re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(?:#.*)?$")
    for index, line in enumerate(lines):
        if pattern.match(line.rstrip("\r\n")):
            return index
    return None


def _has_table(document, table: tuple[str, ...]) -> bool:
    node = document
    for part in table:
        if not hasattr(node, "get") or part not in node:
            return False
        node = node[part]
    return True


def _set_with_tomlkit(document, table: tuple[str, ...], values: dict[str, Any]) -> str:
    import tomlkit

    node = document
    for part in table:
        node = node[part]
    for key, value in values.items():
        node[key] = value
    return tomlkit.dumps(document)


def _append_table(text: str, table: tuple[str, ...], values: dict[str, Any], newline: str) -> str:
    block = [f"[{'.'.join(table)}]"] + [f"  {key} = {render(value)}" for key, value in values.items()]
    ends_open = not text or text.endswith(("\n", "\r"))
    lead = "" if not text else (newline if ends_open else newline * 2)
    tail = newline if ends_open else ""  # keep the file's "no final newline" state
    return text + lead + newline.join(block) + tail


def _edit_body(lines: list[str], header: int, values: dict[str, Any], newline: str) -> list[str]:
    end = next((i for i in range(header + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    body = lines[header + 1:end]
    key_lines = [i for i, l in enumerate(body) if re.match(r"\s*[\w\"'-]+\s*[=.]", l)]
    indent = re.match(r"\s*", body[key_lines[0]]).group(0) if key_lines else ""
    # A new key goes after the table's last key (-1: right after the header), unless the file
    # has a commented-out example of it, which it then follows.
    last_key = key_lines[-1] if key_lines else -1
    inserts: dict[int, list[str]] = {}  # body index -> new lines after it (-1: after the header)
    for key, value in values.items():
        active = re.compile(rf"^(\s*[\"']?{re.escape(key)}[\"']?\s*=\s*)({_SCALAR})(.*)$", re.DOTALL)
        for i, line in enumerate(body):
            match = active.match(line)
            if match:
                if parse(f"x = {match.group(2)}").unwrap()["x"] != value:
                    body[i] = f"{match.group(1)}{render(value)}{match.group(3)}"
                break
        else:
            example = re.compile(rf"^(\s*)#\s*[\"']?{re.escape(key)}[\"']?\s*=")
            spot = next(((i, m.group(1)) for i, l in enumerate(body) if (m := example.match(l))), (last_key, indent))
            inserts.setdefault(spot[0], []).append(f"{spot[1]}{key} = {render(value)}{newline}")
    result = lines[:header + 1] + inserts.get(-1, [])
    for i, line in enumerate(body):
        if i in inserts and not line.endswith("\n"):
            line += newline  # the example was the file's last line, without a newline
        result += [line] + inserts.get(i, [])
    if body == [] and -1 in inserts and not lines[header].endswith("\n"):
        result[header] = lines[header] + newline
    return result + lines[end:]
