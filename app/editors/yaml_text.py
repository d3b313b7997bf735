"""Set top-level keys of a YAML file while every other byte stays as it was.

A ruamel.yaml round-trip dump drops quotes, folds long lines and re-indents every sequence in
the file to one style (FACTS, "Editing config files"). So ruamel only parses here: to validate
the file and to find each key's line (``.lc``). The change is made on the text, at the key's own
lines; a key that is not set yet goes right below its commented-out example (``#key:`` and the
commented lines under it) or, failing that, at the end. The result is parsed again and every
key that was not asked for must keep its value, or nothing is returned.

Values are read with YAML 1.1 rules, as Synapse (PyYAML) reads them: ``yes`` is true, ``0660``
is octal. Untouched values keep their original text, so their meaning cannot drift.

API: ``parse(text, path)``, ``load_plain(text, path)``, ``set_keys(text, values, path)``,
``render_scalar(value)``; every refusal is a ``YamlEditError`` (a HardstepError).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.editors.yaml_aliases import alias_problem
from app.editors.yaml_scan import comment_start, commented_spot, is_content, key_end, value_span
from app.errors import HardstepError
from app.redact import remember_secrets


class YamlEditError(HardstepError):
    """The file cannot be read or edited safely; nothing was written."""


# Jinja expressions, statements and comments: an unrendered template, not a config file.
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
# Top-level keys whose quoted values Synapse itself renders as Jinja (SSO attribute mapping).
_SYNAPSE_TEMPLATE_KEYS = frozenset({"oidc_providers", "oidc_config", "saml2_config", "cas_config",
                                    "jwt_config", "sso"})
_TOP_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s#'"\-?:|>!&*%@`{\[][^:#]*?)[ \t]*:(?:[ \t]|$)""")
_QUOTED_TEMPLATE = re.compile(r"""^\s*(?:-\s+)?[\w.-]+:\s*(["']).*\1\s*(?:#.*)?$""")
_ODD_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: keeps .lc positions and flow/block style
    yaml.version = (1, 1)  # Synapse reads its config with PyYAML, i.e. YAML 1.1
    return yaml


def _refuse_templates(text: str, path: str) -> None:
    top = ""
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        match = _TOP_KEY.match(line)
        if match:
            top = match.group(1).strip("'\"")
        # A marker that starts before the line's comment counts, even when it ends inside it.
        found = next((m for m in _JINJA.finditer(line) if m.start() < comment_start(line)), None)
        if not found or (top in _SYNAPSE_TEMPLATE_KEYS and _QUOTED_TEMPLATE.match(line)):
            continue  # allowed: e.g. localpart_template: "{{ user.preferred_username }}"
        raise YamlEditError(f"{path} contains Jinja template syntax at line {number} ({found.group(0)[:40]}): "
                            "it looks like an unrendered template; edit the template it comes from by hand. "
                            "Nothing was written.")


def parse(text: str, path: str = "the file"):
    """The file as a ruamel CommentedMap (empty for an empty file); YamlEditError when it is a
    template, does not parse (with line and column), or is not a mapping at the top."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    _refuse_templates(text, path)
    if _ODD_BREAKS.search(text):
        raise YamlEditError(f"{path} uses line breaks other than \\n and \\r\\n; "
                            "hardstep cannot edit it line by line. Nothing was written.")
    try:
        document = _yaml().load(text)
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # A repeated key's message quotes both values, and the key may be a secret's: name the key only.
        problem = re.sub(r"(duplicate key .*?) with value .*", r"\1", problem, flags=re.S)
        raise YamlEditError(f"{path} is not valid YAML{_where(exc, text)}: {problem}; fix it by hand. "
                            "Nothing was written.") from None
    except RecursionError:
        raise YamlEditError(f"{path} nests its values too deeply to read; flatten it by hand. "
                            "Nothing was written.") from None
    except (AttributeError, KeyError, TypeError):  # the parser's own failure, e.g. on a merge of itself
        raise YamlEditError(f"{path} could not be read as YAML (an alias or merge key that refers to its own "
                            "value?); fix it by hand. Nothing was written.") from None
    if document is None:
        return CommentedMap()
    if not isinstance(document, CommentedMap):
        raise YamlEditError(f"{path} is not a YAML mapping of settings (it holds a "
                            f"{type(document).__name__}); nothing was written.")
    problem = alias_problem(document)
    if problem:
        raise YamlEditError(f"{path} {problem}; hardstep refuses to read it. Write those values out, or remove "
                            "the anchors (&name) and aliases (*name), by hand. Nothing was written.")
    remember_secrets(document)  # so no text hardstep shows later can quote one of them
    return document


def _where(exc: Exception, text: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return f" (line {mark.line + 1}, column {mark.column + 1})"
    position = getattr(exc, "position", None)  # a ReaderError (bad character) has no mark
    if position is None:
        return ""
    return f" (line {text.count(chr(10), 0, position) + 1}, column {position - text.rfind(chr(10), 0, position)})"


def plain(node: Any) -> Any:
    """ruamel nodes -> plain Python values (dict, list, str, int, float, bool, None)."""
    if isinstance(node, dict):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return "nan" if math.isnan(node) else float(node)  # so NaN equals itself
    return str(node) if isinstance(node, str) else node


def load_plain(text: str, path: str = "the file") -> dict[str, Any]:
    """The file's settings as plain values, read the way Synapse reads them."""
    return plain(parse(text, path))


