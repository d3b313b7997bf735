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


def test_the_registry_describes_every_step_as_its_class_does():
    """The registry repeats title, Docker need, options and the container picker so the wizard
    can list steps without importing them; the classes must say the same."""
    from app.steps import info_of, step_class, step_ids, step_info

    for step_id in step_ids():
        assert step_info(step_id) == info_of(step_class(step_id)), step_id
    assert [s for s in step_ids() if step_info(s).picks_containers] == ["sandbox"]


def test_listing_the_steps_imports_no_step_module():
    code = (
        "import sys\n"
        "from app.steps import step_ids, step_info\n"
        "[step_info(s) for s in step_ids()]\n"
        "print(sorted(n for n in sys.modules if n.startswith('app.steps.')))"
    )
    assert run_python(code) == "[]"


def test_a_bare_module_and_class_pair_is_described_from_its_class(monkeypatch):
    from app import steps

    monkeypatch.setitem(steps.REGISTRY, "file-standin", ("tests.wizard_support", "FileStandInStep"))
    info = steps.step_info("file-standin")
    assert (info.id, info.title, info.uses_docker, info.options) == (
        "file-standin", "File stand-in step", False, (("synapse", "disable_registration"),))
