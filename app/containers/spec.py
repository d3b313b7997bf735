"""Containers as hardstep wants them (``ContainerSpec``) and as the engine has them (``settings_of``).

Both sides reduce to the same flat, comparable ``settings`` mapping, so a plan can show exactly
which settings change and a re-run can see that nothing needs to.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from app.redact import redact_argv, redact_value

if TYPE_CHECKING:
    from app.host.base import Host

MANAGED_LABEL = "io.hardstep.managed-by"


class Blueprint(Protocol):
    """A container to be created: a ``ContainerSpec`` from scratch or a ``recreate.Twin``."""

    name: str

    def create(self, host: "Host"): ...

    def docker_run(self) -> str: ...
STEP_LABEL = "io.hardstep.step"


@dataclass
class ContainerSpec:
    name: str
    image: str
    network: str
    environment: dict[str, str] = field(default_factory=dict)
    binds: list[str] = field(default_factory=list)  # "host:container[:ro]"
    restart: str = "unless-stopped"
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    tmpfs: dict[str, str] = field(default_factory=dict)
    privileged: bool = False
    read_only: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None

    def create(self, host: "Host"):
        """Create (not start) the container."""
        return host.docker.containers.create(**self.create_kwargs())

    def create_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "image": self.image,
            "name": self.name,
            "environment": dict(self.environment),
            "network": self.network,
            "volumes": list(self.binds),
            "restart_policy": {"Name": self.restart} if self.restart else None,
            "cap_drop": list(self.cap_drop) or None,
            "security_opt": list(self.security_opt) or None,
            "tmpfs": dict(self.tmpfs) or None,
            "privileged": self.privileged,
            "read_only": self.read_only,
            "labels": dict(self.labels),
        }
        if self.command is not None:
            kwargs["command"] = list(self.command)
        return kwargs

    def docker_run(self) -> str:
        """The equivalent ``docker run`` command line, secrets redacted."""
        argv = ["docker", "run", "-d", "--name", self.name, f"--network={self.network}"]
        if self.restart:
            argv.append(f"--restart={self.restart}")
        if self.privileged:
            argv.append("--privileged")
        if self.read_only:
            argv.append("--read-only")
        argv += [f"--cap-drop={cap}" for cap in self.cap_drop]
        argv += [f"--security-opt={opt}" for opt in self.security_opt]
        argv += [f"--tmpfs={path}" + (f":{opts}" if opts else "") for path, opts in self.tmpfs.items()]
        argv += [f"-v={bind}" for bind in self.binds]
        argv += [f"-e={key}={redact_value(key, value)}" for key, value in self.environment.items()]
        argv += [f"-l={key}={redact_value(key, value)}" for key, value in self.labels.items()]
        argv.append(self.image)
        argv += redact_argv(self.command or [], self.image)
        return shlex.join(argv)

    def settings(self) -> dict[str, str]:
        wanted = {
            "image": self.image,
            "networks": self.network,
            "published ports": "(none)",
            "mounts": _join(_normal_bind(b) for b in self.binds),
            "restart policy": self.restart or "no",
            "privileged": _flag(self.privileged),
            "read-only root": _flag(self.read_only),
            "dropped capabilities": _join(self.cap_drop),
            "security options": _join(self.security_opt),
            "tmpfs": _join(self.tmpfs),
        }
        for key, value in self.environment.items():
            wanted[f"env {key}"] = redact_value(key, value)
        return wanted


def settings_of(attrs: dict[str, Any]) -> dict[str, str]:
    """The ``settings`` view of an inspected container (``container.attrs``)."""
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    ports = host.get("PortBindings") or {}
    published = sorted(
        f"{(b or {}).get('HostIp') or '0.0.0.0'}:{(b or {}).get('HostPort')}->{port}"
        for port, bindings in ports.items() for b in (bindings or [])
    )
    mounts = [
        f"{m.get('Source')}:{m.get('Destination')}" + ("" if m.get("RW", True) else ":ro")
        for m in attrs.get("Mounts") or [] if m.get("Type") == "bind"
    ]
    current = {
        "image": config.get("Image", ""),
        "networks": _join(networks),
        "published ports": _join(published) if published else "(none)",
        "mounts": _join(mounts),
        "restart policy": (host.get("RestartPolicy") or {}).get("Name") or "no",
        "privileged": _flag(bool(host.get("Privileged"))),
        "read-only root": _flag(bool(host.get("ReadonlyRootfs"))),
        "dropped capabilities": _join(host.get("CapDrop") or []),
        "security options": _join(host.get("SecurityOpt") or []),
        "tmpfs": _join(host.get("Tmpfs") or {}),
    }
    for item in config.get("Env") or []:
        key, _, value = item.partition("=")
        current[f"env {key}"] = redact_value(key, value)
    return current


def settings_diff(current: dict[str, str], wanted: dict[str, str]) -> list[tuple[str, str, str]]:
    """(setting, current, wanted) for every wanted setting the container does not have."""
    return [(key, current.get(key, "(unset)"), value) for key, value in wanted.items()
            if current.get(key, "(unset)") != value]


def render_settings_diff(name: str, changes: list[tuple[str, str, str]]) -> str:
    lines = [f"--- container {name} (now)", f"+++ container {name} (after)"]
    for key, old, new in changes:
        lines += [f"-{key}: {old}", f"+{key}: {new}"]
    return "\n".join(lines) + "\n"


def _normal_bind(bind: str) -> str:
    parts = bind.split(":")
    if len(parts) == 3 and parts[2] == "rw":
        parts = parts[:2]
    return ":".join(parts)


def _join(items: Any) -> str:
    values = sorted(str(item) for item in items)
    return ", ".join(values) if values else "(none)"


def _flag(value: bool) -> str:
    return "yes" if value else "no"
