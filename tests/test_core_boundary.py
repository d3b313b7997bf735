"""The core never imports Textual, and start-up never imports the heavy libraries."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_core_imports_no_textual():
    code = (
        "import importlib, pkgutil, sys, app\n"
        "for m in pkgutil.walk_packages(app.__path__, 'app.'):\n"
        "    m.name != 'app.__main__' and importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n == 'textual' or n.startswith('textual.')))"
    )
    assert run_python(code) == "[]"


def test_startup_imports_no_heavy_modules():
    code = (
        "import sys, app.cli, screens.app\n"
        "heavy = ('docker', 'ruamel', 'httpx', 'tomlkit', 'requests')\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in heavy))"
    )
    assert run_python(code) == "[]"


def test_every_registered_step_has_its_explanation():
    from app.steps import get_step, step_ids

    for step_id in step_ids():
        step = get_step(step_id)
        assert step.id == step_id
        assert step.explanation().startswith("# "), step_id
        assert "**Why.**" in step.explanation(), step_id
