"""The confirmation dialog shown before anything on the host changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from app.assets import asset_path
from screens.widgets.plan_view import ActionList, notes_content

if TYPE_CHECKING:
    from app.engine.actions import Action


class ConfirmScreen(ModalScreen[bool]):
    """Shows the exact changes and answers True (go ahead) or False (change nothing).

    The cancel button has the focus, so an absent-minded Enter never changes a host.
    """

    CSS_PATH = str(asset_path("confirm.tcss"))  # loaded with the first dialog, not at start-up
    BINDINGS = [
        Binding("y", "answer(True)", "Yes, go ahead"),
        Binding("n,escape", "answer(False)", "No, change nothing"),
    ]

    def __init__(self, title: str, intro: str, actions: list["Action"], confirm_label: str,
                 notes: list[str] = ()) -> None:
        super().__init__()
        self._title = title
        self._intro = intro
        self._actions = actions
        self._confirm_label = confirm_label
        self._notes = list(notes)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self._title, id="confirm-title", markup=False)
            yield Static(self._intro, id="confirm-intro", markup=False)
            if self._notes:  # a warning is read before the question, not after
                yield Static(notes_content(self._notes), id="confirm-notes")
            with VerticalScroll(id="confirm-actions"):
                yield ActionList(self._actions, id="confirm-plan")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self._confirm_label} (y)", id="confirm-yes", variant="warning")
                yield Button("Cancel (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
