"""What hardstep remembers between runs: step status, last checks, undo records, the audit log.

Layout of the state directory::

    state.json        per step: status, last checks, undo records, the action in flight
    audit.jsonl       one JSON line per action applied or rolled back, with its outcome
    backups/<step>/   file backups taken before every edit
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from app.errors import HardstepError
from app.fileops import atomic_write
from app.engine.model import CheckResult, Status, now_iso
from app.redact import redact_tree


def default_state_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/hardstep")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hardstep"


class StateStore:
    def __init__(self, directory: Path | None = None):
        self.dir = Path(directory) if directory else default_state_dir()

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
            raise HardstepError(f"{self.state_file} is damaged; move it aside to start fresh") from None
        data.setdefault("steps", {})
        return data

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
        entry = redact_tree({**extra, "time": now_iso(), "step": step, "action": action, "outcome": outcome})
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.audit_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except PermissionError:
            raise HardstepError(f"permission denied writing {self.audit_file}; run as root or pass --state-dir") from None
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")

    def audit_entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.audit_file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a killed process: the others still count
        return entries


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """What state.json may hold: every text redacted (errors, summaries, check details and
    evidence), except the undo records, hardstep's own names, ids, paths and digests that
    rollback needs exactly as they are."""
    return redact_tree(data, keep=frozenset({"undo"}))
