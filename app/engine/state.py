"""What hardstep remembers between runs: step status, last checks, undo records, the audit log.

Layout of the state directory::

    state.json        per step: status, last checks, undo records, the action in flight
    audit.jsonl       one JSON line per action applied or rolled back, with its outcome
    backups/<step>/   file backups taken before every edit
    run.lock          held (flock) by the one hardstep changing this host (app/engine/lock.py)
    run.json          who holds it: pid, command line, since when
    .lock             held for the moment of each read-modify-write of state.json
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from app.errors import HardstepError
from app.fileops import atomic_write, fsync_dir
from app.engine.lock import RunLock
from app.engine.model import CheckResult, Status, now_iso
from app.engine.state_shape import shape_problem
from app.redact import redact_tree


AUDIT_TEXT = ("time", "step", "action", "outcome", "command", "error")  # text, null or absent in every entry


def default_state_dir() -> Path:
    if os.environ.get("HARDSTEP_STATE_DIR"):  # the container image: the host's /var/lib under /host
        return Path(os.environ["HARDSTEP_STATE_DIR"])
    if os.geteuid() == 0:
        return Path("/var/lib/hardstep")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hardstep"


class StateStore:
    def __init__(self, directory: Path | None = None):
        # Absolute before anything is recorded: backups are named by path in state.json, and a
        # rollback may run from another folder.
        self.dir = Path(directory).absolute() if directory else default_state_dir()
        self.lock = RunLock(self.dir)

    # --- paths -----------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def audit_file(self) -> Path:
        return self.dir / "audit.jsonl"

    def backup_dir(self, step: str) -> Path:
        return self.dir / "backups" / step

    # --- reading ---------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"steps": {}}
        except PermissionError:
            raise HardstepError(f"permission denied reading {self.state_file}; run as root or pass --state-dir") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._damaged("not JSON") from None
        problem = shape_problem(data)
        if problem:
            raise self._damaged(problem)
        data.setdefault("steps", {})
        return data

    def _damaged(self, problem: str) -> HardstepError:
        return HardstepError(f"{self.state_file} is damaged ({problem}); repair it by hand, or move it aside to "
                             f"start fresh (hardstep then forgets its changes; their backups stay in {self.dir}/backups)")

    def step(self, step: str) -> dict[str, Any]:
        return self.load()["steps"].get(step, {})

    def status(self, step: str) -> Status | None:
        value = self.step(step).get("status")
        return Status(value) if value else None

    def checks(self, step: str) -> list[CheckResult]:
        return [CheckResult.from_json(c) for c in self.step(step).get("checks", [])]

    def undo_records(self, step: str) -> list[dict[str, Any]]:
        return list(self.step(step).get("undo", []))

    # --- writing ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under an exclusive lock, written atomically."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock = open(self.dir / ".lock", "a")
        except PermissionError:
            raise HardstepError(f"permission denied writing {self.dir}; run as root or pass --state-dir") from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.load()
            yield data
            atomic_write(self.state_file, json.dumps(_stored(data), indent=2, sort_keys=True) + "\n",
                         default_mode=0o600)

    def update_step(self, step: str, **fields: Any) -> None:
        with self._locked() as data:
            entry = data["steps"].setdefault(step, {})
            entry.update(fields)
            entry["updated"] = now_iso()

    def finish_action(self, step: str, records: list[dict[str, Any]]) -> None:
        """An action ended: its undo records join the step's and it is no longer in flight, in
        one write, so no moment exists where a crash would lose both."""
        with self._locked() as data:
            entry = data["steps"].setdefault(step, {})
            entry.setdefault("undo", []).extend(records)
            entry["in_flight"] = None

    def adopt_in_flight(self, step: str) -> dict[str, Any] | None:
        """Move an interrupted action's prepared undo records into the step's (once each) and
        clear its in-flight record. Returns that record, or None when nothing was in flight."""
        if not self.step(step).get("in_flight"):
            return None  # the common case writes nothing
        with self._locked() as data:
            entry = data["steps"].setdefault(step, {})
            flight = entry.get("in_flight")
            if not flight:
                return None
            undo = entry.setdefault("undo", [])
            undo.extend(r for r in flight.get("undo") or [] if r not in undo)
            entry["in_flight"] = None
            entry["updated"] = now_iso()
        return flight

    def in_flight(self) -> dict[str, dict[str, Any]]:
        """Every step with an action in flight: what a killed process left behind."""
        return {step: entry["in_flight"] for step, entry in self.load()["steps"].items()
                if entry.get("in_flight")}

    def record_checks(self, step: str, results: list[CheckResult], status: Status) -> None:
        self.update_step(step, status=status.value, checks=[r.to_json() for r in results],
                         checked=now_iso())

    def audit(self, step: str, action: str, outcome: str, **extra: Any) -> None:
        """Append one entry, on disk before this returns (BurmillaOS reboots in the middle of an
        apply), on a line of its own even when the last one was cut short by a power loss."""
        entry = redact_tree({**extra, "time": now_iso(), "step": step, "action": action, "outcome": outcome})
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.audit_file, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except PermissionError:
            raise HardstepError(f"permission denied writing {self.audit_file}; run as root or pass --state-dir") from None
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # the torn line stays alone, and is skipped when read
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if not size:
            fsync_dir(self.dir)  # a new file: its name must survive the reboot too

    def audit_log(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The audit entries, and what was skipped (``"line 7: not JSON (cut short?)"``): a line
        a killed process or a power loss cut short, or one that is not hardstep's."""
        try:
            lines = self.audit_file.read_bytes().split(b"\n")
        except FileNotFoundError:
            return [], []
        except PermissionError:
            raise HardstepError(f"permission denied reading {self.audit_file}; run as root or pass --state-dir") from None
        entries, skipped = [], []
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                skipped.append(f"line {number}: not UTF-8 text")
                continue
            except json.JSONDecodeError:
                skipped.append(f"line {number}: not JSON (cut short?)")
                continue
            if not isinstance(entry, dict):
                skipped.append(f"line {number}: not a JSON object")
            elif any(not isinstance(entry.get(k), (str, type(None))) for k in AUDIT_TEXT):
                skipped.append(f"line {number}: not a hardstep audit entry")
            else:
                entries.append(entry)
        return entries, skipped

    def audit_entries(self) -> list[dict[str, Any]]:
        return self.audit_log()[0]

def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """What state.json may hold: every text redacted (errors, summaries, check details and
    evidence), except the undo records, hardstep's own names, ids, paths and digests that
    rollback needs exactly as they are."""
    return redact_tree(data, keep=frozenset({"undo"}))
