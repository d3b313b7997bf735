"""hardstep's version: the installed distribution's; from a checkout that is not installed, the
one its pyproject.toml declares."""

from __future__ import annotations

from pathlib import Path


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("hardstep")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, ValueError, KeyError):
            return "unknown"  # neither installed nor in a checkout: say so rather than fail
