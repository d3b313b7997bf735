"""The main screen's tab bar (screens/widgets/tab_bar.py): one line of labels over the panes.

It replaced Textual's TabbedContent for start-up time, so these tests hold it to what that gave:
a click on a label, the arrow keys while it has focus and the keys 1 to 4 each show one pane,
and a pane chosen before the hidden panes are mounted shows once they are. No Docker: the
engine's Docker calls fail (``DOCKER_HOST`` points at nothing) and the main screen says so.
"""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult

from screens.widgets.step_pane import StepPane
from screens.widgets.tab_bar import TabBar
from tests.wizard_support import drive, settle, wizard_engine

PANES = ("tab-why", "tab-plan", "tab-checks", "tab-log")


@pytest.fixture(autouse=True)
def no_docker(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")


def shown_panes(screen) -> list[str]:
    """The panes mounted and shown, in tab order."""
    return [pane for pane in PANES if any(w.display for w in screen.query(f"#{pane}"))]


def test_a_click_a_key_and_the_arrows_each_show_one_pane(tmp_path):
    engine = wizard_engine(tmp_path)

    async def scenario(app, pilot):
        bar = app.screen.query_one(TabBar)
        assert shown_panes(app.screen) == ["tab-why"]
        assert bar.render().plain.split() == ["1", "Why", "2", "Plan", "3", "Checks", "4", "Log"]
        await pilot.click(TabBar, offset=(bar.render().plain.index("3 Checks") + 2, 0))
        await settle(pilot)
        assert (bar.active, shown_panes(app.screen)) == ("tab-checks", ["tab-checks"])
        assert app.focused is bar  # a click focuses the bar: the arrows move from there
        await pilot.press("right")
        assert shown_panes(app.screen) == ["tab-log"]
        await pilot.press("right")  # past the last: back to the first
        assert shown_panes(app.screen) == ["tab-why"]
        await pilot.press("left")
        assert shown_panes(app.screen) == ["tab-log"]
        await pilot.press("2")
        assert (bar.active, shown_panes(app.screen)) == ("tab-plan", ["tab-plan"])
        await pilot.click(TabBar, offset=(bar.render().plain.index("1 Why"), 0))
        assert shown_panes(app.screen) == ["tab-why"]
        await pilot.click(TabBar, offset=(len(bar.render().plain) + 3, 0))  # right of the labels
        assert shown_panes(app.screen) == ["tab-why"]

    drive(engine, scenario)


def test_the_active_label_stands_out_without_colour():
    bar = TabBar([("tab-why", "1 Why"), ("tab-plan", "2 Plan")], "tab-plan")
    styles = {bar.render().plain[span.start:span.end]: str(span.style) for span in bar.render().spans}
    assert "bold" in styles["2 Plan"] and "underline" in styles["2 Plan"]
    assert "bold" not in styles["1 Why"] and "underline" not in styles["1 Why"]


class PaneOnly(App[None]):
    """A StepPane on its own, whose tab is chosen before its hidden panes are mounted."""

    def compose(self) -> ComposeResult:
        yield StepPane()

    async def on_mount(self) -> None:
        pane = self.query_one(StepPane)
        pane.select_tab("log")
        self.seen_before_fill = shown_panes(self.screen)
        await pane.fill()


def test_a_tab_chosen_before_its_pane_exists_shows_once_mounted():
    async def run() -> None:
        app = PaneOnly()
        async with app.run_test() as pilot:
            await settle(pilot)
            assert app.seen_before_fill == ["tab-why"]  # until the Log pane exists
            assert app.query_one(TabBar).active == "tab-log"
            assert shown_panes(app.screen) == ["tab-log"]

    asyncio.run(run())
