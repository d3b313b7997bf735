"""What the running engine really does, from the engine itself and from a fresh container.

``docker info`` shows live-restore, userns and the seccomp profile; the default bridge shows its
icc option. Docker 20.10 does not list no-new-privileges in ``info`` even when it enforces it, so
the proof is a fresh container: its ``/proc/self/status`` says ``NoNewPrivs: 1``; ``ping`` with
the default capabilities (NET_RAW included) fails when hardstep's seccomp profile is the
default; and with the userland proxy on, publishing a port starts a ``docker-proxy`` process.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.containers.spec import MANAGED_LABEL, STEP_LABEL

if TYPE_CHECKING:
    from app.host.base import Host

ICC = "com.docker.network.bridge.enable_icc"
_PROBE_PORT = "8080/tcp"
_PROBE_SCRIPT = ("grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; "
                 "ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo RAW=open || echo RAW=blocked; "
                 "echo READY; exec sleep 60")


@dataclass
class FreshContainer:
    """What a container started now with no options of its own gets from the daemon."""

    status: dict[str, str] = field(default_factory=dict)  # NoNewPrivs, Seccomp
    raw_socket: bool | None = None  # ping with the default capabilities worked
    userland_proxies: list[str] | None = None  # docker-proxy processes for its port; None: not visible
    log_config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class EngineFacts:
    info: dict[str, Any]
    bridge_options: dict[str, str]
    fresh: FreshContainer | None = None

    @property
    def swarm(self) -> bool:
        return (self.info.get("Swarm") or {}).get("LocalNodeState") in ("active", "pending", "locked")

    @property
    def security_options(self) -> list[str]:
        return list(self.info.get("SecurityOptions") or [])

    def seccomp_profile(self) -> str | None:
        """``default``, a profile path, or None when seccomp is off."""
        for option in self.security_options:
            match = re.match(r"name=seccomp,profile=(.*)", option)
            if match:
                return match[1]
        return None

    @property
    def userns(self) -> bool:
        return any(o.startswith("name=userns") for o in self.security_options)


def gather(host: "Host", probe_image: str | None = None) -> EngineFacts:
    """The engine's facts; with ``probe_image``, also start (and remove) a fresh container."""
    client = host.docker
    bridge = next((n for n in client.networks.list(names=["bridge"]) if n.name == "bridge"), None)
    options = (bridge.attrs.get("Options") or {}) if bridge is not None else {}
    facts = EngineFacts(client.info(), options)
    if probe_image:
        facts.fresh = fresh_container(host, probe_image)
    return facts


def fresh_container(host: "Host", image: str, wait: float = 15) -> FreshContainer:
    from docker.errors import APIError, ImageNotFound

    client = host.docker
    try:
        container = client.containers.run(
            image, ["sh", "-c", _PROBE_SCRIPT], detach=True, ports={_PROBE_PORT: ("127.0.0.1", None)},
            labels={MANAGED_LABEL: "hardstep", STEP_LABEL: "probe"})
    except ImageNotFound:
        return FreshContainer(error=f"the probe image {image} is not on this host; pull it ([docker] probe_image)")
    except APIError as exc:
        return FreshContainer(error=f"the probe container did not start: {exc.explanation or exc}")
    try:
        deadline = time.monotonic() + wait
        output = ""
        while "READY" not in output and time.monotonic() < deadline:
            time.sleep(0.2)
            output = container.logs().decode("utf-8", "replace")
        container.reload()
        found = FreshContainer(log_config=(container.attrs.get("HostConfig") or {}).get("LogConfig") or {})
        found.status = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in output.splitlines())
                        if k in ("NoNewPrivs", "Seccomp")}
        found.raw_socket = None if "RAW=" not in output else "RAW=open" in output
        if "READY" not in output:
            found.error = f"the probe container said nothing within {wait:.0f}s"
        found.userland_proxies = _proxies_for(host, container.attrs) if host.engine_processes_visible() else None
        return found
    finally:
        container.remove(force=True)


def _proxies_for(host: "Host", attrs: dict[str, Any]) -> list[str]:
    """docker-proxy processes forwarding the probe's published port (a read-only look at them)."""
    settings = attrs.get("NetworkSettings") or {}
    binding = ((settings.get("Ports") or {}).get(_PROBE_PORT) or [{}])[0]
    wanted = {"-host-port": binding.get("HostPort"), "-container-ip": settings.get("IPAddress"),
              "-container-port": _PROBE_PORT.split("/")[0]}
    found = []
    for pid in host.process_ids():
        argv = host.process_argv(pid)
        if not argv or not argv[0].endswith("docker-proxy"):
            continue
        given = dict(zip(argv[1::2], argv[2::2]))
        if all(given.get(k) == v for k, v in wanted.items()):
            found.append(f"pid {pid}: {' '.join(argv).strip()}")
    return found


def dockerd_flags(host: "Host", pidfile: str) -> list[str] | None:
    """The running dockerd's command-line arguments (its pidfile names it); None when unknown."""
    pid = host.pid_from_file(pidfile)
    if pid is None or host.process_name(pid) != "dockerd":
        return None
    argv = host.process_argv(pid)
    return argv[1:] if argv is not None else None


def flag_keys(argv: list[str]) -> set[str]:
    """daemon.json keys a dockerd command line sets: dockerd refuses to start when a key is set both
    as a flag and in the file (``--log-opt`` is the file's ``log-opts``)."""
    keys = set()
    for word in argv:
        if word.startswith("--"):
            name = word[2:].split("=", 1)[0]
            keys.add({"log-opt": "log-opts", "host": "hosts"}.get(name, name))
    return keys
