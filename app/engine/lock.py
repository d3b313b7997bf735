"""One hardstep at a time changes a host.

Whatever changes something (apply, rollback, resume, the wizard while it applies, a check that
settles an interrupted run) holds an exclusive ``flock(2)`` on ``run.lock`` in the state folder,
and ``run.json`` beside it names the holder: its pid, its command line and since when. A second
one does not wait: it stops at once with that name (``LockHeld``, exit 2).

The kernel drops a flock when its process ends, however it ends, so the lock itself never goes
stale; only ``run.json`` does, when a killed process could not remove it. The next taker finds
it, takes over and says so. Giving the lock back removes both files (and a state folder the run
made and left empty), so a command that changed nothing leaves nothing behind. Readers (check, report) never wait and never block a taker for long:
they only test the lock (a shared flock, released at once) and read ``run.json``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from app.errors import HardstepError
from app.fileops import atomic_write
from app.engine.model import now_iso
from app.redact import redact

LOCK_NAME, HOLDER_NAME = "run.lock", "run.json"
# A taker that finds the lock held while run.json names no live process is looking at a reader
# testing the lock, or at a taker between its flock and its run.json: both last microseconds.
SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock, as ``run.json`` records it."""

    pid: int
    command: str  # what it is doing, as a person would type it: "hardstep apply synapse --yes"
    since: str
    argv: list[str] = field(default_factory=list)  # the process's own argv, for the record

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command}) since {self.since}" if self.pid else self.command

    def alive(self) -> bool:
        if self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True

    @property
    def taken_over(self) -> str:
        gone = "that process is gone" if not self.alive() else "it no longer holds the lock"
        return (f"took over the lock left by {self}: {gone}; if it was applying, 'hardstep resume' "
                "shows what it left in flight")


class LockHeld(HardstepError):
    """Another hardstep is changing this host."""

    def __init__(self, directory: Path, holder: Holder | None):
        self.holder = holder
        who = holder or f"a process that has not recorded itself in {directory / HOLDER_NAME}"
        super().__init__(f"another hardstep is changing this host: {who}; wait until it ends, "
                         f"then run this again (lock: {directory / LOCK_NAME})")


class RunLock:
    """The state folder's run lock. Re-entrant within one thread, so a command that holds it can
    call the engine's apply, which takes it too; any other thread or process is refused."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self._fd: int | None = None
        self._owner: int | None = None  # the thread holding it
        self._depth = 0
        self._created = False  # this hold made the state folder
        self._guard = threading.Lock()

    @property
    def lock_file(self) -> Path:
        return self.dir / LOCK_NAME

    @property
    def holder_file(self) -> Path:
        return self.dir / HOLDER_NAME

    @contextmanager
    def hold(self, command: str) -> Iterator[Holder | None]:
        """Hold the lock while the block runs; yields the stale holder it took over, if any.
        Raises LockHeld at once when another process or thread holds it."""
        stale = self._acquire(command)
        try:
            yield stale
        finally:
            self._release()

    def holder(self) -> Holder | None:
        """Who else holds the lock right now (None: nobody, or this process). Never waits."""
        if self._fd is not None:
            return None
        try:
            fd = os.open(self.lock_file, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None  # no state folder yet, or one this user cannot read: nobody runs here
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # free: released when fd closes
        except BlockingIOError:
            return self._recorded() or Holder(0, "a hardstep that has not recorded itself yet", now_iso())
        finally:
            os.close(fd)

    # --- taking and giving back -------------------------------------------------------------
    def _acquire(self, command: str) -> Holder | None:
        with self._guard:
            if self._fd is not None:
                if self._owner != threading.get_ident():
                    raise LockHeld(self.dir, self._recorded())
                self._depth += 1
                return None
            self._created = not self.dir.exists()
            fd = self._flocked()
            try:
                stale = self._recorded()  # a run.json whose process ended without removing it
                me = Holder(os.getpid(), redact(command), now_iso(), [redact(a) for a in sys.argv])
                atomic_write(self.holder_file, json.dumps(asdict(me), indent=2) + "\n", default_mode=0o600)
            except BaseException:
                os.close(fd)  # also drops the flock
                raise
            self._fd, self._owner, self._depth = fd, threading.get_ident(), 1
            return stale

    def _flocked(self) -> int:
        """An open run.lock this process holds the flock of. The holder that gives the lock back
        removes the file, so a flock on a file that is no longer (or not the one) at the path
        counts for nothing: open again."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                fd = self._open()
            except FileNotFoundError:
                continue  # the folder went between mkdir and open: a run that recorded nothing
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino == os.stat(self.lock_file).st_ino:
                    return fd
            except (BlockingIOError, FileNotFoundError) as exc:
                holder = self._recorded()
                if isinstance(exc, BlockingIOError) and ((holder and holder.alive()) or time.monotonic() > deadline):
                    os.close(fd)
                    raise LockHeld(self.dir, holder) from None
            os.close(fd)
            time.sleep(0.02)

    def _open(self) -> int:
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            # O_CLOEXEC: a program hardstep starts (dockerd on rollback) must not inherit the lock.
            return os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except PermissionError:
            raise HardstepError(f"permission denied writing {self.dir}; run as root or pass --state-dir") from None

    def _release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            fd, self._fd, self._owner = self._fd, None, None
            # Both files go while the flock is still held; run.json first: a taker that finds the
            # lock held and no run.json retries. A command that changed nothing leaves no trace.
            self.holder_file.unlink(missing_ok=True)
            self.lock_file.unlink(missing_ok=True)
            if self._created:
                try:
                    self.dir.rmdir()  # only when empty: this run recorded nothing
                except OSError:
                    pass
            os.close(fd)

    def _recorded(self) -> Holder | None:
        try:
            data = json.loads(self.holder_file.read_text(encoding="utf-8"))
            return Holder(int(data["pid"]), str(data["command"]), str(data["since"]),
                          [str(a) for a in data.get("argv") or []])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or not readable: nobody recorded
