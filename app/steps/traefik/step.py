"""Step ``traefik``: Traefik reaches Docker only through the socket proxy, never the socket."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.engine.actions import Action, EditFile
from app.containers.spec import render_settings_diff, settings_diff, settings_of
from app.containers.actions import ReplaceContainer, find_container, find_network
from app.editors.toml_text import parse, set_keys
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.containers.probe import proxy_checks
from app.containers.recreate import Twin, image_config
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

TABLE = ("providers", "docker")
# Docker 29 accepts only API >= 1.44; Traefik learned to negotiate it in v2.11.31 (FACTS).
FIRST_FIXED = (2, 11, 31)


def wanted_settings(config: "Config") -> dict[str, Any]:
    return {
        "endpoint": f"tcp://{config.docker.socket_proxy_container}:2375",
        "exposedByDefault": False,
        # The network Traefik uses to reach the routed services, not the proxy (FACTS).
        "network": config.traefik.network or config.traefik.web_network,
    }


def traefik_version(image: str) -> tuple[int, int, int] | None:
    """``traefik:v2.11.31`` -> (2, 11, 31); None for tags like ``latest`` that name no version."""
    match = re.search(r":v?(\d+)\.(\d+)(?:\.(\d+))?(?:$|[-@])", image)
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


def engine_breaks_traefik(engine_version: str, image: str) -> str | None:
    """Why this Traefik image fails against this Docker engine, or None when it is fine/unknown."""
    engine = re.match(r"(\d+)", engine_version or "")
    version = traefik_version(image)
    if not engine or int(engine[1]) < 29 or version is None or version >= FIRST_FIXED:
        return None
    return (f"{image} cannot talk to Docker {engine_version} (\"client version 1.24 is too old\"); "
            f"use traefik v2.11.31 or later before going on")


class Traefik(Step):
    id = "traefik"
    title = "Traefik through the proxy"

    def _container(self, host: "Host", config: "Config"):
        container = find_container(host, config.traefik.container)
        if container is None:
            raise HardstepError(f"no container named {config.traefik.container}; "
                                "set [traefik] container in settings")
        return container

    def twin(self, host: "Host", container, config: "Config") -> Twin:
        """Traefik as it is, minus every Docker socket mount, plus the private network."""
        socket = config.docker.socket
        drop = {m["Destination"] for m in container.attrs.get("Mounts") or []
                if m.get("Source") == socket or m.get("Destination", "").endswith("docker.sock")}
        networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        add = [] if config.docker.private_network in networks else [config.docker.private_network]
        return Twin(container.attrs, drop_mounts=drop, add_networks=add,
                    image_config=image_config(host, container.attrs["Image"]))

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        docker = config.docker
        proxy = find_container(host, docker.socket_proxy_container)
        if find_network(host, docker.private_network) is None or proxy is None or proxy.status != "running":
            raise HardstepError("the socket proxy is not running yet; apply private-network and socket-proxy "
                                "first, or Traefik would lose its view of Docker")
        path = config.traefik.config
        before = host.read_text(path)
        if before is None:
            raise HardstepError(f"{path} does not exist; set [traefik] config in settings")
        after = set_keys(before, TABLE, wanted_settings(config), path)
        actions: list[Action] = []
        if after != before:
            actions.append(EditFile(path, before, after, summary=f"Point Traefik's Docker provider at the "
                                    f"socket proxy in {path}"))
        container = self._container(host, config)
        twin = self.twin(host, container, config)
        changes = settings_diff(settings_of(container.attrs), twin.settings())
        if changes or actions:
            diff = render_settings_diff(twin.name, changes) if changes else (
                f"(no setting changes: recreated so it reads the new {path};\n"
                " a file bind mount keeps showing the old file to a running container)\n")
            actions.append(ReplaceContainer(twin, diff))
        return actions

    def notes(self, host: "Host", config: "Config") -> list[str]:
        notes = []
        if not config.traefik.network:
            notes.append(f"providers.docker.network = {config.traefik.web_network}: the network Traefik uses to "
                         "reach Synapse and Element. The reference sets it to the private network, which breaks "
                         "routing when the services sit on the web network.")
        container = find_container(host, config.traefik.container)
        if container is not None:
            broken = engine_breaks_traefik(host.docker_version(), container.attrs["Config"]["Image"])
            if broken:
                notes.append(broken)
        return notes

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        results = [self._check_file(host, config)]
        container = find_container(host, config.traefik.container)
        if container is None:
            return results + [self.check("container exists", False, f"no container named {config.traefik.container}")]
        mounts = [f"{m.get('Source')}:{m.get('Destination')}" for m in container.attrs.get("Mounts") or []
                  if m.get("Source") == config.docker.socket or m.get("Destination", "").endswith("docker.sock")]
        networks = list((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
        private = config.docker.private_network
        results += [
            self.check("no docker.sock mount", not mounts, f"mounts {', '.join(mounts)}" if mounts
                       else "no Docker socket mounted", mounts=mounts),
            self.check(f"on the {private} network", private in networks, f"attached to {', '.join(networks)}",
                       networks=networks),
            self._compatible(host, container.attrs["Config"]["Image"]),
        ]
        results += proxy_checks(self, host, config, [("/version", 200), ("/containers/json", 200)],
                                "proxy answers GET {path}")
        return results + [self._route(config)]

    def _compatible(self, host: "Host", image: str) -> CheckResult:
        name = "image works with this engine"
        engine = host.docker_version()
        broken = engine_breaks_traefik(engine, image)
        if broken:
            return self.check(name, False, broken, image=image, engine=engine)
        if traefik_version(image) is None:
            return self.check(name, None, f"skipped: {image} names no version to compare", image=image)
        return self.check(name, True, f"{image} works with Docker {engine}", image=image, engine=engine)

    def _check_file(self, host: "Host", config: "Config") -> CheckResult:
        path = config.traefik.config
        text = host.read_text(path)
        if text is None:
            return self.check("config points at the proxy", False, f"{path} does not exist")
        try:
            table = parse(text, path).unwrap().get("providers", {}).get("docker", {})
        except HardstepError as exc:
            return self.check("config points at the proxy", False, str(exc))
        wrong = {k: table.get(k, "(unset)") for k, v in wanted_settings(config).items() if table.get(k) != v}
        detail = ", ".join(f"{k} = {v!r}" for k, v in wrong.items())
        return self.check("config points at the proxy", not wrong,
                          f"wrong: {detail}" if wrong else "endpoint, exposedByDefault and network are set",
                          wrong=wrong)

    def _route(self, config: "Config") -> CheckResult:
        from app.net import http

        url = config.synapse.url.rstrip("/") + "/_matrix/client/versions"
        answer = http.get(url, timeout=5, follow_redirects=True)
        status = answer.status
        if status is None:
            return self.check("route through Traefik answers", None,
                              f"skipped: {url} is not reachable from here ({answer.failure})", url=url)
        return self.check("route through Traefik answers", status == 200, f"GET {url} -> {status}",
                          url=url, status=status)
