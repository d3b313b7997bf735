"""What a sandboxed container looks like, per role, and the settings view plans and checks compare.

The numbers come from the sandbox reference (tmpfs /tmp 64m and /run 32m ``rw,noexec,nosuid``,
PIDs 50, memory 256m with swap equal, 1 CPU, NET_ADMIN/NET_BIND_SERVICE/NET_RAW dropped,
no-new-privileges, a seccomp profile); the settings make them editable. Roles adjust them:
a database or Synapse gets more memory and must keep its data on a volume; the socket proxy
keeps the settings its own step gives it and only gets the limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.containers.keep import DATABASES
from app.shared import seccomp
from app.shared.container_security import DANGEROUS_CAPS, caps
from app.shared.socket_proxy import is_socket_proxy
from app.config.units import format_size, parse_size

if TYPE_CHECKING:
    from app.config.settings import Config

DROP_CAPS = ("NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW")
TMPFS_OPTIONS = "rw,noexec,nosuid"
LIVE_KEYS = ("memory", "memory+swap", "cpus", "pids limit")
LIVE_FIELDS = ("Memory", "MemorySwap", "NanoCpus", "PidsLimit")


@dataclass(frozen=True)
class Role:
    name: str
    why: str
    data_paths: tuple[str, ...] = ()
    limits_only: bool = False
    keep_caps: tuple[str, ...] = ()


@dataclass
class Sandbox:
    """The sandbox one container should have."""

    role: Role
    memory: int
    cpus: float
    pids: int
    read_only: bool
    tmpfs: dict[str, str]
    drop: tuple[str, ...]
    apparmor: str | None = None
    isolate_on: str | None = None  # the restricted network, for containers that need no peers
    notes: list[str] = field(default_factory=list)


def name_of(attrs: dict[str, Any]) -> str:
    return attrs["Name"].lstrip("/")


def role_of(attrs: dict[str, Any], config: "Config") -> Role:
    name, image = name_of(attrs), (attrs.get("Config") or {}).get("Image", "").lower()
    text = f"{name.lower()} {image}"
    if is_socket_proxy(name, image, config):
        return Role("socket-proxy", "the socket proxy keeps its socket and the settings its own step gives "
                    "it; the sandbox only adds the limits", limits_only=True)
    if DATABASES.search(text):
        return Role("database", "a database: more memory, and its data must stay on a writable volume",
                    data_paths=(_database_path(attrs, text),))
    if "synapse" in text:
        return Role("synapse", "Synapse: more memory, and /data must stay on a writable volume", data_paths=("/data",))
    if (attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
        return Role("host-network", "on the host network: keeps NET_BIND_SERVICE, which low ports need there",
                    keep_caps=("NET_BIND_SERVICE",))
    return Role("service", "the standard sandbox")


def _database_path(attrs: dict[str, Any], text: str) -> str:
    env = dict(e.partition("=")[::2] for e in (attrs.get("Config") or {}).get("Env") or [])
    if "postgres" in text or "postgis" in text:
        return env.get("PGDATA") or "/var/lib/postgresql/data"
    if "mariadb" in text or "mysql" in text:
        return "/var/lib/mysql"
    return "/data/db" if "mongo" in text else "/data"


def on_volume(attrs: dict[str, Any], path: str) -> bool:
    return any(path == m.get("Destination") or path.startswith(m.get("Destination", "").rstrip("/") + "/")
               for m in attrs.get("Mounts") or [] if m.get("RW", True))


def sandbox_for(attrs: dict[str, Any], config: "Config", apparmor: str | None = None) -> Sandbox:
    """The role-aware sandbox for one inspected container."""
    s = config.sandbox
    role = role_of(attrs, config)
    big = role.name in ("database", "synapse")
    box = Sandbox(role, parse_size(s.data_memory if big else s.memory) or 0, s.cpus, s.pids_limit,
                  read_only=True, drop=tuple(c for c in DROP_CAPS if c not in role.keep_caps),
                  tmpfs={"/tmp": f"{TMPFS_OPTIONS},size={s.tmp_size}", "/run": f"{TMPFS_OPTIONS},size={s.run_size}"},
                  apparmor=None if role.limits_only else apparmor)
    for path in role.data_paths:
        if not on_volume(attrs, path):
            box.read_only = False
            box.notes.append(f"{name_of(attrs)}: its data at {path} is not on a volume, so its root stays "
                             "writable (a read-only root would make it fail); put the data on a volume first")
    taken = {m.get("Destination") for m in attrs.get("Mounts") or []}
    for path in [p for p in box.tmpfs if p in taken]:
        del box.tmpfs[path]
        box.notes.append(f"{name_of(attrs)}: {path} is a mount already, so it gets no tmpfs")
    host_network = (attrs.get("HostConfig") or {}).get("NetworkMode") == "host"
    if name_of(attrs) in s.isolated and not role.limits_only:
        if host_network:
            box.notes.append(f"{name_of(attrs)}: on the host network, it cannot move to {s.restricted_network}")
        else:
            box.isolate_on = s.restricted_network
    return box


def overrides(attrs: dict[str, Any], box: Sandbox) -> dict[str, Any]:
    """The HostConfig keys the sandboxed twin gets (limits only for ``limits_only`` roles)."""
    hc = attrs.get("HostConfig") or {}
    result: dict[str, Any] = {"Memory": box.memory, "MemorySwap": box.memory, "NanoCpus": int(box.cpus * 1e9),
                              "CpuQuota": 0, "CpuPeriod": 0, "PidsLimit": box.pids}
    if box.role.limits_only:
        return result
    dropped = caps(hc.get("CapDrop"))
    tmpfs = dict(hc.get("Tmpfs") or {})
    tmpfs.update(box.tmpfs)
    options = [o for o in hc.get("SecurityOpt") or []
               if seccomp.option_name(o) not in ("seccomp", "no-new-privileges", "apparmor")
               or (seccomp.option_name(o) == "apparmor" and not box.apparmor)]
    options += ["no-new-privileges", seccomp.security_opt()] + ([f"apparmor={box.apparmor}"] if box.apparmor else [])
    result.update({
        "ReadonlyRootfs": box.read_only or bool(hc.get("ReadonlyRootfs")),
        "Tmpfs": tmpfs,
        "CapDrop": dropped if "ALL" in dropped else sorted(set(dropped) | set(box.drop)),
        "CapAdd": [c for c in caps(hc.get("CapAdd")) if c not in DANGEROUS_CAPS and c not in box.drop] or None,
        "Privileged": False,
        "SecurityOpt": options,  # unnamed volumes: the twin keeps them (app.containers.recreate)
    })
    return result


def run_flags(box: Sandbox, profile_path: str = "hardstep.json") -> list[str]:
    """The ``docker run`` flags that give a container this sandbox (for display)."""
    flags = [f"--memory={format_size(box.memory)}", f"--memory-swap={format_size(box.memory)}",
             f"--cpus={box.cpus:g}", f"--pids-limit={box.pids}"]
    if box.role.limits_only:
        return flags
    flags += ["--read-only"] if box.read_only else []
    flags += [f"--tmpfs={path}:{opts}" for path, opts in box.tmpfs.items()]
    flags += [f"--cap-drop={cap}" for cap in box.drop]
    flags += ["--security-opt=no-new-privileges", f"--security-opt=seccomp={profile_path}"]
    flags += [f"--security-opt=apparmor={box.apparmor}"] if box.apparmor else []
    return flags
