"""An engine aimed at the real Docker engine with unique, auto-cleaned names and local images."""

from __future__ import annotations

from pathlib import Path

from app.config.settings import Config, save_config
from app.engine.runner import Engine
from app.host import LocalHost
from app.engine.state import StateStore


def docker_values(unique, images: dict[str, str]) -> dict[str, dict[str, str]]:
    """Settings aimed at the real engine: unique, auto-cleaned names and the local test images."""
    return {
        "docker": {
            "private_network": unique("private"),
            "socket_proxy_container": unique("dockerproxy"),
            "socket_proxy_image": images["socket_proxy"],
            "probe_image": images["busybox"],
        },
        "traefik": {"web_network": unique("web"), "container": unique("proxy")},
    }


def make_engine(tmp_path: Path, unique, images: dict[str, str], **sections) -> Engine:
    """A real engine: files under ``tmp_path/root``, state in ``tmp_path/state``, Docker for real."""
    values = docker_values(unique, images)
    for section, table in sections.items():
        values.setdefault(section, {}).update(table)
    config = Config(values)
    save_config(config, tmp_path / "config.toml")
    (tmp_path / "root").mkdir(exist_ok=True)
    return Engine(LocalHost(tmp_path / "root"), Config(values, tmp_path / "config.toml", True),
                  StateStore(tmp_path / "state"))


def failing(results) -> list[str]:
    return [r.check for r in results if r.ok is False]


def applied(engine: Engine, step: str):
    """``engine.apply(step)``, asserted to pass; a failure names the error and every failing check
    with its detail (a run that fails only on CI can then be read)."""
    outcome = engine.apply(step)
    assert outcome.ok, (outcome.error, [(r.check, r.detail) for r in outcome.checks if r.ok is False])
    return outcome
