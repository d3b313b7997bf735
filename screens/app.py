"""The hardstep Textual application. Thin on purpose: it only pushes screens."""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

from textual.app import App
from textual.screen import Screen

from app.assets import asset_path

if TYPE_CHECKING:
    from app.engine.runner import Engine


class HardstepApp(App[None]):
    """Welcome screen on the first run (no settings file yet), then the main screen."""

    TITLE = "hardstep"
    CSS_PATH = str(asset_path("hardstep.tcss"))
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, engine: "Engine") -> None:
        super().__init__()
        self.engine = engine
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # Every animation frame is a redraw sent over SSH; the wizard needs none.
            self.animation_level = "none"

    def get_default_screen(self) -> Screen:
        """The main screen, when the settings file exists: it is then the first screen, instead
        of being pushed over an empty one that would be styled, laid out and drawn for nothing."""
        if not self._welcome_first():
            from screens.main import MainScreen

            return MainScreen(self.engine)
        return super().get_default_screen()

    def _welcome_first(self) -> bool:
        """The welcome screen comes first on a first run (no settings yet) and in the lab, which
        it introduces."""
        from app.lab.guard import is_lab_config

        return not self.engine.config.exists or is_lab_config(self.engine.config)

    def on_load(self) -> None:
        # No garbage collection from the start of the run until the first frame is out (the
        # program's entry point, screens/launch.py, turns it off earlier, before Textual loads):
        # composing the screen would trigger a full one that walks every object Textual and
        # hardstep loaded (about a tenth of the first frame), and young ones besides. What
        # start-up leaves behind is collected just after (on_mount).
        gc.disable()

    def on_mount(self) -> None:
        self.call_after_refresh(gc.enable)  # after the first frame: collect as usual again
        if self._welcome_first():
            from screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.engine), lambda _: self.show_main())

    def show_main(self) -> None:
        from screens.main import MainScreen

        self.push_screen(MainScreen(self.engine))
