"""The contract every step fulfils. Each step is a package under ``app/steps/`` whose ``step``
module holds the step and whose other modules hold the service knowledge only it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from app.engine.actions import Action, ApplyContext
from app.engine.model import Applicability, CheckResult
from app.redact import redact, redact_tree

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.engine.undo import UndoRecord
    from app.host.base import Host


class Step:
    # The registry (app/steps/__init__.py) repeats title, uses_docker, picks_containers and
    # options, so the wizard can list steps without importing them; keep both the same.
    id: ClassVar[str]
    title: ClassVar[str]
    uses_docker: ClassVar[bool] = True
    # Its rollback needs no answer from the engine: the daemon step's puts daemon.json back and
    # starts the engine, which is when a daemon.json the engine refuses keeps it down.
    rolls_back_without_engine: ClassVar[bool] = False
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

    def preflight(self, host: "Host", config: "Config", actions: list[Action]) -> None:
        """Refuse a plan before its first action runs (raise ApplyError saying what to fix):
        the guards that must hold for the whole run, checked once, while nothing is written."""

    def apply(self, host: "Host", config: "Config", action: Action, ctx: ApplyContext) -> list["UndoRecord"]:
        """Apply one planned action; a step may wrap this to explain a failure in its terms."""
        return action.apply(host, ctx)

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        raise NotImplementedError

    def notes(self, host: "Host", config: "Config") -> list[str]:
        """Warnings to show with the plan (for example a known incompatibility)."""
        return []

    def rollback(self, host: "Host", config: "Config", undo: list["UndoRecord"]) -> list[Action]:
        """The actions that undo ``undo``, newest first; files before everything else, so a
        container that comes back starts with its old configuration."""
        ordered = [r for r in reversed(undo) if r.restores_file] + [r for r in reversed(undo) if not r.restores_file]
        return [action for record in ordered for action in record.reverse(host, config, undo)]

    def check(self, name: str, ok: bool | None, detail: str, **evidence: Any) -> CheckResult:
        # Redacted where it is made: the wizard, the command line and the state all show it.
        return CheckResult(self.id, name, ok, redact(detail), redact_tree(evidence))
