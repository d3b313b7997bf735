"""The contract every step fulfils. One step lives in one file of this package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from app.engine.actions import Action, ApplyContext, RestoreFile, Undo
from app.engine.model import Applicability, CheckResult

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.local import Host


class Step:
    # The registry (app/steps/__init__.py) repeats title, uses_docker, picks_containers and
    # options, so the wizard can list steps without importing them; keep both the same.
    id: ClassVar[str]
    title: ClassVar[str]
    uses_docker: ClassVar[bool] = True
    # The step works on containers the user picks from the running ones ([sandbox] containers):
    # the wizard then offers its container picker (key p, and an entry in the command palette).
    picks_containers: ClassVar[bool] = False
    # (section, key) of boolean settings shown as items the user can tick in the plan.
    options: ClassVar[tuple[tuple[str, str], ...]] = ()

    def explanation(self) -> str:
        """Why this step matters, in plain words (``assets/steps/<id>.md``)."""
        from app.assets import read_asset

        return read_asset("steps", f"{self.id}.md")

    def applicable(self, host: "Host") -> Applicability:
        return Applicability(True)

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        """The actions that would harden this host; empty when it is hardened already."""
        raise NotImplementedError

    def apply(self, host: "Host", config: "Config", actions: list[Action], ctx: ApplyContext,
              on_done: Any = None) -> list[Undo]:
        """Apply the planned actions in order. ``on_done(action, undo)`` runs after each one."""
        records: list[Undo] = []
        for action in actions:
            undo = action.apply(host, ctx)
            records += undo
            if on_done:
                on_done(action, undo)
        return records

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        raise NotImplementedError

    def notes(self, host: "Host", config: "Config") -> list[str]:
        """Warnings to show with the plan (for example a known incompatibility)."""
        return []

    def rollback(self, host: "Host", config: "Config", undo: list[Undo]) -> list[Action]:
        """The actions that undo ``undo`` records, newest first; files before containers, so a
        container that comes back starts with its old configuration."""
        ordered = [r for r in reversed(undo) if r["type"] == "file"] + \
                  [r for r in reversed(undo) if r["type"] != "file"]
        return [undo_action(record) for record in ordered]

    def check(self, name: str, ok: bool | None, detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(self.id, name, ok, detail, evidence)


def undo_action(record: Undo) -> Action:
    """The action that reverses one undo record written by an applied action."""
    from app.containers import undo as d

    kind = record["type"]
    if kind == "file":
        return RestoreFile(record["path"], record.get("backup"))
    if kind == "network":
        return d.RemoveNetwork(record["name"], record["id"])
    if kind == "container":
        return d.RemoveContainer(record["name"], record["id"])
    if kind == "replaced":
        return d.RestoreContainer(record["name"], record["id"], record["previous"], record["previous_running"])
    raise ValueError(f"unknown undo record {kind!r}")
