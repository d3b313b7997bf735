"""Plain data passed between the engine, the command line and the wizard."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Callable


def utcnow() -> datetime:
    """hardstep's one clock: every time stamp it writes or shows comes from here."""
    return datetime.now(timezone.utc)


def now_iso() -> str:
    return utcnow().replace(microsecond=0).isoformat()


class Status(str, Enum):
    PENDING = "pending"
    APPLIED = "applied"
    VERIFIED = "verified"
    FAILED = "failed"
    NOT_APPLICABLE = "not applicable"
    DRIFTED = "drifted"


@dataclass(frozen=True)
class Applicability:
    """Whether a step applies to this host, and when it does not, why (shown to the user)."""

    ok: bool
    reason: str = ""


@dataclass
class CheckResult:
    """One live check. ``ok`` is None when the check was skipped (``detail`` says why)."""

    step: str
    check: str
    ok: bool | None
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=now_iso)

    @property
    def status(self) -> str:
        return {True: "pass", False: "fail", None: "skip"}[self.ok]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CheckResult":
        return cls(data["step"], data["check"], data["ok"], data.get("detail", ""),
                   data.get("evidence", {}), data.get("at", ""))


@dataclass(frozen=True)
class Event:
    """Progress from a running step: a log line, or a fraction for a progress bar."""

    step: str
    message: str
    fraction: float | None = None
    level: str = "info"  # info | warning | error


Reporter = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The reporter for callers that do not show progress."""
