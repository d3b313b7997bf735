"""Proof from inside a sandboxed container: ``exec`` small shell probes where the image has a
shell, and read the kernel's view of its first process (through the host facade) when the
engine's processes are visible there. Each probe returns ``(ok, detail, evidence)``; ``ok``
None means it could not run (the caller then falls back to the inspect data).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from app.containers.commands import ask_shell

if TYPE_CHECKING:
    from app.host.base import Host

Probe = tuple["bool | None", str, dict[str, Any]]


def run(container, script: str) -> tuple[int | None, str]:
    """Run ``sh -c script`` in the container: (exit code, output); code None when it could not
    run or its answer never came back (app.containers.commands)."""
    code, output = ask_shell(container, script)
    return code, output.strip()


def has_shell(container) -> bool:
    code, _ = run(container, "exit 0")
    return code == 0


def _last(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith(("STARTED=", "RC="))]
    return lines[-1] if lines else "no output"


def root_read_only(container) -> Probe:
    marker = f"/.hardstep-probe-{secrets.token_hex(4)}"
    code, out = run(container, f"touch {marker} && rm -f {marker} && echo WROTE")
    if code is None:
        return None, out, {"probe": f"touch {marker}"}
    if "WROTE" in out:
        return False, "wrote a file to /: the root filesystem is writable", {"probe": f"touch {marker}"}
    return True, f"touch {marker} failed: {_last(out)}", {"probe": f"touch {marker}", "output": out}


def tmp_noexec(container) -> Probe:
    script = ('f=/tmp/.hardstep-probe-$$; printf "#!/bin/sh\\necho EXECUTED\\n" > "$f" || { echo NOWRITE; exit 0; }; '
              'chmod +x "$f"; "$f"; rm -f "$f"')
    code, out = run(container, script)
    evidence = {"probe": "write a script to /tmp, then run it", "output": out}
    if code is None:
        return None, out, evidence
    if "NOWRITE" in out:
        return False, f"/tmp is not writable: {_last(out)}", evidence
    if "EXECUTED" in out:
        return False, "a file written to /tmp ran: /tmp allows executing files", evidence
    return True, f"wrote to /tmp; running it failed: {_last(out)}", evidence


def raw_socket(container) -> Probe:
    code, out = run(container, "command -v ping >/dev/null 2>&1 || { echo NOPING; exit 0; }; "
                               "ping -c 1 -W 1 127.0.0.1 2>&1; echo RC=$?")
    evidence = {"probe": "ping -c 1 127.0.0.1 (needs a raw socket)", "output": out}
    if code is None:
        return None, out, evidence
    if "NOPING" in out:
        return None, "the image has no ping", evidence
    if "RC=0" in out:
        return False, "ping opened a raw socket and got an answer", evidence
    return True, f"ping could not open a raw socket: {_last(out)}", evidence


def process_limit(container, limit: int) -> Probe:
    """Start ``limit + 1`` background processes; the limit holds when one of them cannot start.
    The started ones are killed at once, so the container's own work is held up only briefly."""
    wanted = limit + 1
    script = (f'n=0; pids=""; trap \'kill $pids 2>/dev/null\' EXIT; while [ $n -lt {wanted} ]; do '
              'sleep 5 </dev/null >/dev/null 2>&1 & pids="$pids $!"; n=$((n+1)); done; echo STARTED=$n')
    code, out = run(container, script)
    evidence = {"probe": f"start {wanted} processes", "output": out[-300:]}
    if code is None:
        return None, out, evidence
    if f"STARTED={wanted}" in out:
        return False, f"started {wanted} processes: no limit at {limit}", evidence
    return True, f"process {wanted} could not start: {_last(out)}", evidence


def process_status(host: "Host", container) -> dict[str, str] | None:
    """``NoNewPrivs``, ``Seccomp``... of the container's first process, as the kernel shows it
    (read-only); None when the engine's processes are not visible from the host facade or the
    process is gone."""
    pid = (container.attrs.get("State") or {}).get("Pid")
    if not pid or not host.engine_processes_visible():
        return None
    return host.process_status(pid)
