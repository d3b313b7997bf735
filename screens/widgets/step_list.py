"""The ordered steps of the wizard, each with its state."""

from __future__ import annotations

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from app.engine.model import Status
from screens.widgets.marks import status_line


class StepList(OptionList):
    """One option per step (its id is the step id); the highlighted step is the selected one."""

    def __init__(self, steps: list[tuple[str, str]], **kwargs) -> None:
        """``steps``: (id, title) in wizard order. Every step starts as pending until state loads."""
        self._titles = dict(steps)
        self._statuses = {step_id: Status.PENDING for step_id, _ in steps}
        options = [Option(status_line(title, Status.PENDING), id=step_id) for step_id, title in steps]
        super().__init__(*options, **kwargs)

    @property
    def selected_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option else None

    def select(self, step_id: str) -> None:
        """Highlight ``step_id`` (which selects it)."""
        self.highlighted = self.get_option_index(step_id)

    def set_status(self, step_id: str, status: Status) -> None:
        """Redraw one step's line, only when its status really changed (slow links)."""
        if self._statuses.get(step_id) == status:
            return
        self._statuses[step_id] = status
        self.replace_option_prompt(step_id, status_line(self._titles[step_id], status))
