"""The Docker socket proxy as hardstep runs it (Tecnativa's docker-socket-proxy): its container
spec, the switches it must not have on, and the probe of its allow/deny answers. The socket-proxy
step runs Traefik's proxy with these; the acme step runs its own narrow one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.containers.actions import hardstep_labels
from app.containers.probe import Probe, ProbeImageMissing
from app.containers.spec import ContainerSpec, settings_diff, settings_of

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.local import Host

# The only API sections this proxy opens: the image's defaults plus CONTAINERS.
ALLOWED = {"EVENTS", "PING", "VERSION", "CONTAINERS"}
# Every other switch the proxy knows; any of them on widens what a compromised Traefik can do.
SWITCHES = ("AUTH SECRETS POST BUILD COMMIT CONFIGS ALLOW_START ALLOW_STOP ALLOW_RESTARTS DISTRIBUTION "
            "EXEC GRPC IMAGES INFO NETWORKS NODES PLUGINS SERVICES SESSION SWARM SYSTEM TASKS VOLUMES").split()

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


def proxy_changes(attrs: dict, spec: ContainerSpec) -> list[tuple[str, str, str]]:
    """What differs between a running proxy and ``spec``, switches left on by hand included."""
    changes = settings_diff(settings_of(attrs), spec.settings())
    env = dict(item.partition("=")[::2] for item in (attrs.get("Config") or {}).get("Env") or [])
    for switch in SWITCHES:  # read raw: "SECRETS=0" names an API section, it is not a secret
        if switch not in spec.environment and _on(env.get(switch, "0")):
            changes.append((f"env {switch}", env[switch], "0 (image default)"))
    return changes



def proxy_checks(step, host: "Host", config, expectations: list[tuple[str, int]], label: str) -> list:
    """One check per (path, expected status), asked of the socket proxy from the private network
    through a single probe container. ``label`` names each check, e.g. ``"GET {path} -> {expected}"``."""
    docker = config.docker
    base = f"http://{docker.socket_proxy_container}:2375"
    names = [label.format(path=path, expected=expected) for path, expected in expectations]
    try:
        with Probe(host, docker.probe_image, docker.private_network) as probe:
            results = [probe.settled(base + path) for path, _ in expectations]
    except ProbeImageMissing as exc:
        return [step.check(name, False, f"{exc}; apply the socket-proxy step, which pulls it") for name in names]
    checks = []
    for name, (path, expected), result in zip(names, expectations, results):
        if result.status == expected:
            detail = f"answered {result.status} from {docker.private_network}"
        elif result.status is None:
            detail = f"no HTTP answer from {base}{path} ({result.evidence})"
        else:
            detail = f"answered {result.status}, expected {expected}" + (
                ": the proxy lets this through" if expected == 403 else "")
        checks.append(step.check(name, result.status == expected, detail, url=base + path,
                                 status=result.status, expected=expected))
    return checks


def _on(value: str) -> bool:
    """docker-socket-proxy switches are HAProxy ``-m bool``: anything but empty or 0 is on."""
    return value.strip() not in ("", "0")



def is_socket_proxy(name: str, image: str, config: "Config") -> bool:
    """A socket proxy: one of the two hardstep runs (Traefik's, the acme container's narrow one), by
    name whatever its image, or any container of Tecnativa's image."""
    return (name in (config.docker.socket_proxy_container, config.acme.proxy_container)
            or "docker-socket-proxy" in image.lower())
