"""hardstep's wheel built for a test from a copy of the sources, the way ``make wheel`` builds it
(the copy: the build leaves nothing in the checkout)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
SOURCES = ("pyproject.toml", "README.md", "app", "screens", "assets")
CACHES = shutil.ignore_patterns("__pycache__", "*.pyc")


def build_wheel(tmp: Path) -> Path:
    """``tmp/dist/hardstep-<version>-py3-none-any.whl``, built from ``tmp/src``."""
    (tmp / "src").mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp / "src" / name, ignore=CACHES)
        else:
            shutil.copy2(source, tmp / "src" / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"),
                           str(tmp / "src")], cwd="/", capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"pip wheel: {done.stdout}{done.stderr}"
    wheel = tmp / "dist" / f"hardstep-{VERSION}-py3-none-any.whl"
    assert wheel.is_file(), sorted(p.name for p in (tmp / "dist").iterdir())
    return wheel
