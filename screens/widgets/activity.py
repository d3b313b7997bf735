"""The live log of a running step and its progress bar, fed by events from worker threads."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message

from app.engine.model import Event


class StepEvent(Message):
    """An ``app.engine.model.Event`` posted from a worker thread to the screen that runs the step."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    @property
    def is_progress(self) -> bool:
        """A partial fraction: only the newest one matters."""
        return self.event.fraction is not None and 0 < self.event.fraction < 1

    def can_replace(self, message: Message) -> bool:
        # An image pull sends hundreds of these a second; when a newer progress event for the
        # same step is already queued, this one is dropped instead of drawn (slow SSH links).
        return (self.is_progress and isinstance(message, StepEvent) and message.is_progress
                and message.event.step == self.event.step)


class ActivityPanel(Vertical):
    """Log lines as the step runs; the progress bar shows only while a fraction is reported."""

    MAX_LINES = 2000
    # Its rules come with it: parsed when the Log tab is filled, after the first frame.
    DEFAULT_CSS = """
    ActivityPanel {
        height: 1fr;
    }
    #progress-label {
        height: 1;
        margin: 1 0 0 0;
    }
    #progress-bar {
        height: 1;
    }
    #activity-log {
        height: 1fr;
        margin: 1 0 0 0;
        overflow-x: hidden;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: deque[str] = deque(maxlen=self.MAX_LINES)  # the log's plain text, unwrapped

    def compose(self) -> ComposeResult:
        # Imported here: the screens import this module for StepEvent at start-up, and the log
        # (with Rich's pretty printer behind it) is only mounted after the first frame.
        from textual.widgets import ProgressBar, RichLog, Static

        yield Static("", id="progress-label", markup=False)
        yield ProgressBar(total=100, show_eta=False, id="progress-bar")
        # Wrapped, so a long summary or error is read in full in a narrow terminal.
        yield RichLog(max_lines=self.MAX_LINES, wrap=True, min_width=20, markup=False, highlight=False,
                      id="activity-log")

    def on_mount(self) -> None:
        self._progress(False)

    def write(self, line: str) -> None:
        self.lines.append(line)
        self.query_one("#activity-log").write(Text(line))

    def start(self, line: str) -> None:
        self.write(line)

    def add(self, event: Event) -> None:
        """Progress updates the bar; everything else becomes one log line."""
        if event.fraction is not None and 0 < event.fraction < 1:
            self._progress(True)
            self.query_one("#progress-bar").update(progress=round(event.fraction * 100, 1))
            self.query_one("#progress-label").update(event.message)
            return
        if event.fraction is not None:  # 0 or 1: the bar's start or end
            self._progress(event.fraction < 1)
        prefix = {"error": "✗ ", "warning": "! "}.get(event.level, "  ")
        self.write(prefix + event.message)

    def finish(self, line: str) -> None:
        self._progress(False)
        self.write(line)

    def _progress(self, visible: bool) -> None:
        self.query_one("#progress-label").display = visible
        self.query_one("#progress-bar").display = visible
