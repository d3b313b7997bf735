"""Step ``socket-proxy``: Tecnativa's docker-socket-proxy on the private network, GET-only, so
Traefik never needs the Docker socket itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.actions import Action
from app.containers.spec import ContainerSpec, render_settings_diff, settings_of
from app.containers.actions import (PullImage, ReplaceContainer, RunContainer, StartContainer, find_container,
                                 find_network, image_present)
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.shared.socket_proxy import file_read_asks, proxy_changes, proxy_checks, proxy_spec, switches_on
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

class SocketProxy(Step):
    id = "socket-proxy"
    title = "Docker socket proxy"

    def spec(self, host: "Host", config: "Config") -> ContainerSpec:
        docker = config.docker
        return proxy_spec(host, config, docker.socket_proxy_container, docker.private_network,
                          {"CONTAINERS": "1"}, self.id)

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        docker = config.docker
        if find_network(host, docker.private_network) is None:
            raise HardstepError(f"the network {docker.private_network} does not exist yet; "
                                "apply the private-network step first")
        actions: list[Action] = [PullImage(image) for image in dict.fromkeys(
            [docker.socket_proxy_image, docker.probe_image]) if not image_present(host, image)]
        spec = self.spec(host, config)
        container = find_container(host, spec.name)
        if container is None:
            return actions + [RunContainer(spec)]
        changes = proxy_changes(container.attrs, spec)
        if changes:
            return actions + [ReplaceContainer(spec, render_settings_diff(spec.name, changes), replaces=container.id)]
        if container.status != "running":
            actions.append(StartContainer(spec.name))
        return actions

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        docker = config.docker
        container = find_container(host, docker.socket_proxy_container)
        if container is None:
            return [self.check("proxy running", False, f"no container named {docker.socket_proxy_container}")]
        current, on = settings_of(container.attrs), switches_on(container.attrs, self.spec(host, config))
        networks = current["networks"]
        web = config.traefik.web_network
        socket_mounts = [m for m in container.attrs.get("Mounts") or []
                         if m.get("Destination") == "/var/run/docker.sock"]
        writable = any(m.get("RW", True) for m in socket_mounts)
        results = [
            self.check("proxy running", container.status == "running", f"status {container.status}",
                       status=container.status),
            self.check("publishes no host port", current["published ports"] == "(none)",
                       f"published: {current['published ports']}", ports=current["published ports"]),
            self.check(f"not on the {web} network", web not in _names(networks),
                       f"attached to: {networks}", networks=networks),
            self.check("socket mounted read-only", bool(socket_mounts) and not writable,
                       "not mounted" if not socket_mounts else ("read-write" if writable else "mounted :ro"),
                       mounts=current["mounts"]),
            self.check("no other switch on", not on, "on: " + ", ".join(f"{k}={v}" for k, v in on.items())
                       + "; apply socket-proxy to turn them off" if on else "only CONTAINERS and the image's "
                       "defaults", switches=on),
        ]
        if container.status != "running":
            return results  # nothing to ask: the probes would only wait for an answer that cannot come
        asks = [("/containers/json", 200), ("/networks", 403), *file_read_asks(on, container.attrs["Config"]["Image"])]
        return results + proxy_checks(self, host, config, asks, "GET {path} -> {expected}")


def _names(joined: str) -> set[str]:
    return {name.strip() for name in joined.split(",")}
