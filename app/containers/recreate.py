"""Recreate a container exactly as it was, except for the changes hardstep asks for.

The engine cannot remove a mount or change most settings of a running container, so hardstep
creates a twin from the container's own inspect data (image, command, environment, labels,
ports, mounts, restart policy, networks with their aliases, everything in HostConfig) with the
requested changes applied, the way ``docker compose`` does on a config change.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.containers.spec import settings_of
from app.redact import redact_argv, redact_value

if TYPE_CHECKING:
    from app.host.base import Host

# Config fields the create endpoint takes back as they were inspected.
_CONFIG_KEYS = ("Domainname", "User", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd",
                "Healthcheck", "Image", "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels",
                "StopSignal", "StopTimeout", "Shell")


@dataclass
class Twin:
    """A container to create from ``attrs`` (an inspect result) with some changes."""

    attrs: dict[str, Any]
    drop_mounts: set[str] = field(default_factory=set)  # container paths whose mounts go
    add_networks: list[str] = field(default_factory=list)
    # The image's own Config: environment and labels it already sets are left out of docker_run.
    image_config: dict[str, Any] = field(default_factory=dict)
    host_config: dict[str, Any] = field(default_factory=dict)  # HostConfig keys to set (sandbox limits)
    drop_networks: set[str] = field(default_factory=set)  # networks the twin leaves
    run_flags: list[str] = field(default_factory=list)  # how docker_run shows ``host_config``

    @property
    def name(self) -> str:
        return self.attrs["Name"].lstrip("/")

    def networks(self) -> dict[str, dict[str, Any]]:
        """Network -> endpoint settings to attach, in the original order, added ones last."""
        current = (self.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        short_id = self.attrs["Id"][:12]
        result = {}
        for network, endpoint in current.items():
            if network in self.drop_networks:
                continue
            aliases = [a for a in endpoint.get("Aliases") or [] if a not in (short_id, self.attrs["Id"])]
            result[network] = {"Aliases": aliases or None, "IPAMConfig": endpoint.get("IPAMConfig") or None,
                               "Links": endpoint.get("Links") or None}
        for network in self.add_networks:
            result.setdefault(network, {"Aliases": None, "IPAMConfig": None, "Links": None})
        return result

    def creation_config(self) -> dict[str, Any]:
        config = {k: copy.deepcopy(v) for k, v in (self.attrs.get("Config") or {}).items() if k in _CONFIG_KEYS}
        if config.get("Volumes"):  # a dropped bind must not come back as an anonymous volume
            config["Volumes"] = {k: v for k, v in config["Volumes"].items() if k not in self.drop_mounts} or None
        host_config = copy.deepcopy(self.attrs.get("HostConfig") or {})
        host_config["Binds"] = [b for b in host_config.get("Binds") or [] if _bind_target(b) not in self.drop_mounts]
        host_config["Binds"] += [b for b in unnamed_volumes(self.attrs) if _bind_target(b) not in self.drop_mounts]
        host_config["Mounts"] = [m for m in host_config.get("Mounts") or [] if m.get("Target") not in self.drop_mounts]
        host_config.update(copy.deepcopy(self.host_config))
        networks = self.networks()
        primary = host_config.get("NetworkMode") or "default"
        if primary not in networks:  # "default" means the bridge network the engine chose
            primary = next(iter(networks), primary)
        host_config["NetworkMode"] = primary
        config["HostConfig"] = host_config
        if primary in networks:
            config["NetworkingConfig"] = {"EndpointsConfig": {primary: _clean(networks[primary])}}
        return config

    def create(self, host: "Host"):
        """Create (not start) the twin under the original name, attached to every network."""
        api = host.docker.api
        config = self.creation_config()
        if _image_id(host, config.get("Image", "")) != self.attrs.get("Image"):
            config["Image"] = self.attrs["Image"]  # the tag moved on since: keep the exact image it ran
        created = api.create_container_from_config(config, name=self.name)
        primary = config["HostConfig"]["NetworkMode"]
        try:
            for network, endpoint in self.networks().items():
                if network != primary:
                    api.connect_container_to_network(created["Id"], network, aliases=endpoint["Aliases"],
                                                     links=endpoint["Links"])
        except Exception:
            api.remove_container(created["Id"], force=True)  # never leave a half-made twin behind
            raise
        return host.docker.containers.get(created["Id"])

    def settings(self) -> dict[str, str]:
        """What the twin will look like, in the comparable ``settings`` form."""
        return settings_of(self.attrs_after())

    def attrs_after(self) -> dict[str, Any]:
        """The inspect data the twin should show: mounts, networks and HostConfig changed."""
        twin = copy.deepcopy(self.attrs)
        twin["Mounts"] = [m for m in twin.get("Mounts") or [] if m.get("Destination") not in self.drop_mounts]
        twin.setdefault("NetworkSettings", {})["Networks"] = self.networks()
        twin.setdefault("HostConfig", {}).update(copy.deepcopy(self.host_config))
        return twin

    def docker_run(self) -> str:
        """The equivalent ``docker run`` (and ``docker network connect``) commands, secrets redacted."""
        config = self.creation_config()
        host_config = config["HostConfig"]
        argv = ["docker", "run", "-d", "--name", self.name, f"--network={host_config['NetworkMode']}"]
        restart = (host_config.get("RestartPolicy") or {}).get("Name")
        if restart and restart != "no":
            argv.append(f"--restart={restart}")
        for port, bindings in (host_config.get("PortBindings") or {}).items():
            for b in bindings or []:
                host_part = ":".join(p for p in (b.get("HostIp"), b.get("HostPort")) if p)
                argv.append(f"-p={host_part + ':' if host_part else ''}{port.removesuffix('/tcp')}")
        argv += [f"-v={bind}" for bind in host_config["Binds"]]
        image_env = set(self.image_config.get("Env") or [])
        image_labels = self.image_config.get("Labels") or {}
        env = [e.partition("=") for e in config.get("Env") or [] if e not in image_env]
        argv += [f"-e={k}={redact_value(k, v)}" for k, _, v in env]
        argv += [f"-l={k}={redact_value(k, v)}" for k, v in (config.get("Labels") or {}).items()
                 if image_labels.get(k) != v]
        argv += self.run_flags
        argv.append(config.get("Image", ""))
        program = " ".join([config.get("Image", ""), *(config.get("Entrypoint") or [])])
        argv += redact_argv(config.get("Cmd") or [], program)
        lines = [shlex.join(argv)]
        lines += [shlex.join(["docker", "network", "connect", net, self.name])
                  for net in self.networks() if net != host_config["NetworkMode"]]
        return "\n".join(lines)


def _bind_target(bind: str) -> str:
    parts = bind.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _clean(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in endpoint.items() if v}


def _image_id(host: "Host", reference: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return host.docker.images.get(reference).id
    except ImageNotFound:
        return None


def image_config(host: "Host", image: str) -> dict[str, Any]:
    """The Config an image gives its containers (empty when the image is gone)."""
    from docker.errors import ImageNotFound

    try:
        return host.docker.images.get(image).attrs.get("Config") or {}
    except ImageNotFound:
        return {}


def unnamed_volumes(attrs: dict[str, Any]) -> list[str]:
    """Volumes the image declares (not in Binds or Mounts), as binds by their volume name: a twin
    must reuse them, not get new empty ones, or a database would start with no data."""
    hc = attrs.get("HostConfig") or {}
    listed = {b.split(":")[1] for b in hc.get("Binds") or [] if ":" in b}
    listed |= {m.get("Target") for m in hc.get("Mounts") or []}
    return [f"{m['Name']}:{m['Destination']}" + ("" if m.get("RW", True) else ":ro")
            for m in attrs.get("Mounts") or []
            if m.get("Type") == "volume" and m.get("Name") and m.get("Destination") not in listed]
