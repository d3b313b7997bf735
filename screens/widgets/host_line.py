"""The line that names the remote host the wizard works on, shown only over SSH (on this machine
nothing is drawn, so the local screens stay as they were)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from app.engine.report import OUTSIDE_VIEW

if TYPE_CHECKING:
    from app.host.base import Host


class HostLine(Static):
    def __init__(self, host: "Host") -> None:
        # acting_as does not wait on the network here: the command line connected before the wizard opened.
        super().__init__(Content.assemble(("Working on ", ""), (host.label, "bold"), f" over SSH {host.acting_as()}. ",
                                          (f"{OUTSIDE_VIEW[0].upper()}{OUTSIDE_VIEW[1:]}.", "italic")),
                         id="host-line")
