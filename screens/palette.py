"""Every step in the command palette: go to it, apply it, or run its checks."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from screens.main import MainScreen

# (verb shown in the palette, what it does on the main screen, help line)
VERBS = (
    ("Go to", "select", "Show this step: why it matters, its plan and its checks"),
    ("Apply", "apply", "Review this step's plan, then apply it after you confirm"),
    ("Check", "validate", "Run this step's live checks now"),
)


class StepCommands(Provider):
    """Commands for the main screen's steps, in wizard order."""

    def _commands(self) -> list[tuple[str, partial, str]]:
        screen: "MainScreen" = self.screen  # type: ignore[assignment]
        commands = []
        for step in screen.steps.values():
            for verb, kind, help_text in VERBS:
                commands.append((f"{verb} {step.title}", partial(run, screen, kind, step.id), help_text))
            if step.picks_containers:
                commands.append(("Pick containers to sandbox", partial(run, screen, "pick", step.id),
                                 "Choose the running containers that get the sandbox (key p)"))
        commands.append(("Export the whole-host report", screen.action_export_report,
                         "Every step, check and change in one Markdown file, secrets redacted (key e)"))
        return commands

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)


def run(screen: "MainScreen", kind: str, step_id: str) -> None:
    """Select the step, then apply or check it like the footer keys would."""
    screen.select_step(step_id)
    if kind == "pick":
        screen.action_pick_containers()
    elif kind != "select":
        screen.start(kind, screen.steps[step_id])
