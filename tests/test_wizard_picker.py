"""Pilot tests of the container picker (key p on the sandbox step): real engine, real Docker.

The picker lists every running container on the engine, other tests' ones included, so each
test finds its own containers by their unique names.
"""

from __future__ import annotations

import pytest

from app.config.settings import load_config
from screens.main import MainScreen
from screens.picker import ContainerPicker
from tests.fixtures_core import docker_values
from tests.wizard_support import Notes, drive, settle, wait_until, wizard_engine


def run_busybox(docker_client, images, name: str) -> None:
    docker_client.containers.run(images["busybox"], ["sleep", "300"], name=name, detach=True)


def footer_actions(screen) -> set[str]:
    return {b.binding.action for b in screen.active_bindings.values() if b.enabled and b.binding.show}


async def open_picker(pilot) -> ContainerPicker:
    app = pilot.app
    app.screen.select_step("sandbox")
    await settle(pilot)
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, ContainerPicker))
    await pilot.pause()
    return app.screen


async def highlight(pilot, picker: ContainerPicker, name: str) -> None:
    """Move the cursor onto ``name`` with the keyboard (down from the top)."""
    from textual.widgets import SelectionList

    listing = picker.query_one(SelectionList)
    await pilot.press("home")
    for _ in range(listing.option_count):
        if listing.highlighted_option.id == name:
            return
        await pilot.press("down")
    raise AssertionError(f"{name} is not in the picker")


@pytest.mark.docker
def test_picking_a_container_saves_it_to_the_file_and_the_engine(tmp_path, unique, images, docker_client):
    first, second = unique("pick-a"), unique("pick-b")
    for name in (first, second):
        run_busybox(docker_client, images, name)
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    notes = Notes()

    async def scenario(app, pilot):
        picker = await open_picker(pilot)
        names = [row["name"] for row in picker.rows]
        assert first in names and second in names
        assert {first, second} <= set(picker.selected)  # nothing set yet: hardstep's suggestion
        await pilot.press("n")  # untick all
        assert picker.selected == []
        await highlight(pilot, picker, second)
        await pilot.press("space")
        assert picker.selected == [second]
        await pilot.press("enter")
        await wait_until(pilot, lambda: list(engine.config.sandbox.containers) == [second])
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert load_config(engine.config.path).sandbox.containers == [second]
        assert "Sandboxed containers saved" in notes.text()
        # Opened again, the picker starts from the saved list, not from the suggestion.
        picker = await open_picker(pilot)
        assert picker.selected == [second]
        await pilot.press("escape")

    drive(engine, scenario, notes=notes)


@pytest.mark.docker
def test_cancelling_the_picker_leaves_the_file_and_the_engine_alone(tmp_path, unique, images, docker_client):
    mine = unique("pick-c")
    run_busybox(docker_client, images, mine)
    values = docker_values(unique, images)
    values["sandbox"] = {"containers": [mine]}
    engine = wizard_engine(tmp_path, values)
    before = engine.config.path.read_text(encoding="utf-8")

    async def scenario(app, pilot):
        picker = await open_picker(pilot)
        assert picker.selected == [mine]  # the current list, not the suggestion
        await highlight(pilot, picker, mine)
        await pilot.press("space")
        assert picker.selected == []
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)

    drive(engine, scenario)
    assert engine.config.path.read_text(encoding="utf-8") == before
    assert list(engine.config.sandbox.containers) == [mine]


@pytest.mark.docker
def test_p_on_another_step_does_nothing_and_is_not_in_the_footer(tmp_path, unique, images):
    engine = wizard_engine(tmp_path, docker_values(unique, images))
    before = engine.config.path.read_text(encoding="utf-8")

    async def scenario(app, pilot):
        screen = app.screen
        assert screen.selected.id != "sandbox"
        assert "pick_containers" not in footer_actions(screen)
        await pilot.press("p")
        await settle(pilot)
        assert app.screen is screen
        screen.select_step("sandbox")
        await settle(pilot)
        assert "pick_containers" in footer_actions(screen)

    drive(engine, scenario)
    assert engine.config.path.read_text(encoding="utf-8") == before
