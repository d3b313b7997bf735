"""Undo records: what an applied action leaves in ``state.json`` so rollback can reverse it.

Each record is a small frozen dataclass that names its own reverse action. It is stored as a
JSON object whose ``"type"`` says which record class reads it back, so a state folder written by
any earlier version (plain dicts with the same keys) loads as the same typed records. A record
class registers itself with ``@record("type")`` in the module of the action that writes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from app.errors import HardstepError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.engine.actions import Action
    from app.host.local import Host

_TYPES: dict[str, type["UndoRecord"]] = {}


def record(kind: str):
    """Class decorator: register an undo record class under its ``"type"`` in state.json."""

    def register(cls: type["UndoRecord"]) -> type["UndoRecord"]:
        cls.kind = kind
        _TYPES[kind] = cls
        return cls

    return register


@dataclass(frozen=True)
class UndoRecord:
    """What one applied action left behind, and how to reverse it (see the module's docstring)."""

    kind: ClassVar[str] = ""
    # Files are put back before anything else, so a container that comes back starts with its
    # old configuration (see Step.rollback).
    restores_file: ClassVar[bool] = False

    def reverse(self, host: "Host", config: "Config", records: list["UndoRecord"]) -> list["Action"]:
        """The actions that undo this record. ``records`` are all the step's records, for the
        few that must look at their siblings (one engine restart for many daemon.json edits)."""
        raise NotImplementedError

    def after_interrupt(self, host: "Host") -> None:
        """Clean up after a process that was killed while this record's action ran."""

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UndoRecord":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def load_record(data: dict[str, Any]) -> UndoRecord:
    """The typed record of one ``state.json`` undo entry. The module that defines its class must
    be imported first: the engine imports the step (and so its actions) before it loads records."""
    kind = data.get("type") if isinstance(data, dict) else None
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise HardstepError(f"state.json holds an undo record of unknown type {kind!r}; this hardstep is older "
                            "than the one that wrote it: upgrade hardstep, then roll back")
    try:
        return cls.from_json(data)
    except TypeError as exc:
        raise HardstepError(f"state.json holds a damaged {kind!r} undo record ({exc}); move state.json aside "
                            "only if you have undone that change by hand") from None


def load_records(entries: list[dict[str, Any]] | None) -> list[UndoRecord]:
    return [load_record(entry) for entry in entries or []]


def dump_records(records: list[UndoRecord]) -> list[dict[str, Any]]:
    return [r.to_json() for r in records]
