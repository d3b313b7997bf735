"""Reading YAML lines as text, for the line surgery of ``yaml_text``: where a comment starts,
where a key or a quoted string ends, where a value sits, and where a key's commented-out
example is. No parsing: these work on one line's characters (``key_end`` raises ValueError)."""

from __future__ import annotations

import re


def comment_start(text: str) -> int:
    """Index of the ``#`` that starts the comment of a line (after whitespace, outside quotes)."""
    index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"" and (index == 0 or text[index - 1] in " \t[{,:-"):
            index = quoted_end(text, index)
            continue
        if char == "#" and (index == 0 or text[index - 1] in " \t"):
            return index
        index += 1
    return len(text)


def is_content(line: str) -> bool:
    return not line.lstrip().startswith("#") and bool(line.strip())


def commented_spot(lines: list[str], key: str, key_lines: set[int]) -> tuple[int, int] | None:
    """Where to put ``key`` below its commented-out example, and that example's list indent."""
    head = re.compile(rf"^#( ?){re.escape(key)}[ \t]*:(?:[ \t]|\r?\n|$)")
    for number, line in enumerate(lines):
        match = head.match(line)
        if not match:
            continue
        indent, end = None, number + 1
        while end < len(lines) and re.match(r"^#(?:[ \t]{2,}\S|[ \t]?-[ \t])", lines[end]):
            dash = lines[end].find("-")
            if indent is None and lines[end][1:dash].strip() == "":
                indent = max(dash - 1 - len(match.group(1)), 0)
            end += 1
        following = next((n for n in range(end, len(lines)) if is_content(lines[n])), None)
        if following is None or following in key_lines:  # between two top-level keys only
            return end, 2 if indent is None else indent
        return None
    return None


def key_end(body: str, col: int) -> int:
    """Index just after the ``:`` that ends the key starting at ``col``."""
    index = col
    if body[index:index + 1] in ("'", '"'):
        index = quoted_end(body, index)
    while index < len(body):
        if body[index] == ":" and (index + 1 == len(body) or body[index + 1] in " \t"):
            return index + 1
        index += 1
    raise ValueError(f"cannot find the end of the key in: {body[:60]!r}")


def quoted_end(body: str, index: int) -> int:
    quote, index = body[index], index + 1
    while index < len(body):
        if quote == '"' and body[index] == "\\":
            index += 2
            continue
        if body[index] == quote:
            if quote == "'" and body[index + 1:index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return len(body)


def value_span(after: str) -> tuple[int, int]:
    """(start, end) of the value text in what follows a key's colon, before any comment."""
    value = after[:comment_start(after)]
    start = len(value) - len(value.lstrip(" \t"))
    return start, max(start, len(value.rstrip(" \t")))
