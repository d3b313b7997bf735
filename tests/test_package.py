"""The wheel carries everything hardstep reads, and an installed copy runs without a checkout.

The wheel is built from these sources (copied, so the build leaves nothing in the checkout) the
way ``make wheel`` builds it, then installed with pip into a fresh virtualenv made here. Only the
wheel goes into it; its dependencies (Textual, the Docker SDK, ...) are this .venv's, reached
through a ``.pth`` line, so no package index is needed. A ``.pth`` line adds a folder without
running the ``.pth`` files in it, so this .venv's editable install of hardstep stays inert.
Everything runs from ``/``, and each run shows where ``app`` and ``assets`` were imported from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from app.config.settings import Config, save_config
from tests.wheel_support import ROOT, VERSION, build_wheel
from tests.first_frame import HEADLESS
from tests.wizard_support import SNAPSHOT_VALUES, first_frame_script, make_root


# Run by the installed interpreter: where things came from, every asset as app.assets hands it
# out, every step's text, and the practice lab's files written (no engine started).
PROBE = """
import json, sys
from importlib import metadata
from importlib.resources import files
from pathlib import Path
import app, assets, screens
from app.assets import asset_path, read_asset
from app.lab.files import build_lab
from app.shared import apparmor, seccomp
from app.steps import get_step, step_ids

def walk(folder, parts=()):
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            yield from walk(entry, (*parts, entry.name))
        elif entry.is_file() and not entry.name.endswith(".pyc"):
            yield (*parts, entry.name)

names = sorted(walk(files("assets")))
lab = build_lab(Path(sys.argv[1]))
print(json.dumps({
    "modules": [app.__file__, assets.__file__, screens.__file__],
    "metadata_of": str(metadata.distribution("hardstep").locate_file("app/__init__.py")),
    "paths": {"/".join(n): str(asset_path(*n)) for n in names},
    "texts": {"/".join(n): read_asset(*n) for n in names},
    "explanations": {i: get_step(i).explanation() for i in step_ids()},
    "profiles": [seccomp.profile_text(), apparmor.profile_text()],
    "lab_config": str(lab.config),
}))
"""


def _run(*argv: str | Path, cwd: str | Path = "/", timeout: int = 180,
         env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["DOCKER_HOST"] = "unix:///nonexistent.sock"  # nothing here talks to an engine
    env.update(env_extra or {})
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    """The wheel, and a fresh virtualenv it is installed into."""
    tmp = tmp_path_factory.mktemp("package")
    wheel = build_wheel(tmp)

    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "hardstep-test-deps.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    return {"tmp": tmp, "venv": venv, "python": python, "site": site}


def test_the_installed_command_prints_its_version(installed):
    done = _run(installed["venv"] / "bin" / "hardstep", "--version")
    assert done.stdout == f"hardstep {VERSION}\n"


def test_the_installed_copy_reads_every_asset_and_builds_the_lab(installed):
    site, lab = installed["site"], installed["tmp"] / "lab"
    found = json.loads(_run(installed["python"], "-c", PROBE, lab).stdout)

    # The installed copy ran, and its own metadata answered, not this checkout.
    assert all(Path(m).is_relative_to(site) for m in found["modules"]), found["modules"]
    assert found["metadata_of"] == found["modules"][0]

    # Every file of assets/ is in the wheel, as a real file inside the install, unchanged.
    shipped = {p.relative_to(ROOT / "assets").as_posix(): p for p in (ROOT / "assets").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert sorted(found["paths"]) == sorted(shipped)
    for name, path in found["paths"].items():
        assert Path(path).is_relative_to(site / "assets") and Path(path).read_bytes() == shipped[name].read_bytes()
        assert found["texts"][name] == shipped[name].read_text(encoding="utf-8")

    texts = {name: (ROOT / "assets" / "steps" / f"{name}.md").read_text(encoding="utf-8")
             for name in found["explanations"]}
    assert found["explanations"] == texts and len(texts) == 10
    assert found["profiles"] == [shipped["seccomp/hardstep.json"].read_text(encoding="utf-8"),
                                 shipped["apparmor/hardstep-sandbox"].read_text(encoding="utf-8")]

    # The lab's host files are the bundled ones (the message that once stopped `hardstep lab`).
    assert found["lab_config"] == str(lab / "config.toml") and (lab / "config.toml").is_file()
    written = {p.read_bytes() for p in (lab / "root").rglob("*") if p.is_file()}
    assert [n for n, p in shipped.items() if n.startswith("lab/") and p.read_bytes() not in written] == []


def test_the_installed_wizard_loads_its_stylesheet(installed):
    """Textual reads CSS_PATH from a file: the first frame of the installed wizard is drawn."""
    tmp = installed["tmp"] / "wizard"
    make_root(tmp)
    save_config(Config(SNAPSHOT_VALUES), tmp / "config.toml")
    done = _run(installed["python"], "-c", first_frame_script(tmp), timeout=60, env_extra=HEADLESS)
    assert done.stdout.strip(), f"no first frame: {done.stderr}"  # Textual stops on a stylesheet it cannot read
    assert "screens.main" in json.loads(done.stdout.splitlines()[-1])


def test_a_checkout_that_is_not_installed_takes_its_version_from_pyproject():
    # -S: no site-packages, so no installed hardstep's metadata to find.
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from app.version import version; print(version())"
    assert _run(sys.executable, "-S", "-c", code).stdout == f"{VERSION}\n"


def test_an_install_without_the_assets_package_says_so_in_one_line(monkeypatch, tmp_path):
    from app.errors import HardstepError
    from app.lab.files import build_lab

    monkeypatch.setitem(sys.modules, "assets", None)  # as if the package were missing: import fails
    with pytest.raises(HardstepError) as refused:
        build_lab(tmp_path / "lab")
    assert str(refused.value) == ("lab: cannot read the bundled file assets/lab/traefik.toml: "
                                  "hardstep's assets package is not installed; reinstall hardstep")
