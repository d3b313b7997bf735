"""Aliases (``*name``) that expand a small YAML file into a huge or endless one.

A parsed document shares the node an alias names, so reading it is cheap; turning it into plain
values (every comparison and check does) expands each alias. Nested anchors (an alias bomb)
expand to billions of values and would hang a cron ``hardstep check``; a node that contains
itself never ends. Both are found here by counting, without expanding anything.
"""

from __future__ import annotations

from typing import Any

# A real homeserver.yaml has a few thousand values once expanded.
MAX_VALUES = 100_000


def alias_problem(document: Any) -> str | None:
    """What makes ``document`` unsafe to expand, or None. Depth first without recursion, each
    shared node sized once."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()  # the ancestors of the node being looked at
    stack: list[tuple[Any, bool]] = [(document, False)]
    while stack:
        node, finished = stack.pop()
        children = [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list))]
        if finished:
            entered.discard(id(node))
            sizes[id(node)] = len(node) + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_VALUES:
                return (f"expands to more than {MAX_VALUES:,} values through its aliases (*name; nested "
                        "anchors: an alias bomb?)")
        elif id(node) in entered:
            return "holds a value that contains itself through an alias (*name)"
        elif id(node) not in sizes:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return None
