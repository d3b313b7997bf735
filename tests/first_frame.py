"""Start the wizard in a child process as a user starts it, and catch its first frame.

The child runs the program's entry point (``screens.launch.main``: its command line, its engine,
then Textual, which it loads only then) headless through Textual's own ``TEXTUAL_DRIVER`` switch
at 80x24. The frame is caught where Textual hands a rendered screen to the driver
(``App._display``, private but stable in the pinned version), patched in as textual.app loads,
so the probe loads nothing before the program does. Headless, the driver writes nothing, but the
frame is complete. The bench (tests/bench.py) times it; tests/test_startup.py looks at what was
loaded and collected by then.

A child script is ``probe(on_first_frame) + wizard(home)`` (or ``+ BARE``): ``on_first_frame`` is
the source of a function ``on_first_frame(app, screen)`` that runs once that frame is out and
must end the process (``os._exit``), since worker threads may still be talking to Docker.
"""

from __future__ import annotations

from pathlib import Path

HEADLESS = {"TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver", "COLUMNS": "80", "LINES": "24"}

_PROBE = """
import importlib.abc, importlib.util, os, sys

WANTED = {wanted!r}  # the screen a user first sees


def catch_first_frame(app_class):
    shown = app_class._display

    def _display(self, screen, renderable):
        shown(self, screen, renderable)
        if renderable is not None and type(screen).__name__ == WANTED:
            on_first_frame(self, screen)
    app_class._display = _display


class WhenTextualLoads(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "textual.app":
            return None
        sys.meta_path.remove(self)
        textual_loads()
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            catch_first_frame(module.App)
        spec.loader.exec_module = exec_module
        return spec


def textual_loads():
    pass  # what the caller's code may redefine: runs as textual.app starts loading


sys.meta_path.insert(0, WhenTextualLoads())
"""

BARE = """
from textual.app import App
App().run()
"""


def probe(on_first_frame: str, wanted: str = "MainScreen") -> str:
    """The probe, then the caller's ``on_first_frame`` (and, if it likes, ``textual_loads``)."""
    return _PROBE.format(wanted=wanted) + on_first_frame


def wizard(home: Path | str) -> str:
    """The program's own start on ``home``'s root, settings file and state folder."""
    argv = ["--root", f"{home}/root", "--config", f"{home}/config.toml", "--state-dir", f"{home}/state"]
    return f"\nfrom screens.launch import main\nmain({argv!r})\n"
