"""Docker-style sizes (``256m``, ``1g``) and command lists, validated before they reach the engine."""

from __future__ import annotations

import re

_SIZE = r"(?i)([0-9]{1,12})([bkmg]?)"  # compiled by ``re`` on first use, not at import
_FACTOR = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def parse_size(value: object) -> int | None:
    """``"256m"`` -> 268435456 bytes, as ``docker run --memory`` reads it; None when invalid or 0."""
    match = re.fullmatch(_SIZE, value) if isinstance(value, str) else None
    if not match:
        return None
    size = int(match[1]) * _FACTOR[match[2].lower()]
    return size or None


def format_size(size: int | None) -> str:
    """268435456 -> ``"256m"``; 0 or None -> ``"unlimited"``."""
    if not size or size < 0:
        return "unlimited"
    for unit in ("g", "m", "k"):
        if size % _FACTOR[unit] == 0:
            return f"{size // _FACTOR[unit]}{unit}"
    return f"{size}b"


def is_argv(value: object) -> bool:
    """A command as an argument list: words without control characters, the first a program name
    or an absolute path. Empty is allowed (it means: detect)."""
    if not isinstance(value, list):
        return False
    if any(not isinstance(w, str) or not w or re.search(r"[\x00-\x1f]", w) for w in value):
        return False
    return not value or value[0].startswith("/") or bool(re.fullmatch(r"[A-Za-z0-9_.+-]+", value[0]))
