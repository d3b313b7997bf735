"""hardstep's seccomp profile (``assets/seccomp/hardstep.json``) and how to recognise it.

The engine wants the profile's JSON itself in ``--security-opt seccomp=<json>`` (the docker CLI
reads the file for you), and keeps that text verbatim in the container's HostConfig: comparing
parsed JSON tells whether a container runs hardstep's profile.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

ASSET = ("seccomp", "hardstep.json")


@lru_cache(maxsize=1)
def profile() -> dict[str, Any]:
    from app.assets import read_asset

    return json.loads(read_asset(*ASSET))


def profile_text() -> str:
    """The file's text, as installed for daemon.json's ``seccomp-profile``."""
    from app.assets import read_asset

    return read_asset(*ASSET)


def security_opt() -> str:
    """The ``seccomp=<json>`` security option, compact so the inspect data stays small."""
    return "seccomp=" + json.dumps(profile(), separators=(",", ":"), sort_keys=True)


def option_name(option: str) -> str:
    """``seccomp=...`` / ``seccomp:...`` -> ``seccomp``; ``no-new-privileges:true`` -> ``no-new-privileges``."""
    for sep in ("=", ":"):
        head, found, _ = option.partition(sep)
        if found:
            return head.strip().lower()
    return option.strip().lower()


def describe(security_opts: list[str] | None) -> str:
    """Which seccomp profile the security options name: ``hardstep profile``, ``unconfined``,
    ``custom profile`` or ``engine default``."""
    for option in security_opts or []:
        if option_name(option) != "seccomp":
            continue
        value = option[len("seccomp") + 1:].strip()
        if value == "unconfined":
            return "unconfined"
        try:
            return "hardstep profile" if json.loads(value) == profile() else "custom profile"
        except ValueError:
            return "custom profile"
    return "engine default"
