"""The step pane's tab labels: one line of text, drawn by one widget.

Textual's ``TabbedContent`` builds a widget per tab, an animated underline and their styles; on
the main screen that was about a third of the first frame's own work. The panes are the step
pane's own children (screens/widgets/step_pane.py); this bar only says which one shows, and
changes it on a click, on the arrow keys while it has focus, or when ``StepPane.select_tab`` sets
``active`` (keys 1 to 4).
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class TabBar(Widget, can_focus=True):
    """Labels such as ``1 Why  2 Plan``: the active one bold and underlined, so that it stands
    out without colour too (NO_COLOR terminals draw no colour)."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous tab", show=False),
        Binding("right", "move(1)", "Next tab", show=False),
    ]

    active: reactive[str] = reactive("")

    class Changed(Message):
        """The user, or the code, chose the pane ``active`` (its id)."""

        def __init__(self, bar: "TabBar", active: str) -> None:
            super().__init__()
            self.bar = bar
            self.active = active

    def __init__(self, tabs: list[tuple[str, str]], active: str, *, id: str | None = None) -> None:
        """``tabs``: (pane id, label) in order; ``active``: the pane id shown first."""
        super().__init__(id=id)
        self._tabs = dict(tabs)
        self.set_reactive(TabBar.active, active)

    def render(self) -> Content:
        parts: list[str | tuple[str, str]] = []
        for pane, label in self._tabs.items():
            parts += [" ", (label, "bold underline $text-accent" if pane == self.active else "$foreground-muted"), " "]
        return Content.assemble(*parts)

    def on_click(self, event: events.Click) -> None:
        """The label under the pointer: each is drawn as `` label `` (see ``render``)."""
        inside = event.get_content_offset(self)
        if inside is None:  # the rule under the labels
            return
        end = 0
        for pane, label in self._tabs.items():
            end += len(label) + 2
            if inside.x < end:
                self.active = pane
                return

    def watch_active(self, active: str) -> None:
        self.post_message(self.Changed(self, active))

    def action_move(self, step: int) -> None:
        panes = list(self._tabs)
        self.active = panes[(panes.index(self.active) + step) % len(panes)]
