"""Step ``traefik``: Traefik reaches Docker only through the socket proxy, never the socket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.actions import Action, EditFile
from app.containers.spec import render_settings_diff, settings_diff, settings_of
from app.containers.actions import ReplaceContainer, find_container, find_network
from app.editors.toml_text import set_keys
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.shared.traefik import TABLE, engine_breaks_traefik, traefik_checks, wanted_settings
from app.containers.recreate import Twin, image_config
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

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
            actions.append(ReplaceContainer(twin, diff, replaces=container.id))
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
        return traefik_checks(self, host, config)
