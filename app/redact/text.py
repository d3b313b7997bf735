"""Secrets out of free text: the last line of defence for everything hardstep shows, logs or stores.

The rules, in the order they run: PEM private keys; assignments at the start of a line (YAML
``key: value``, TOML/INI ``key = value``, coturn ``key=value``, ``export KEY=value``, JSON
``"key": "value"``, commented-out examples too) with every line that continues them (block,
folded and multi-line YAML scalars, a nested mapping or list under a secret key, a TOML
multi-line string); ``name:password`` lists; key/value pairs anywhere in a line (flow mappings,
JSON, libpq/coturn connection strings, ``--flag=value``, query strings); ``--flag value``; URL
passwords; HTTP Basic/Bearer credentials; a YAML parser's duplicate-key message; and last every
secret value met before (``known``). Keys, quotes and layout stay, so diffs remain readable.

Patterns are plain strings compiled on first use: importing this module (the engine does, before
the wizard's first frame) compiles nothing.
"""

from __future__ import annotations

import json
import re
from functools import cache

from app.redact import known
from app.redact.names import REDACTED, harmless, is_credential_list, is_secret_key

# Its armour lines stay, each line of its body becomes <redacted> (a cut-off key counts too).
_PEM = (r"(?s)(?P<head>-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)"
        r"(?:(?P<body>.*?)(?P<tail>-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)|(?P<cut>[A-Za-z0-9+/=\s\\]*))")
_KEY = r"-{0,2}[A-Za-z_][\w.\-]*"
_LINE = (r"^(?P<lead>[-+]?[ \t]*(?:-[ \t]+)*(?:\#[ \t]*)?(?:export[ \t]+)?)(?P<q>[\"']?)"
         rf"(?P<key>{_KEY})(?P=q)(?P<sep>[ \t]*(?::(?=[ \t\"']|$)|=)[ \t]*)(?P<value>.*?)\r?$")
# The part of a continuation line that stays: its indentation, list dashes and a ``key:``.
_CONTINUED = r"^(?P<head>[-+]?[ \t]*(?:-[ \t]+)*(?:[\w.\-\"']+[ \t]*:(?:[ \t]+|$))?)(?P<rest>.*?)(?P<cr>\r?)$"
# A block scalar's indicator, an anchor or a tag alone: the value itself is on the lines below.
_INDICATOR = r"^(?:[|>][-+0-9]*|[&!]\S*)?(?:[ \t]+#.*)?$"
_QUOTED = r"\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\n]|'')*'?"
# Where a key may start inside a line: at its start, after blanks, brackets, separators, quotes.
_START = r"(?<![^\s{,(\[?&;|=\"'])"
_PAIR = (rf"{_START}(?P<q>[\"']?)(?P<key>{_KEY})(?P=q)(?P<sep>[ \t]*:[ \t]+|:(?=[\"'])|[ \t]*=[ \t]*)"
         rf"(?P<value>{_QUOTED}|(?i:(?:basic|bearer|digest|token)[ \t]+)?(?:[^\s,}}\]\"'&]|&(?![\w.\-]+=))+)")
_CREDENTIALS = rf"(?i){_START}(?P<key>-{{0,2}}(?:[\w.\-]*\.)?users?)(?P<sep>=|[ \t]+(?=[^\s:]+:))(?P<value>[^\s\"']+)"
_NAME_PASSWORD = r"(?P<name>[^\s:,\"'\[\]]+):(?P<password>[^\s,\"'\]]+)"
_FLAG = rf"(?<!\S)(?P<key>--[A-Za-z][\w.\-]*)(?P<sep>[ \t]+)(?P<value>{_QUOTED}|[^\s\-]\S*)"
_URL = r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"']*:)(?P<password>[^\s\"']+)(?=@)"
_HTTP = r"(?i)\b(?P<head>(?:basic|bearer)[ \t]+)(?P<password>(?=[\w+/=.~\-]*[\d+/=])[\w+/=.~\-]{8,})"
_DUPLICATE = r"(?P<a>with value )\"(?P<v>.*?)\"(?P<b> \(original value: )\"(?P<w>.*)\"\)"


@cache
def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def redact(text: str) -> str:
    """Replace secret values with ``<redacted>``, keeping keys and layout so diffs stay readable."""
    if not text:
        return text
    text = _rx(_PEM).sub(_pem, text)
    text = _lines(text)
    text = _inline(text)
    text = _rx(_FLAG).sub(_flag, text)
    text = _rx(_URL).sub(lambda m: m["head"] + _gone(m["password"]), text)
    text = _rx(_HTTP).sub(lambda m: m["head"] + _gone(m["password"]), text)
    text = _rx(_DUPLICATE).sub(lambda m: f'{m["a"]}"{_gone(m["v"])}"{m["b"]}"{_gone(m["w"])}")', text)
    return known.scrub(text)


