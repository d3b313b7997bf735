"""Containers stopped, kept for rollback and brought back: nothing comes back on its own.

A replace keeps the old container, stopped, as ``<name>-hardstep-<time>``. It keeps it with
restart policy ``no``: with its own ``always`` (common in compose files) the engine would start it
again at its next restart, which the daemon step does, or at the next boot, beside its twin: an
old Traefik that still mounts the socket, or two Postgres on the same data. The undo record holds
its own policy, and rollback gives it back.

Stop grace (seconds between SIGTERM and SIGKILL): the container's own ``StopTimeout`` when it has
one (``docker run --stop-timeout``, compose's ``stop_grace_period``); otherwise 120 s for databases
and Synapse, which Docker's 10 s can cut short in the middle of a checkpoint (the postgres image's
maintainers use 120: docker-library/postgres#1207), and Docker's own 10 s for everything else. A stop
returns as soon as the process exits, so a long grace costs time only when it is needed.
"""

from __future__ import annotations

import re
from typing import Any

DATABASES = re.compile(r"postgres|postgis|mariadb|mysql|mongo|redis|valkey")
STATEFUL_GRACE = 120
DEFAULT_GRACE = 10  # what docker stop and compose give a container that sets none
NO_RESTART = {"Name": "no", "MaximumRetryCount": 0}


def stop_grace(attrs: dict[str, Any]) -> int:
    """Seconds ``attrs`` (an inspected container) gets to stop before the engine kills it."""
    config = attrs.get("Config") or {}
    if config.get("StopTimeout") is not None:
        return int(config["StopTimeout"])
    text = f"{attrs.get('Name', '').lstrip('/')} {config.get('Image', '')}".lower()
    return STATEFUL_GRACE if DATABASES.search(text) or "synapse" in text else DEFAULT_GRACE


def restart_policy(container) -> dict[str, Any]:
    return dict((container.attrs.get("HostConfig") or {}).get("RestartPolicy") or NO_RESTART)


def comes_back(policy: dict[str, Any] | None) -> bool:
    return bool(policy) and policy.get("Name") not in ("", "no")


def policy_flag(policy: dict[str, Any]) -> str:
    """The policy as ``docker run --restart`` takes it: ``always``, ``on-failure:5``."""
    retries = policy.get("MaximumRetryCount")
    return (policy.get("Name") or "no") + (f":{retries}" if retries else "")


def keep_stopped(container) -> None:
    """Stop a kept container for good: restart policy ``no`` first, then a stop with its grace."""
    if comes_back(restart_policy(container)):
        container.update(restart_policy=NO_RESTART)
    container.stop(timeout=stop_grace(container.attrs))


def bring_back(container, name: str, policy: dict[str, Any] | None, running: bool) -> None:
    """A kept container under its own name again, with its own restart policy (None: a record
    from before policies were kept, which left it its own), started if it ran."""
    container.rename(name)
    if comes_back(policy):
        container.update(restart_policy=policy)
    if running:
        container.start()


def remove_gracefully(container) -> None:
    """Stop with the container's grace, then remove: ``rm -f`` alone is a SIGKILL."""
    if container.status in ("running", "restarting", "paused"):
        container.stop(timeout=stop_grace(container.attrs))
    container.remove(force=True)
