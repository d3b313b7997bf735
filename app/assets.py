"""The shipped assets (step texts, lab files, profiles, styles): package data of ``assets``.

Found through the ``assets`` package, so a wheel installed anywhere finds them as a checkout does.
Where that package is a folder (a checkout, any wheel pip installed) its files are read in place;
``importlib.resources``, whose import brings zipfile and its readers (about 3 ms of the wizard's
first frame, which styles itself from an asset), only serves a package inside a zip.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

_copies = None  # the zip case's temporary copies (an ExitStack), kept until the process ends


def _folder() -> Path | None:
    """The ``assets`` package's folder, or None when it lies inside a zip."""
    try:
        import assets
    except ModuleNotFoundError:  # an OSError, as for any file that cannot be read
        raise FileNotFoundError(errno.ENOENT, "hardstep's assets package is not installed") from None
    folders = [Path(p) for p in getattr(assets, "__path__", [])]
    return folders[0] if folders and folders[0].is_dir() else None


def _in_zip(*parts: str) -> "Traversable":
    from importlib.resources import files

    return files("assets").joinpath(*parts)


def asset_path(*parts: str) -> Path:
    """A real file, for what wants a path (Textual's CSS_PATH, docker's ``--security-opt``)."""
    folder = _folder()
    if folder is not None:
        return folder.joinpath(*parts)
    global _copies
    import atexit
    from contextlib import ExitStack
    from importlib.resources import as_file

    if _copies is None:  # as_file copies a zip's member to a temporary file
        _copies = ExitStack()
        atexit.register(_copies.close)
    return _copies.enter_context(as_file(_in_zip(*parts)))


def read_asset(*parts: str) -> str:
    folder = _folder()
    source = folder.joinpath(*parts) if folder is not None else _in_zip(*parts)
    return source.read_text(encoding="utf-8")
