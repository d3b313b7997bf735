"""Every process's command line in one exec, for ``SshHost``: a scan of /proc over SFTP costs four
round trips a process (open, read, end of file, close), hundreds on a busy host.

``grep -a -H -z ''`` prints each argument (NUL-ended in /proc/PID/cmdline) as ``PID/cmdline:ARG``
and a NUL: one program for all processes, and no argument can forge a record, as none holds a NUL.
The pid list goes first to stderr, then grep's complaints about processes gone meanwhile.
"""

from __future__ import annotations

import re

SCAN = "cd /proc && echo [0-9]* >&2 && grep -a -H -z '' [0-9]*/cmdline"
_RECORD = re.compile(rb"(\d+)/cmdline:(.*)", re.S)
_GONE = re.compile(r"(\d+)/cmdline: ")


def command_lines(output: bytes, errors: str) -> dict[int, list[str] | None] | None:
    """pid -> its arguments as ``LocalHost.process_argv`` gives them (``""`` last, after the final
    NUL), None for a process gone during the scan; None for it all when grep could not scan."""
    listed, _, complaints = errors.partition("\n")
    if not output and complaints.strip() and not _GONE.search(complaints):
        return None  # a grep without -z (not GNU's, an old BusyBox)
    found: dict[int, list[str] | None] = {int(pid): [] for pid in listed.split() if pid.isdigit()}
    for record in output.split(b"\0"):
        matched = _RECORD.fullmatch(record)
        if matched and int(matched[1]) in found:
            found[int(matched[1])].append(matched[2].decode("utf-8", "replace"))  # type: ignore[union-attr]
    for pid in _GONE.findall(complaints):
        found[int(pid)] = None
    return {pid: (argv + [""] if argv is not None else None) for pid, argv in found.items()}
