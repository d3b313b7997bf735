"""app/assets.py: the shipped files, read in place from a folder and through importlib from a zip."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.assets import asset_path, read_asset

ROOT = Path(__file__).resolve().parent.parent


def test_from_a_folder_the_assets_are_the_files_themselves():
    path = asset_path("hardstep.tcss")
    assert path == ROOT / "assets" / "hardstep.tcss"
    assert read_asset("lab", "os-release") == (ROOT / "assets" / "lab" / "os-release").read_text(encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        read_asset("no-such-asset.txt")


def test_from_a_zip_a_path_is_a_copy_and_reads_come_from_the_zip(tmp_path):
    """A package imported from a zip (zipimport) has no folder: importlib.resources serves it."""
    bundle = tmp_path / "assets.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("assets/__init__.py", "")
        archive.writestr("assets/hardstep.tcss", "Screen { color: red; }\n")
        archive.writestr("assets/lab/os-release", "ID=zipped\n")
    code = """
import sys
sys.path.insert(0, sys.argv[1])  # the zip before the checkout: its assets package wins
from app.assets import asset_path, read_asset
import assets
path = asset_path("hardstep.tcss")
print(assets.__file__)
print(path.read_text(), end="")
print(read_asset("lab", "os-release"), end="")
print(path.is_relative_to(sys.argv[1]))
"""
    out = subprocess.run([sys.executable, "-c", code, str(bundle)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == [f"{bundle}/assets/__init__.py", "Screen { color: red; }", "ID=zipped", "False"]


def test_without_the_package_a_read_is_a_missing_file(monkeypatch):
    monkeypatch.setitem(sys.modules, "assets", None)  # what ``import assets`` then raises: not found
    with pytest.raises(FileNotFoundError, match="assets package is not installed"):
        read_asset("hardstep.tcss")
