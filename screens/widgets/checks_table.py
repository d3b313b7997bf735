"""The live checks of a step: pass, fail or skip, with the evidence each one saw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from screens.widgets.marks import CHECK_MARK, CHECK_TONE

if TYPE_CHECKING:
    from app.engine.model import CheckResult


def when(at: str) -> str:
    """``2026-01-01T00:00:00+00:00`` -> ``2026-01-01 00:00:00 UTC``."""
    return at.replace("T", " ").replace("+00:00", " UTC") if at else "unknown time"


def summary(results: list["CheckResult"]) -> str:
    counts = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "skip")}
    counted = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return f"Last run {when(max(r.at for r in results))}: {counted}."


class ChecksPanel(Vertical):
    """A summary line, the table of checks, and the full evidence of the highlighted check."""

    # Its rules come with it: parsed when the Checks tab is filled, after the first frame.
    DEFAULT_CSS = """
    ChecksPanel {
        height: 1fr;
    }
    #checks-summary {
        height: auto;
        padding: 1 0 0 0;
    }
    #checks-table {
        height: auto;
        max-height: 1fr;
        margin: 1 0 0 0;
    }
    #check-evidence {
        height: auto;
        max-height: 6;
        margin: 1 0 0 0;
        color: $text-muted;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._results: list["CheckResult"] = []
        self._width = 0  # the width the columns were made for

    def compose(self) -> ComposeResult:
        yield Static("No checks have run for this step yet. Press v to run them.", id="checks-summary")
        yield DataTable(id="checks-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="check-evidence", markup=False)

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self._width:
            self.show(self._results)

    def _columns(self, table: DataTable) -> None:
        """Two columns that fill the width: the check's name above its evidence, wrapped, reads
        better in a narrow terminal than three cramped columns."""
        self._width = self.size.width
        table.clear(columns=True)
        table.add_column("Result", width=6, key="result")
        table.add_column("Check and evidence", width=max(self._width, 40) - 2 * 2 - 6 - 1, key="check")

    def show(self, results: list["CheckResult"]) -> None:
        """Replace the table with ``results`` (the last run of the selected step)."""
        self._results = list(results)
        table = self.query_one(DataTable)
        self._columns(table)
        for index, result in enumerate(results):
            mark = Text(f"{CHECK_MARK[result.status]} {result.status}", style=self._tone(result.status))
            check = Text.assemble((result.check, "bold"), "\n", result.detail)
            table.add_row(mark, check, height=None, key=str(index))
        table.display = bool(results)
        self.query_one("#checks-summary", Static).update(
            summary(results) if results else "No checks have run for this step yet. Press v to run them.")
        self._show_evidence(0)

    def _tone(self, status: str) -> str:
        """Bold marks a failure even without colour; colour only when the terminal wants it
        (under NO_COLOR Textual would turn the error red into a dim grey)."""
        weight = "bold" if status == "fail" else ""
        if self.app.no_color:
            return weight
        return f"{weight} {self.app.theme_variables.get(CHECK_TONE[status], '')}".strip()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_evidence(event.cursor_row)

    def _show_evidence(self, row: int) -> None:
        """Everything one check recorded, for the user who wants the raw facts."""
        evidence = self.query_one("#check-evidence", Static)
        if not 0 <= row < len(self._results):
            evidence.update("")
            return
        result = self._results[row]
        lines = [f"{result.check} ({result.status}, {when(result.at)})", result.detail]
        lines += [f"  {key}: {value}" for key, value in result.evidence.items()]
        evidence.update("\n".join(lines))
