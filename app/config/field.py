"""One setting: its table and key in ``config.toml``, default, kind (how it is validated) and help.
Steps declare theirs with it in ``app/steps/<step>/settings.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One setting (see the module's docstring)."""

    section: str
    key: str
    default: Any
    kind: str
    help: str

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.key}"
