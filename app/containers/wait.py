"""Waiting for a restarted container to answer, and saying why when it stops instead."""

from __future__ import annotations

import re
import time

from app.engine.actions import ApplyContext
from app.errors import ApplyError


def wait_for_http(url: str, timeout: float, ctx: ApplyContext, container) -> int:
    """Poll ``url`` until it answers below 500. Fails at once, with the container's own last
    error line, when the container stops instead; after ``timeout`` otherwise."""
    from app.net import http

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        # Only "is it up?": the checks, not this wait, judge the certificate.
        answer = http.get(url, timeout=3, verify=False)
        if answer.status is not None and answer.status < 500:
            ctx.log(f"{container.name} answers at {url} (HTTP {answer.status})")
            return answer.status
        last = f"HTTP {answer.status}" if answer.status is not None else answer.failure
        container.reload()
        if container.status not in ("running", "restarting"):
            cause = failure_line(container.logs(tail=40).decode("utf-8", "replace").splitlines())
            raise ApplyError(f"{container.name} stopped after the restart (status {container.status}"
                             + (f"; its log says: {cause[:240]}" if cause else "") + ")")
        time.sleep(1)
    raise ApplyError(f"{container.name} did not answer at {url} within {timeout:.0f}s ({last})")


def failure_line(lines: list[str]) -> str:
    """The log line of a start-up failure that says why (banners and traceback frames skipped)."""
    said = [line.strip() for line in lines if re.search(r"[A-Za-z]", line) and not line.strip().startswith("File ")]
    for index in range(len(said) - 1, -1, -1):
        if "error" in said[index].lower():
            follow = said[index + 1] if said[index].endswith(":") and index + 1 < len(said) else ""
            return f"{said[index]} {follow}".strip()
    return said[-1] if said else ""
