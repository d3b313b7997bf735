"""Step ``socket-proxy``: Tecnativa's docker-socket-proxy on the private network, GET-only, so
Traefik never needs the Docker socket itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.actions import Action
from app.containers.spec import ContainerSpec, render_settings_diff, settings_diff, settings_of
from app.containers.actions import (PullImage, ReplaceContainer, RunContainer, StartContainer, find_container,
                                 find_network, hardstep_labels, image_present)
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.containers.probe import proxy_checks
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

# The only API sections this proxy opens: the image's defaults plus CONTAINERS.
ALLOWED = {"EVENTS", "PING", "VERSION", "CONTAINERS"}
# Every other switch the proxy knows; any of them on widens what a compromised Traefik can do.
SWITCHES = ("AUTH SECRETS POST BUILD COMMIT CONFIGS ALLOW_START ALLOW_STOP ALLOW_RESTARTS DISTRIBUTION "
            "EXEC GRPC IMAGES INFO NETWORKS NODES PLUGINS SERVICES SESSION SWARM SYSTEM TASKS VOLUMES").split()


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
        changes = self.changes(container.attrs, spec)
        if changes:
            return actions + [ReplaceContainer(spec, render_settings_diff(spec.name, changes))]
        if container.status != "running":
            actions.append(StartContainer(spec.name))
        return actions

    def changes(self, attrs: dict, spec: ContainerSpec) -> list[tuple[str, str, str]]:
        changes = settings_diff(settings_of(attrs), spec.settings())
        env = dict(item.partition("=")[::2] for item in (attrs.get("Config") or {}).get("Env") or [])
        for switch in SWITCHES:  # read raw: "SECRETS=0" names an API section, it is not a secret
            if switch not in spec.environment and _on(env.get(switch, "0")):
                changes.append((f"env {switch}", env[switch], "0 (image default)"))
        return changes

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        docker = config.docker
        container = find_container(host, docker.socket_proxy_container)
        if container is None:
            return [self.check("proxy running", False, f"no container named {docker.socket_proxy_container}")]
        current = settings_of(container.attrs)
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
        ]
        if container.status != "running":
            return results  # nothing to ask: the probes would only wait for an answer that cannot come
        return results + proxy_checks(self, host, config, [("/containers/json", 200), ("/networks", 403)],
                                      "GET {path} -> {expected}")


def proxy_spec(host: "Host", config: "Config", name: str, network: str, environment: dict[str, str],
               step: str) -> ContainerSpec:
    """A socket proxy hardened as hardstep runs them: only ``environment``'s switches on, on one
    network, the socket read-only. The acme step's narrow proxy is one of these too."""
    return ContainerSpec(
        name=name,
        image=config.docker.socket_proxy_image,
        network=network,
        environment=dict(environment),
        binds=[f"{config.docker.socket}:/var/run/docker.sock:ro"],
        restart="unless-stopped",
        # Only SELinux hosts need --privileged to reach the socket (FACTS); elsewhere drop it all.
        privileged=host.selinux_enforcing(),
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        tmpfs={"/run": "rw,noexec,nosuid,size=16m"},
        labels=hardstep_labels(step),
    )


def _names(joined: str) -> set[str]:
    return {name.strip() for name in joined.split(",")}


def _on(value: str) -> bool:
    """docker-socket-proxy switches are HAProxy ``-m bool``: anything but empty or 0 is on."""
    return value.strip() not in ("", "0")