def _pem(match: re.Match) -> str:
    body = match["cut"] if match["cut"] is not None else match["body"]
    return match["head"] + _rx(r"\S+").sub(REDACTED, body) + (match["tail"] or "")


def hide(value: str) -> str:
    """One secret value out, its quotes and what follows a closed quote kept; remembered."""
    if harmless(value) or _rx(_INDICATOR).match(value):  # no value here: it is on the lines below
        return value
    if value[:1] in "\"'":
        quoted = _rx(_QUOTED).match(value)
        inner = quoted.group(0)
        closed = len(inner) > 1 and inner.endswith(value[0])
        known.remember(inner[1:-1] if closed else inner[1:])
        return value[0] + REDACTED + (value[0] + value[quoted.end():] if closed else "")
    return _gone(value)


def credentials(value: str) -> str:
    """``name:password`` items (comma-separated, or a list) with each password out."""
    return _rx(_NAME_PASSWORD).sub(lambda m: f"{m['name']}:{_gone(m['password'])}", value)


def _gone(value: str) -> str:
    if harmless(value):
        return value
    known.remember(value)
    return REDACTED


def _lines(text: str) -> str:
    out: list[str] = []
    column: int | None = None  # lines indented deeper than this continue a secret value
    closing = ""  # the quotes that end a TOML multi-line secret string
    for line in text.split("\n"):
        if closing:
            end = line.find(closing)
            out.append(_gone(line[:end] if end >= 0 else line) + (line[end:] if end >= 0 else ""))
            closing = "" if end >= 0 else closing
            continue
        if column is not None and (not line.strip() or _indent(line) > column):
            out.append(_continued(line))
            continue
        column = None
        match = _rx(_LINE).match(line)
        if match is None or not (is_secret_key(match["key"]) or is_credential_list(match["key"])):
            out.append(line)
            continue
        start, end, value = match.start("value"), match.end("value"), match["value"]
        if is_credential_list(match["key"]):
            out.append(line[:start] + credentials(value) + line[end:])
            continue
        opener = value[:3]
        if opener in ('"""', "'''") and value.count(opener) == 1:
            closing = opener
            known.remember(value[3:])
            out.append(line[:start] + opener + REDACTED + line[end:])
            continue
        out.append(line[:start] + hide(value) + line[end:])
        if ":" in match["sep"]:
            column = match.start("key")
    return "\n".join(out)


def _indent(line: str) -> int:
    """Columns before a line's content; a leading ``-``/``+`` (a diff's, or a list dash) counts."""
    marker = 1 if line[:1] in "-+" else 0
    body = line[marker:]
    return marker + len(body) - len(body.lstrip(" \t"))


def _continued(line: str) -> str:
    match = _rx(_CONTINUED).match(line)
    rest = match["rest"]
    if harmless(rest) or _rx(_INDICATOR).match(rest):
        return line
    return match["head"] + _gone(rest) + match["cr"]


def _inline(text: str) -> str:
    text = _rx(_CREDENTIALS).sub(lambda m: m["key"] + m["sep"] + credentials(m["value"]), text)
    return _rx(_PAIR).sub(_pair, text)


def _pair(match: re.Match) -> str:
    key, value = match["key"], match["value"]
    head = match.group(0)[: match.start("value") - match.start()]
    if is_secret_key(key):
        return head + hide(value)
    if is_credential_list(key):
        return head + credentials(value)
    # Not a secret itself, but its value may hold one: ``-e=DB_PASSWORD=x``, ``{"a": "password: x"}``.
    if value[:1] in "\"'" and len(value) > 1 and value.endswith(value[0]):
        if value[0] == '"' and "\\" in value:
            return head + _escaped(value)
        return head + value[0] + _inline(value[1:-1]) + value[0]
    return head + _inline(value)


def _escaped(value: str) -> str:
    """A JSON string with escapes (a diff or an error inside the state or a report): redacted
    as the text it stands for, then written back, unchanged unless a secret went."""
    try:
        text = json.loads(value)
    except ValueError:
        return value[0] + _inline(value[1:-1]) + value[0]
    cleaned = redact(text) if isinstance(text, str) else text
    return value if cleaned == text else json.dumps(cleaned)


def _flag(match: re.Match) -> str:
    key = match["key"]
    if is_secret_key(key):
        return match["key"] + match["sep"] + hide(match["value"])
    if is_credential_list(key):
        return match["key"] + match["sep"] + credentials(match["value"])
    return match.group(0)
