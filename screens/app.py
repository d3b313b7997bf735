"""The hardstep Textual application. Thin on purpose: it only pushes screens."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual.app import App

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

    def on_mount(self) -> None:
        if self.engine.config.exists:
            self.show_main()
        else:
            from screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.engine), lambda _: self.show_main())

    def show_main(self) -> None:
        from screens.main import MainScreen

        self.push_screen(MainScreen(self.engine))
