"""The Docker socket proxy as hardstep runs it (Tecnativa's docker-socket-proxy): its container
spec, the switches it must not have on, and the probe of its allow/deny answers. The socket-proxy
step runs Traefik's proxy with these; the acme step runs its own narrow one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers.actions import hardstep_labels
from app.containers.probe import Probe, ProbeImageMissing
from app.containers.spec import ContainerSpec, settings_diff, settings_of

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.local import Host

# Every other switch the proxy knows, the newer haproxy.cfg.template's (after upstream issue #182)
# included; any of them on widens what a compromised Traefik can do.
SWITCHES = ("AUTH SECRETS POST BUILD COMMIT CONFIGS ALLOW_START ALLOW_STOP ALLOW_RESTARTS DISTRIBUTION "
            "EXEC GRPC IMAGES INFO NETWORKS NODES PLUGINS SERVICES SESSION SWARM SYSTEM TASKS VOLUMES "
            "ALLOW_EXEC ALLOW_KILL ALLOW_ATTACH ALLOW_ARCHIVE ALLOW_EXPORT ALLOW_LOGS ALLOW_PAUSE ALLOW_UNPAUSE "
            "DELETE PUT PATCH").split()
# The endpoints through which CONTAINERS=1 alone reads any container's files on images from before
# upstream's fix of docker-socket-proxy issue #182, each with the switch that gates it after it.
FILE_READS = {"archive": ("/containers/{id}/archive?path=/etc/passwd", "ALLOW_ARCHIVE"),
              "export": ("/containers/{id}/export", "ALLOW_EXPORT")}


@dataclass(frozen=True)
class Ask:
    """One request of a proxy check: ``path`` (``{id}``: the probe container's own id), the status
    expected, what another answer means, and ``peek`` for a body that would be files."""

    path: str
    expected: int
    meaning: str = ""
    peek: bool = False

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
    return settings_diff(settings_of(attrs), spec.settings()) + [
        (f"env {switch}", value, "0 (image default)") for switch, value in switches_on(attrs, spec).items()]


def switches_on(attrs: dict, spec: ContainerSpec) -> dict[str, str]:
    """The switches a running proxy has on that ``spec`` leaves off, with their values."""
    env = dict(item.partition("=")[::2] for item in (attrs.get("Config") or {}).get("Env") or [])
    # Read raw: "SECRETS=0" names an API section, it is not a secret.
    return {s: env[s] for s in SWITCHES if s not in spec.environment and _on(env.get(s, "0"))}


def file_read_asks(on: dict[str, str], image: str) -> list[Ask]:
    """Asks that the proxy refuses to hand out container files; ``on``: the switches left on."""
    asks = []
    for what, (path, switch) in FILE_READS.items():
        meaning = (f"{switch}={on[switch]} is on, so whoever takes over Traefik reads every container's files; "
                   "apply socket-proxy to turn it off") if switch in on else (
            f"{image} predates {switch} (docker-socket-proxy issue #182): CONTAINERS=1 alone lets whoever takes "
            f"over Traefik read every container's files through /{what}. Set [docker] socket_proxy_image to an "
            f"image from after upstream's fix (its haproxy.cfg.template denies /{what} unless {switch}=1), "
            "then apply socket-proxy again")
        asks.append(Ask(path, 403, meaning, peek=True))
    return asks



def proxy_checks(step, host: "Host", config, expectations: list[Ask | tuple[str, int]], label: str) -> list:
    """One check per ``Ask`` (or (path, expected status)), asked of the socket proxy from the private
    network through a single probe container. ``label`` names each check, e.g.
    ``"GET {path} -> {expected}"``."""
    docker = config.docker
    base = f"http://{docker.socket_proxy_container}:2375"
    asks = [ask if isinstance(ask, Ask) else Ask(*ask) for ask in expectations]
    names = [label.format(path=ask.path, expected=ask.expected) for ask in asks]
    try:
        with Probe(host, docker.probe_image, docker.private_network) as probe:
            results = [(probe.peek if ask.peek else probe.settled)(base + ask.path.format(id=probe.id))
                       for ask in asks]
    except ProbeImageMissing as exc:
        return [step.check(name, False, f"{exc}; apply the socket-proxy step, which pulls it") for name in names]
    checks = []
    for name, ask, result in zip(names, asks, results):
        if result.status == ask.expected:
            detail = f"answered {result.status} from {docker.private_network}"
        elif result.status is None:
            detail = f"no HTTP answer from {base}{ask.path} ({result.evidence})"
        else:
            detail = f"answered {result.status}, expected {ask.expected}" + (
                f": {ask.meaning}" if ask.meaning else ": the proxy lets this through" if ask.expected == 403 else "")
        checks.append(step.check(name, result.status == ask.expected, detail, url=base + ask.path,
                                 status=result.status, expected=ask.expected))
    return checks


def _on(value: str) -> bool:
    """docker-socket-proxy switches are HAProxy ``-m bool``: anything but empty or 0 is on."""
    return value.strip() not in ("", "0")



def is_socket_proxy(name: str, image: str, config: "Config") -> bool:
    """A socket proxy: one of the two hardstep runs (Traefik's, the acme container's narrow one), by
    name whatever its image, or any container of Tecnativa's image."""
    return (name in (config.docker.socket_proxy_container, config.acme.proxy_container)
            or "docker-socket-proxy" in image.lower())
