"""The container picker: which running containers get the sandbox, with hardstep's suggestion.

The rows come from ``app.steps.sandbox.step.suggestions`` (``suggestion_rows`` runs it in a thread
worker before the modal opens); the modal only draws them and answers the chosen names, or
None when cancelled. Saving the names is the caller's job (the main screen, in a worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, SelectionList, Static
from textual.widgets.selection_list import Selection

from app.assets import asset_path

if TYPE_CHECKING:
    from app.engine.runner import Engine

# Roles hardstep does not suggest on its own: the socket proxy is hardened by its own step.
NOT_SUGGESTED = ("socket-proxy",)


def suggestion_rows(engine: "Engine") -> list[dict[str, Any]]:
    """The running containers with their role (runs in a thread worker: it asks Docker)."""
    from app.steps.sandbox.step import suggestions

    return suggestions(engine.host, engine.config)


def preselected(rows: list[dict[str, Any]], current: list[str]) -> set[str]:
    """The current ``[sandbox] containers`` when set, else hardstep's role-aware suggestion."""
    if current:
        return set(current)
    return {row["name"] for row in rows if row["role"] not in NOT_SUGGESTED}


def row_prompt(row: dict[str, Any]) -> Content:
    """One line per container: name, image and role (why: under the list, for the highlighted one)."""
    if row.get("missing"):
        return Content.assemble((row["name"], "bold"), "  ", ("not running: kept unless you untick it",
                                                              "$text-warning"))
    return Content.assemble((row["name"], "bold"), "  ", (row["image"] or "?", "$foreground-muted"), "  ",
                            (row["role"], "$text-accent"))


class PickList(SelectionList[str]):
    """The picker's list: Space toggles (as in every SelectionList), Enter saves the picker."""

    BINDINGS = [Binding("enter", "screen.save", "Save", show=False)]


class ContainerPicker(ModalScreen[list[str] | None]):
    """Answers the ticked container names in list order, or None (Escape: nothing changes)."""

    CSS_PATH = str(asset_path("picker.tcss"))  # loaded when first shown, not at start-up
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "all", "All"),
        Binding("n", "none", "None"),
    ]

    def __init__(self, rows: list[dict[str, Any]], current: list[str]) -> None:
        super().__init__()
        names = {row["name"] for row in rows}
        # Names already set that do not run now stay listed, so saving never drops them silently.
        self.rows = rows + [{"name": name, "missing": True} for name in current if name not in names]
        self.chosen = preselected(rows, current)
        self.from_current = bool(current)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Static("Pick the containers to sandbox", id="picker-title")
            yield Static("Space ticks or unticks, a ticks all, n none; Enter saves, Escape changes "
                         "nothing. Ticked now: " + ("your current list." if self.from_current else
                                                      "hardstep's suggestion."),
                         id="picker-intro", markup=False)
            if self.rows:
                yield PickList(*(Selection(row_prompt(row), row["name"], row["name"] in self.chosen,
                                         id=row["name"]) for row in self.rows),
                               id="picker-list")
                yield Static("", id="picker-why")
            else:
                yield Static("No container runs on this engine: start yours, then press p again.",
                             id="picker-empty", markup=False)
            with Horizontal(id="picker-buttons"):
                yield Button("Save (enter)", id="picker-save", variant="primary")
                yield Button("Cancel (esc)", id="picker-cancel")

    def on_mount(self) -> None:
        if self.rows:
            self.query_one(SelectionList).focus()

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        """Why this container gets the sandbox it would get, for the row under the cursor."""
        row = next((r for r in self.rows if r["name"] == event.selection.value), None)
        if row is not None:
            why = "not running now" if row.get("missing") else f"{row['role']}: {row['why']}"
            line = Content.assemble((row["name"], "bold"), ": ", why)
            self.query_one("#picker-why", Static).update(line)

    @property
    def selected(self) -> list[str]:
        if not self.rows:
            return []
        ticked = set(self.query_one(SelectionList).selected)
        return [row["name"] for row in self.rows if row["name"] in ticked]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "picker-save" else self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self.selected)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_all(self) -> None:
        if self.rows:
            self.query_one(SelectionList).select_all()

    def action_none(self) -> None:
        if self.rows:
            self.query_one(SelectionList).deselect_all()
