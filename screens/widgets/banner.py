"""The banner at the top of the main screen when the Docker engine does not answer."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class DockerBanner(Static):
    """Hidden while Docker answers; otherwise says what is off and what to do next."""

    def show_unreachable(self, reason: str) -> None:
        self.update(Content.assemble(
            ("Docker engine unreachable.", "bold"),
            " Apply, validate and rollback are off for Docker steps; file steps still work. "
            "Press d to try again.\n",
            (reason, "italic"),
        ))
        self.display = True

    def hide(self) -> None:
        self.display = False
