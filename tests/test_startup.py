"""What the wizard has loaded when its first frame is out: nothing heavy, no step module.

Not timed (timings are the bench's job, ``make bench``): these tests look at ``sys.modules``
in a fresh process that starts the wizard as a user does and as the bench does (the program's
entry point, headless at 80x24: tests/first_frame.py) and stops at the main screen's first frame.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.config.settings import Config, save_config
from tests.first_frame import HEADLESS
from tests.wizard_support import SNAPSHOT_VALUES, first_frame_script, make_root

ROOT = Path(__file__).resolve().parent.parent

# Loaded when first needed, in workers or with the first explanation, never for the first frame.
HEAVY = ("docker", "httpx", "requests", "ruamel", "yaml", "tomlkit", "cryptography", "markdown_it")
# The Markdown widget (explanations), the widgets of the tabs hidden at start, and Textual's own
# tabs (the main screen's tab bar is one line of text: screens/widgets/tab_bar.py).
LATER_WIDGETS = ("textual.widgets._markdown", "textual.widgets._data_table", "textual.widgets._rich_log",
                 "textual.widgets._progress_bar", "textual.widgets._tabbed_content", "textual.widgets._tabs")


def first_frame(tmp_path: Path) -> tuple[list[str], dict]:
    """The modules loaded at the first frame, and what the probe counted (``LOADED_AT_FIRST_FRAME``)."""
    make_root(tmp_path)
    save_config(Config(SNAPSHOT_VALUES), tmp_path / "config.toml")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(PYTHONPATH=str(ROOT), DOCKER_HOST="unix:///nonexistent.sock", **HEADLESS)
    done = subprocess.run([sys.executable, "-c", first_frame_script(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    *_, counts, modules = done.stdout.strip().splitlines()
    return json.loads(modules), json.loads(counts)


def first_frame_modules(tmp_path: Path) -> list[str]:
    return first_frame(tmp_path)[0]


def test_the_first_frame_loads_no_heavy_library_and_no_step(tmp_path):
    modules = first_frame_modules(tmp_path)
    assert "screens.main" in modules  # the probe did reach the main screen
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []
    # The registry and each step's declared settings (plain data the config is made of) only.
    steps = [m for m in modules if m.startswith("app.steps.")]
    assert [m for m in steps if m.count(".") > 2 and not m.endswith(".settings")] == []
    assert [m for m in modules if m in LATER_WIDGETS] == []
    # Is this the lab? The guard answers; the lab's files, engine and stack code stay unloaded.
    assert sorted(m for m in modules if m.startswith("app.lab")) == ["app.lab", "app.lab.guard"]
    # No host was named: the many-hosts and SSH-target code stays unloaded.
    assert [m for m in modules if m in ("app.engine.fleet", "app.host.target", "app.host.ssh")] == []
    # Only what the main screen needs: no dialog, no settings or welcome screen yet.
    assert [m for m in modules if m in ("screens.dialogs", "screens.settings", "screens.welcome",
                                        "screens.picker")] == []


def test_no_garbage_collection_runs_while_textual_loads_and_draws_the_first_frame(tmp_path):
    """Loading Textual frees next to nothing, yet its collections took a tenth of the time to the
    first frame, and a full one walks every object loaded: the entry point turns the collector
    off before Textual loads, and the app turns it on once its first frame is out."""
    modules, counted = first_frame(tmp_path)
    assert "screens.main" in modules
    assert (counted["collections"], counted["full_collections"]) == (0, 0)


# What the Plan, Checks and Log tabs' widgets are styled by: their own DEFAULT_CSS, parsed when
# they are mounted after the first frame, so start-up neither parses nor matches those rules.
HIDDEN_TAB_SELECTORS = ("ActionList", "PlanView", "PlanOptions", ".plan-summary", ".plan-command",
                        ".plan-option-help", "ChecksPanel", "#checks-table", "#check-evidence",
                        "ActivityPanel", "#progress-bar", "#activity-log", "#plan-view", "#plan-options",
                        "#checks-panel", "#activity")


def test_the_first_frame_parses_no_style_of_the_hidden_tabs(tmp_path):
    modules, counted = first_frame(tmp_path)
    assert "#step-list" in counted["selected"]  # the probe did see the main screen's rules
    assert [name for name in HIDDEN_TAB_SELECTORS if name in counted["selected"]] == []
