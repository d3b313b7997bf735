"""What the welcome screen shows: the OS, the Docker engine, and which configured objects exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host


@dataclass
class HostReport:
    os_name: str
    os_version: str
    docker_ok: bool
    docker: str  # the engine version, or why it is unreachable
    containers: dict[str, bool] = field(default_factory=dict)  # configured name -> exists
    networks: dict[str, bool] = field(default_factory=dict)


def configured_containers(config: "Config") -> list[str]:
    return [config.docker.socket_proxy_container, config.traefik.container, config.synapse.container,
            config.turn.container]


def configured_networks(config: "Config") -> list[str]:
    return [config.docker.private_network, config.traefik.web_network]


def detect(host: "Host", config: "Config") -> HostReport:
    release = host.os_release()
    docker_ok, docker = host.docker_status()
    report = HostReport(release.get("NAME", "unknown OS"), release.get("VERSION_ID") or release.get("VERSION", ""),
                        docker_ok, docker)
    if docker_ok:
        client = host.docker
        names = {c.name for c in client.containers.list(all=True, ignore_removed=True)}
        report.containers = {name: name in names for name in configured_containers(config)}
        networks = {n.name for n in client.networks.list()}
        report.networks = {name: name in networks for name in configured_networks(config)}
    return report
