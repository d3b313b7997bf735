"""Commands on the remote over SSH exec channels, for ``SshHost``.

sshd runs an exec request's command in the user's shell and, without a terminal, does not end the
program when the channel closes: a command that timed out is killed here by its pid, which the
wrapper prints first on stderr (``exec`` keeps the shell's pid), as ``subprocess.run`` kills its
child. Under sudo (``app.host.ssh_sudo``) that shell is root's, the program itself, and the kill
goes through sudo too.
"""

from __future__ import annotations

import re
import select
import shlex
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import paramiko

_PID_LINE = re.compile(rb"^(\d+)\n", re.M)
MISSING = b"hardstep: program not found"  # what the wrapper says when argv[0] is not there


def wrap(argv: list[str]) -> str:
    """``argv`` as one shell command, every argument quoted, with ``LC_ALL=C``; the shell's pid
    first on stderr, and ``MISSING`` (exit 127) when the program is not there."""
    return (f"echo $$ >&2; command -v {shlex.quote(argv[0])} >/dev/null 2>&1 || "
            f"{{ echo '{MISSING.decode()}' >&2; exit 127; }}; LC_ALL=C exec {shlex.join(argv)}")


def split_pid(err: bytes) -> tuple[str, bytes]:
    """(the pid the wrapper printed, the rest of stderr): the pid's line is the first that is only
    digits, as sudo may warn before it (``sudo: unable to resolve host ...``)."""
    found = _PID_LINE.search(err)
    return ("", err) if found is None else (found[1].decode("ascii"), err[:found.start()] + err[found.end():])


def exec_command(transport: "paramiko.Transport", command: str, timeout: float, input: str | None,
                 open_timeout: float) -> tuple[int | None, bytes, bytes]:
    """Run ``command``: (exit status, None when it did not end within ``timeout``; stdout; stderr)."""
    channel = transport.open_session(timeout=open_timeout)
    try:
        channel.exec_command(command)
        if input is not None:
            channel.sendall(input.encode("utf-8"))
        channel.shutdown_write()  # no input: an empty stdin, never one that waits
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while not channel.eof_received or channel.recv_ready() or channel.recv_stderr_ready():
            if channel.recv_ready():
                out += channel.recv(65536)
            elif channel.recv_stderr_ready():
                err += channel.recv_stderr(65536)
            elif (left := deadline - time.monotonic()) > 0:
                select.select([channel], [], [], left)  # woken by data or the end of the output
            else:
                break
        if not channel.status_event.wait(max(deadline - time.monotonic(), 0)):
            return None, bytes(out), bytes(err)
        return channel.recv_exit_status(), bytes(out), bytes(err)
    finally:
        channel.close()
