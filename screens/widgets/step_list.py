"""The ordered steps of the wizard, each with its state: two lines per step, one highlighted.

A ``ScrollView`` that draws its own lines, rather than Textual's ``OptionList``: that one wraps
and pads every option through its generic machinery and brings a long stylesheet; counted with
valgrind, it took about twice the work of this widget to draw the same lines in the main
screen's first frame. This one knows its lines are two per step and draws only those in view.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from app.engine.model import Status
from screens.widgets.marks import status_line

LINES_PER_STEP = 2  # the mark and title, then the status word (``status_line``)


class StepList(ScrollView, can_focus=True):
    """One entry per step, in wizard order; the highlighted step is the selected one.

    Up and down, Home and End, Page Up and Page Down move the highlight, and so does a click;
    each move posts ``StepList.Highlighted``.
    """

    COMPONENT_CLASSES = {"step-list--highlight"}
    DEFAULT_CSS = """
    StepList {
        color: $foreground;
        background: $surface;
        padding: 0 1;
        overflow-x: hidden;
    }
    StepList:focus {
        background-tint: $foreground 5%;
    }
    StepList > .step-list--highlight {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    StepList:focus > .step-list--highlight {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Previous step", show=False),
        Binding("down", "move(1)", "Next step", show=False),
        Binding("home", "move_to(0)", "First step", show=False),
        Binding("end", "move_to(-1)", "Last step", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
    ]

    highlighted: reactive[int | None] = reactive(None)

    class Highlighted(Message):
        """The step ``step_id`` is now the highlighted one."""

        def __init__(self, step_list: "StepList", step_id: str) -> None:
            super().__init__()
            self.step_list = step_list
            self.step_id = step_id

        @property
        def control(self) -> "StepList":
            return self.step_list

    def __init__(self, steps: list[tuple[str, str]], **kwargs) -> None:
        """``steps``: (id, title) in wizard order. Every step starts as pending until state loads,
        and the first one highlighted."""
        super().__init__(**kwargs)
        self._ids = [step_id for step_id, _ in steps]
        self._titles = dict(steps)
        self._statuses = {step_id: Status.PENDING for step_id in self._ids}
        self._lines: dict[str, list[Content]] = {}
        self.virtual_size = Size(0, LINES_PER_STEP * len(self._ids))
        self.set_reactive(StepList.highlighted, 0 if self._ids else None)

    @property
    def selected_id(self) -> str | None:
        return self._ids[self.highlighted] if self.highlighted is not None else None

    def select(self, step_id: str) -> None:
        """Highlight ``step_id`` (which selects it)."""
        self.highlighted = self._ids.index(step_id)

    def set_status(self, step_id: str, status: Status) -> None:
        """Redraw one step's lines, only when its status really changed (slow links)."""
        if self._statuses.get(step_id) == status:
            return
        self._statuses[step_id] = status
        self._lines.pop(step_id, None)
        self.refresh(self._region_of(self._ids.index(step_id)))

    # --- moving the highlight ----------------------------------------------------------------
    def validate_highlighted(self, index: int | None) -> int | None:
        if index is None or not self._ids:
            return None
        return max(0, min(index, len(self._ids) - 1))

    def watch_highlighted(self, old: int | None, new: int | None) -> None:
        for index in (old, new):
            if index is not None:
                self.refresh(self._region_of(index))
        if new is not None:
            self.scroll_to_region(Region(0, LINES_PER_STEP * new, 1, LINES_PER_STEP), animate=False,
                                  immediate=True)
            self.post_message(self.Highlighted(self, self._ids[new]))

    def action_move(self, by: int) -> None:
        self.highlighted = (self.highlighted or 0) + by

    def action_move_to(self, index: int) -> None:
        self.highlighted = index % len(self._ids) if self._ids else None

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height // LINES_PER_STEP))

    def on_click(self, event: events.Click) -> None:
        inside = event.get_content_offset(self)  # from the first line, past the border
        if inside is None:
            return
        index = (inside.y + self.scroll_offset.y) // LINES_PER_STEP
        if 0 <= index < len(self._ids):
            self.highlighted = index

    def on_focus(self) -> None:
        self.refresh()  # the highlight has a stronger colour while the list has focus

    def on_blur(self) -> None:
        self.refresh()

    # --- drawing -----------------------------------------------------------------------------
    def _region_of(self, index: int) -> Region:
        """Where step ``index`` is drawn now, in the widget's own lines."""
        top = LINES_PER_STEP * index - self.scroll_offset.y
        return Region(0, top, self.size.width, LINES_PER_STEP)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index, part = divmod(self.scroll_offset.y + y, LINES_PER_STEP)
        if index >= len(self._ids):
            return Strip.blank(width, self.rich_style)
        step_id = self._ids[index]
        if step_id not in self._lines:
            self._lines[step_id] = status_line(self._titles[step_id], self._statuses[step_id]).split("\n")
        line = self._lines[step_id][part]
        style = self.get_visual_style("step-list--highlight") if index == self.highlighted else self.visual_style
        strip = Visual.to_strips(self, line.truncate(width), width, 1, style)[0]
        return strip.extend_cell_length(width, style.rich_style)
