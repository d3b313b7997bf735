"""Where hardstep's own data files live: the top-level ``assets/`` folder of the checkout."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def asset_path(*parts: str) -> Path:
    """``asset_path("lab", "traefik.toml")`` -> ``<checkout>/assets/lab/traefik.toml``."""
    return ASSETS.joinpath(*parts)


def read_asset(*parts: str) -> str:
    return asset_path(*parts).read_text(encoding="utf-8")
