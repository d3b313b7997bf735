"""How a step status or a check result looks: a symbol and a word, coloured from the theme.

The symbol and the word carry the meaning on their own, so ``NO_COLOR`` terminals (where
Textual turns everything monochrome) and colour-blind users lose nothing. Colours are theme
variable names, never literal colours. Muted text is ``$foreground-muted``: ``$text-muted`` is
"auto 60%", which only a stylesheet can resolve (against the background it sits on), and in
``Content`` styles it came out as plain white.
"""

from __future__ import annotations

from textual.content import Content

from app.engine.model import Status

STATUS_MARK: dict[Status, str] = {
    Status.PENDING: "○",
    Status.APPLIED: "◐",
    Status.VERIFIED: "✓",
    Status.FAILED: "✗",
    Status.NOT_APPLICABLE: "–",
    Status.DRIFTED: "!",
}

STATUS_TONE: dict[Status, str] = {
    Status.PENDING: "$foreground-muted",
    Status.APPLIED: "$text-accent",
    Status.VERIFIED: "$text-success",
    Status.FAILED: "$text-error",
    Status.NOT_APPLICABLE: "$foreground-muted",
    Status.DRIFTED: "$text-warning",
}

CHECK_MARK: dict[str, str] = {"pass": "✓", "fail": "✗", "skip": "–"}
# Theme variables (without "$") for Rich text, which the checks table needs.
CHECK_TONE: dict[str, str] = {"pass": "success", "fail": "error", "skip": "foreground-muted"}


def status_content(status: Status) -> Content:
    """``✓ verified`` in the status's tone."""
    return Content.assemble((f"{STATUS_MARK[status]} {status.value}", STATUS_TONE[status]))


def status_line(title: str, status: Status) -> Content:
    """The two-line prompt of a step in the step list: mark and title, then the status word."""
    return Content.assemble(
        (STATUS_MARK[status], f"bold {STATUS_TONE[status]}"), " ", title, "\n  ",
        (status.value, STATUS_TONE[status]),
    )
