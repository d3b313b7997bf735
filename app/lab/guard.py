"""The lab's guard: every Docker name a lab config holds starts with ``hslab-``.

``ensure_lab_config`` makes the lab refuse a config that names anything without the prefix, so
the lab can never touch a real stack, even after someone hand-edits its config. Light on
purpose: the wizard asks ``is_lab_config`` before its first frame.
"""

from __future__ import annotations

from app.config import settings as cfg
from app.errors import HardstepError

LAB_PREFIX = "hslab-"


def name_fields() -> list[cfg.Field]:
    """Every config key that names a Docker container or network."""
    return [f for f in cfg.FIELDS if f.kind == "name"]


def is_lab_config(config: cfg.Config) -> bool:
    """True when every container and network name in ``config`` starts with the lab prefix."""
    return not _foreign_names(config)


def _foreign_names(config: cfg.Config) -> list[str]:
    """Settings that name a container or network (one, or a list of them) without the prefix."""
    foreign = [
        f"{spec.name} = {config.value(spec.section, spec.key)!r}"
        for spec in name_fields()
        if not str(config.value(spec.section, spec.key)).startswith(LAB_PREFIX)
    ]
    for spec in cfg.FIELDS:
        if spec.kind == "names":
            outside = [n for n in config.value(spec.section, spec.key) if not str(n).startswith(LAB_PREFIX)]
            if outside:
                foreign.append(f"{spec.name} = {outside!r}")
    return foreign


def ensure_lab_config(config: cfg.Config) -> cfg.Config:
    """Return ``config`` when it is a lab config; raise HardstepError naming the offenders if not."""
    foreign = _foreign_names(config)
    if foreign:
        where = config.path or "the lab config"
        raise HardstepError(
            f"lab: {where} names Docker objects without the {LAB_PREFIX!r} prefix "
            f"({'; '.join(foreign)}); the lab refuses to run so it cannot touch a real stack. "
            f"Put the prefix back or delete the file to have it recreated."
        )
    return config