def render_scalar(value: Any) -> str:
    """One scalar in YAML that both YAML 1.1 and 1.2 readers take back as ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if text and "\n" not in text and _reads_back(text, text):
        return text
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid YAML double-quoted scalars


def _reads_back(source: str, expected: Any) -> bool:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    readers = [YAML(typ="safe", pure=True) for _ in range(2)]
    readers[0].version, readers[1].version = (1, 1), (1, 2)
    try:
        return all(reader.load(f"k: {source}\n") == {"k": expected} for reader in readers)
    except YAMLError:
        return False


# --- editing --------------------------------------------------------------------------------

def set_keys(text: str, values: dict[str, Any], path: str = "the file") -> str:
    """Return ``text`` with the top-level ``values`` set (scalars, or lists of scalars).

    Keys that already hold the value are left alone, so applying twice equals applying once.
    """
    document = parse(text, path)
    if document.merge:
        at = next((n for n, line in enumerate(text.split("\n"), 1) if re.match(r"<<[ \t]*:", line)), "?")
        raise YamlEditError(f"{path} takes settings from elsewhere in the file with a YAML merge key (<<: at line "
                            f"{at}); hardstep edits each setting at its own line and cannot edit merged ones: "
                            "write the merged settings out under their own keys by hand, then plan again. "
                            "Nothing was written.")
    todo = {k: v for k, v in values.items() if k not in document or plain(document[k]) != v}
    if not todo:
        return text
    newline = "\r\n" if re.search(r"^[^\n]*\r\n", text) else "\n"
    no_final_newline = bool(text) and not text.endswith("\n")
    # Lines split on \n only: ``parse`` refused any other line break.
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text + newline if no_final_newline else text)
    result = _edit(document, lines, todo, newline, use_comments=True)
    if not _verified(document, result, todo, path):
        result = _edit(document, lines, todo, newline, use_comments=False)  # fall back to the end
        if not _verified(document, result, todo, path):
            raise YamlEditError(f"{path}: setting {', '.join(todo)} would change other settings too; "
                                "nothing was written (set them by hand, or report this file)")
    return result[: -len(newline)] if no_final_newline else result


def _verified(before, result: str, todo: dict[str, Any], path: str) -> bool:
    """The result parses, holds ``todo``, and every other key means what it meant before."""
    try:
        after = parse(result, path)
    except YamlEditError:
        return False
    return (set(after) == set(before) | set(todo) and all(plain(after[k]) == v for k, v in todo.items())
            and all(plain(after[k]) == plain(before[k]) for k in before if k not in todo))


def _edit(document, lines: list[str], todo: dict[str, Any], newline: str, use_comments: bool) -> str:
    keys = list(document)
    key_lines = {document.lc.key(k)[0] for k in keys}
    replaced: dict[int, tuple[int, list[str]]] = {}  # first line -> (end line, new lines)
    inserted: dict[int, list[str]] = {}  # insert before this line -> new lines
    # New keys without a commented example go after the last setting, above trailing comments
    # such as Synapse's closing "# vim:ft=yaml".
    last = max((n + 1 for n, line in enumerate(lines) if is_content(line)), default=len(lines))
    for key, value in todo.items():
        if key in document:
            start, end = _region(document, keys, lines, key)
            indent = _seq_indent(document, lines, key)
            replaced[start] = (end, _render(lines[start], document.lc.key(key)[1], key, value, indent,
                                            newline, end - start == 1))
            continue
        spot = commented_spot(lines, key, key_lines) if use_comments else None
        at, indent = spot if spot else (last, _seq_indent(document, lines, None))
        inserted.setdefault(at, []).extend(_render(None, 0, key, value, indent, newline, True))
    out: list[str] = []
    resume = 0  # lines before this one were replaced
    for index in range(len(lines) + 1):
        out += inserted.get(index, [])
        if index < len(lines) and index >= resume:
            resume, new = replaced.get(index, (index + 1, [lines[index]]))
            out += new
    return "".join(out)


def _region(document, keys: list, lines: list[str], key) -> tuple[int, int]:
    """Lines [start, end) holding ``key`` and its value, without the comments that follow it."""
    start = document.lc.key(key)[0]
    position = keys.index(key)
    stop = document.lc.key(keys[position + 1])[0] if position + 1 < len(keys) else len(lines)
    end = start + 1
    for number in range(start + 1, stop):
        if is_content(lines[number]):
            end = number + 1
    return start, end


def _seq_indent(document, lines: list[str], key) -> int:
    """Spaces before ``-`` for a new block list: the key's own style, else the file's, else 2."""
    from ruamel.yaml.comments import CommentedSeq

    candidates = ([key] if key is not None else []) + list(document)
    for name in candidates:
        value = document.get(name)
        if isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            line = lines[value.lc.item(0)[0]]
            if line.lstrip(" ").startswith("-"):
                return len(line) - len(line.lstrip(" "))
    return 2


def _render(line: str | None, col: int, key: str, value: Any, indent: int, newline: str,
            single: bool) -> list[str]:
    """New lines for ``key: value``, reusing the original key text and a trailing comment."""
    if line is None:
        head, after, ending = render_scalar(key) + ":", "", newline
    else:
        body = line.rstrip("\r\n")
        try:
            colon = key_end(body, col)
        except ValueError as exc:
            raise YamlEditError(str(exc)) from None
        head, after, ending = body[:colon], body[colon:], line[len(body):] or newline
    start, stop = value_span(after)
    if start == stop:  # nothing after the colon but maybe a comment: keep it as it was
        gap, rest = " ", after
    elif single:
        gap, rest = after[:start], after[stop:]
    else:  # a multi-line value starting on the key line (flow list, block scalar): it all goes
        gap, rest = " ", ""
    if isinstance(value, list) and value:
        items = [f"{' ' * indent}- {render_scalar(item)}{newline}" for item in value]
        return [f"{head}{rest if start != stop else after}{ending}"] + items
    rendered = "[]" if isinstance(value, list) else render_scalar(value)
    return [f"{head}{gap}{rendered}{rest}{ending}"]
