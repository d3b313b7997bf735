"""The right side of the main screen: the selected step's heading and its four tabs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from screens.widgets.marks import status_content
from screens.widgets.tab_bar import TabBar

if TYPE_CHECKING:
    from app.config.settings import Field
    from app.engine.model import CheckResult, Status
    from screens.jobs import PlanResult
    from screens.widgets.activity import ActivityPanel


def explanation_body(markdown: str) -> str:
    """The explanation without its leading ``# Title``: the heading above already shows it."""
    first, _, rest = markdown.lstrip().partition("\n")
    return rest.lstrip("\n") if first.startswith("# ") else markdown


TABS = {"tab-why": "1 Why", "tab-plan": "2 Plan", "tab-checks": "3 Checks", "tab-log": "4 Log"}  # pane id: label


class StepPane(Vertical):
    """Why the step matters, its plan, its live checks, and the log of what runs.

    The first frame shows the Why pane only; ``fill`` mounts the other three once that frame is
    out: composing and styling the checks table, the log and the plan took about a third of the
    main screen's first frame, and every widget mounted costs start-up time even when hidden.
    Until ``fill`` has run, nothing may draw into them (``MainScreen`` shows a step only after it).
    """

    def compose(self) -> ComposeResult:
        yield Static(id="step-heading")
        yield TabBar(list(TABS.items()), "tab-why", id="step-tabs")
        with VerticalScroll(id="tab-why"):
            yield Static("Loading the explanation…", id="why-placeholder")

    def on_tab_bar_changed(self, event: TabBar.Changed) -> None:
        self._show_pane(event.active)

    def _show_pane(self, active: str) -> None:
        """Show pane ``active`` and hide the others; until ``fill`` has mounted it, keep the current one."""
        panes = [child for child in self.children if child.id in TABS]
        if any(pane.id == active for pane in panes):
            for pane in panes:
                pane.display = pane.id == active

    async def fill(self) -> None:
        """Mount the Plan, Checks and Log panes (their modules load here too), hidden until chosen."""
        from screens.widgets.activity import ActivityPanel
        from screens.widgets.checks_table import ChecksPanel
        from screens.widgets.plan_view import PlanOptions, PlanView

        panes = [VerticalScroll(PlanOptions(id="plan-options"), PlanView(id="plan-view"), id="tab-plan"),
                 Vertical(ChecksPanel(id="checks-panel"), id="tab-checks"),
                 Vertical(ActivityPanel(id="activity"), id="tab-log")]
        for pane in panes:
            pane.display = False
        await self.mount_all(panes)
        self._show_pane(self.query_one(TabBar).active)  # a tab chosen meanwhile shows now

    @property
    def activity(self) -> "ActivityPanel":
        return self.query_one("#activity")  # type: ignore[return-value]

    def select_tab(self, name: str) -> None:
        self.query_one(TabBar).active = f"tab-{name}"

    def show_heading(self, title: str, status: "Status", note: Content | None = None) -> None:
        """The title and status, and at most one line on what matters now."""
        heading = Content.assemble((title, "bold"), "  ", status_content(status))
        self.query_one("#step-heading", Static).update(heading + "\n" + note if note else heading)

    def show_explanation(self, markdown: str) -> None:
        """The Markdown widget (and its parser) loads with the first explanation, not at start-up."""
        from textual.widgets import Markdown

        found = self.query("#step-explanation")
        if found:
            found.first(Markdown).update(explanation_body(markdown))
            return
        self.query_one("#why-placeholder").remove()
        self.query_one("#tab-why").mount(Markdown(explanation_body(markdown), id="step-explanation"))

    def show_plan_loading(self, title: str) -> None:
        self.query_one("#plan-view").show_loading(title)

    def show_plan(self, result: "PlanResult") -> None:
        view = self.query_one("#plan-view")
        if result.plan is not None:
            view.show_plan(result.plan)
        elif result.docker_down:  # the banner above already says why and what to do
            view.show_error("the Docker engine does not answer, and this step's plan needs it.")
        else:
            view.show_error(result.error or "no details")

    def show_options(self, options: list[tuple["Field", bool]]) -> None:
        self.query_one("#plan-options").show(options)

    def show_checks(self, checks: list["CheckResult"]) -> None:
        self.query_one("#checks-panel").show(checks)
