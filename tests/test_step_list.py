"""The step list (screens/widgets/step_list.py): two lines per step, one highlighted, scrolled into view.

It replaced Textual's OptionList for start-up time, so these tests hold it to what that gave: the
arrow, Home, End and page keys and a click move the highlight, each move says which step is now
highlighted, the highlight stays in view on a short terminal, and a new status redraws its line.
"""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from app.engine.model import Status
from screens.widgets.step_list import StepList

STEPS = [(f"step-{n}", f"Step number {n}") for n in range(10)]


class ListOnly(App[None]):
    """A StepList on its own, bordered as on the main screen, keeping every step it announced."""

    CSS = "StepList { border: round $border; }"

    def __init__(self) -> None:
        super().__init__()
        self.announced: list[str] = []

    def compose(self) -> ComposeResult:
        yield StepList(STEPS)

    def on_mount(self) -> None:
        self.query_one(StepList).focus()

    def on_step_list_highlighted(self, event: StepList.Highlighted) -> None:
        self.announced.append(event.step_id)


def drawn(step_list: StepList) -> list[str]:
    """The lines as drawn now, in view (inside the border)."""
    return [step_list.render_line(y).text.rstrip() for y in range(step_list.scrollable_content_region.height)]


def run(scenario, size=(40, 24)) -> None:
    async def main() -> None:
        app = ListOnly()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(app, app.query_one(StepList), pilot)

    asyncio.run(main())


def test_keys_move_the_highlight_and_say_which_step_it_is_on():
    async def scenario(app, step_list, pilot):
        assert (step_list.selected_id, app.announced) == ("step-0", [])  # the first, without a word
        await pilot.press("down", "down")
        assert step_list.selected_id == "step-2"
        await pilot.press("up")
        await pilot.press("end")
        assert step_list.selected_id == "step-9"
        await pilot.press("down")  # past the last: stays there
        await pilot.press("home")
        await pilot.press("up")  # before the first: stays there
        await pilot.press("pagedown")  # a page: as many steps as the list shows (24 lines: 12)
        assert step_list.selected_id == "step-9"
        await pilot.press("pageup")
        assert step_list.selected_id == "step-0"
        assert app.announced == ["step-1", "step-2", "step-1", "step-9", "step-0", "step-9", "step-0"]

    run(scenario)


def test_a_click_highlights_the_step_under_the_pointer():
    async def scenario(app, step_list, pilot):
        await pilot.click(StepList, offset=(3, 8))  # the border, then lines 6 and 7: the fourth step
        assert (step_list.selected_id, app.announced) == ("step-3", ["step-3"])
        await pilot.click(StepList, offset=(3, 2))  # the first step's second line
        assert step_list.selected_id == "step-0"
        await pilot.click(StepList, offset=(3, 0))  # the border: nothing changes
        await pilot.click(StepList, offset=(3, 21))  # below the last step: nothing changes
        assert (step_list.selected_id, app.announced) == ("step-0", ["step-3", "step-0"])

    run(scenario)


def test_on_a_short_terminal_the_highlight_is_scrolled_into_view():
    async def scenario(app, step_list, pilot):
        assert drawn(step_list)[:2] == ["○ Step number 0", "  pending"]
        assert len(drawn(step_list)) == 4 and "Step number 9" not in "".join(drawn(step_list))  # 6 rows, bordered
        await pilot.press("end")
        await pilot.pause()
        assert drawn(step_list)[-2:] == ["○ Step number 9", "  pending"]
        await pilot.press("home")
        await pilot.pause()
        assert drawn(step_list)[0] == "○ Step number 0"

    run(scenario, size=(40, 6))


def test_a_new_status_redraws_its_step_and_the_highlight_has_its_own_style():
    async def scenario(app, step_list, pilot):
        step_list.set_status("step-1", Status.VERIFIED)
        await pilot.pause()
        assert drawn(step_list)[2:4] == ["✓ Step number 1", "  verified"]
        highlighted, plain = step_list.render_line(0), step_list.render_line(2)
        assert list(highlighted)[0].style.bgcolor != list(plain)[0].style.bgcolor
        assert len(highlighted.text) == len(plain.text) == step_list.size.width  # the whole width

    run(scenario)
