"""The CIS Docker Benchmark runtime items hardstep can judge, with evidence and the step that
fixes each one. Container items (section 5) are read for every running container from the
engine's inspect data and, where the engine runs here, from the kernel's view of the
container's first process; daemon items (section 2) from the engine and a fresh container.

Expected exceptions pass as *accepted*, with the reason: the socket proxy mounts the Docker
socket (read-only), and coTURN runs on the host network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from app.shared.engine_facts import ICC, EngineFacts
from app.shared import inside as probes
from app.shared.container_security import DANGEROUS_CAPS, caps, view
from app.shared.socket_proxy import is_socket_proxy

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

Result = tuple[str, "bool | None", str, dict[str, Any]]  # (check, ok, detail, evidence)

TITLES = {
    "2.2": "icc off on the default bridge", "2.9": "user namespaces (userns-remap)",
    "2.14": "no-new-privileges by default", "2.15": "live-restore", "2.16": "userland proxy off",
    "2.17": "daemon-wide seccomp profile",
    "5.2": "AppArmor profile", "5.4": "no dangerous added capabilities", "5.5": "not privileged",
    "5.10": "not on the host network", "5.11": "memory limit", "5.12": "CPU limit",
    "5.13": "read-only root filesystem", "5.22": "seccomp not unconfined", "5.26": "no-new-privileges",
    "5.29": "PIDs limit", "5.32": "Docker socket not mounted",
}
FIXED_BY = {"2.2": "daemon", "2.9": "daemon (tick userns_remap)", "2.14": "daemon", "2.15": "daemon",
            "2.16": "daemon", "2.17": "daemon", "5.10": "none (move it to a user network by hand)"}


def _result(item: str, subject: str, ok: bool | None, detail: str, accepted: str | None = None,
            fixed_by: str = "sandbox", **evidence: Any) -> Result:
    fixed_by = FIXED_BY.get(item, fixed_by)
    name = f"{item} {TITLES[item]}" + (f": {subject}" if subject else "")
    if accepted:
        detail = f"accepted: {accepted} ({detail})"
    elif ok is False:
        detail += f"; fixed by: {fixed_by}"
    return name, ok, detail, {"item": item, "container": subject or None, "fixed_by": fixed_by,
                              **({"accepted": accepted} if accepted else {}), **evidence}


def container_items(host: "Host", container, config: "Config",
                    apparmor_missing: str | None) -> Iterator[Result]:
    attrs = container.attrs
    name = container.name
    hc = attrs.get("HostConfig") or {}
    shown = view(attrs)
    status = probes.process_status(host, container) or {}
    image = (attrs.get("Config") or {}).get("Image", "")

    profile = attrs.get("AppArmorProfile") or ""
    if apparmor_missing:
        yield _result("5.2", name, None, f"skipped: {apparmor_missing}")
    else:
        yield _result("5.2", name, profile not in ("", "unconfined"), f"profile {profile or 'none'}", profile=profile)
    bad = sorted(set(caps(hc.get("CapAdd"))) & DANGEROUS_CAPS)
    yield _result("5.4", name, not bad, f"added: {', '.join(bad) or shown['added capabilities']}", cap_add=bad)
    yield _result("5.5", name, not hc.get("Privileged"), f"privileged: {shown['privileged']}")
    host_net = hc.get("NetworkMode") == "host"
    coturn = host_net and name == config.turn.container
    yield _result("5.10", name, not host_net or coturn, f"network mode {hc.get('NetworkMode') or 'default'}",
                  accepted="coTURN relays media on many ports; Docker hangs on large published port ranges, "
                  "so host networking is the known-good way" if coturn else None)
    yield _result("5.11", name, bool(hc.get("Memory")), f"memory {shown['memory']}", memory=hc.get("Memory"))
    cpu = bool(hc.get("NanoCpus") or hc.get("CpuQuota", 0) > 0 or hc.get("CpuShares") not in (None, 0, 1024))
    yield _result("5.12", name, cpu, f"CPUs {shown['cpus']}, shares {hc.get('CpuShares') or 'default'}")
    yield _result("5.13", name, bool(hc.get("ReadonlyRootfs")), f"read-only root: {shown['read-only root']}")
    seccomp_ok = shown["seccomp"] != "unconfined" and not hc.get("Privileged") and status.get("Seccomp", "2") == "2"
    yield _result("5.22", name, seccomp_ok, f"{shown['seccomp']}" + (f"; Seccomp: {status['Seccomp']}" if status
                                                                       else ""), profile=shown["seccomp"])
    nnp = status["NoNewPrivs"] == "1" if "NoNewPrivs" in status else shown["no-new-privileges"] == "yes"
    yield _result("5.26", name, nnp, f"NoNewPrivs: {status['NoNewPrivs']}" if "NoNewPrivs" in status
                  else f"security option: {shown['no-new-privileges']}")
    yield _result("5.29", name, (hc.get("PidsLimit") or 0) > 0, f"PIDs limit {shown['pids limit']}")
    yield _socket_item(attrs, name, image, config)


def _socket_item(attrs: dict[str, Any], name: str, image: str, config: "Config") -> Result:
    mounts = [m for m in attrs.get("Mounts") or []
              if m.get("Source") == config.docker.socket or str(m.get("Destination", "")).endswith("docker.sock")]
    shown = ", ".join(f"{m.get('Source')}:{m.get('Destination')}{'' if m.get('RW', True) else ':ro'}" for m in mounts)
    if not mounts:
        return _result("5.32", name, True, "no Docker socket mounted")
    proxy = is_socket_proxy(name, image, config)
    if proxy and not any(m.get("RW", True) for m in mounts):
        return _result("5.32", name, True, shown, accepted="the socket proxy exists to hold the socket, read-only, "
                       "so nothing else needs it", mounts=shown)
    fixed_by = "socket-proxy (mount it :ro)" if proxy else (
        "traefik" if name == config.traefik.container else "socket-proxy (let it use the proxy)")
    return _result("5.32", name, False, f"mounts {shown}", fixed_by=fixed_by, mounts=shown)


def daemon_items(facts: EngineFacts) -> Iterator[Result]:
    icc = facts.bridge_options.get(ICC, "unset")
    yield _result("2.2", "", icc == "false", f"{ICC}={icc}")
    yield _result("2.9", "", facts.userns, ", ".join(facts.security_options) or "no security options")
    fresh = facts.fresh
    if fresh is None or fresh.error:
        why = f"no fresh container: {fresh.error if fresh else 'not started'}"
        yield _result("2.14", "", "name=no-new-privileges" in facts.security_options or False, why)
    else:
        nnp = fresh.status.get("NoNewPrivs", "?")
        yield _result("2.14", "", nnp == "1", f"a fresh container's NoNewPrivs: {nnp}")
    if facts.swarm:
        yield _result("2.15", "", None, "skipped: swarm mode, where live-restore does not work")
    else:
        live = bool(facts.info.get("LiveRestoreEnabled"))
        yield _result("2.15", "", live, f"LiveRestoreEnabled: {live}")
    proxies = fresh.userland_proxies if fresh and not fresh.error else None
    if proxies is None:
        yield _result("2.16", "", None, "skipped: no fresh container, or the engine's processes are not here")
    else:
        yield _result("2.16", "", not proxies, proxies[0] if proxies else "a published port started no docker-proxy")
    profile = facts.seccomp_profile()
    yield _result("2.17", "", profile not in (None, "default", "unconfined"),
                  f"seccomp profile: {profile or 'none'}" + (" (the engine's own)" if profile == "default" else ""))
