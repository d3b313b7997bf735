"""The shipped assets (step texts, lab files, profiles, styles): package data of ``assets``.

Read through ``importlib.resources``, so a wheel installed anywhere finds them as a checkout does.
"""

from __future__ import annotations

import atexit
import errno
from contextlib import ExitStack
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

# as_file gives the file itself where the package lies on disk (a checkout, a wheel pip installed)
# and a temporary copy where it does not (a zip); such copies live until the process ends.
_copies = ExitStack()
atexit.register(_copies.close)


def _asset(*parts: str) -> Traversable:
    try:
        package = files("assets")
    except ModuleNotFoundError:  # an OSError, as for any file that cannot be read
        raise FileNotFoundError(errno.ENOENT, "hardstep's assets package is not installed",
                                "/".join(parts)) from None
    return package.joinpath(*parts)


def asset_path(*parts: str) -> Path:
    """A real file, for what wants a path (Textual's CSS_PATH, docker's ``--security-opt``)."""
    return _copies.enter_context(as_file(_asset(*parts)))


def read_asset(*parts: str) -> str:
    return _asset(*parts).read_text(encoding="utf-8")
