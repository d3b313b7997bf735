"""What the steps know about Traefik v2/v3: the provider settings hardstep wants, which images work
with which Docker engine, and the checks that Traefik reaches Docker only through the socket proxy.
The traefik step applies and checks these; the burmilla step checks them after an OS upgrade."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.containers.actions import find_container
from app.editors.toml_text import parse
from app.engine.model import CheckResult
from app.errors import HardstepError
from app.shared.socket_proxy import proxy_checks

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.local import Host

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


def traefik_checks(step, host: "Host", config: "Config") -> list[CheckResult]:
    """Traefik reaches Docker only through the proxy: the traefik step's checks, which the burmilla
    step runs too after an OS upgrade (a newer engine can break an old Traefik)."""
    results = [_file_check(step, host, config)]
    container = find_container(host, config.traefik.container)
    if container is None:
        return results + [step.check("container exists", False, f"no container named {config.traefik.container}")]
    mounts = [f"{m.get('Source')}:{m.get('Destination')}" for m in container.attrs.get("Mounts") or []
              if m.get("Source") == config.docker.socket or m.get("Destination", "").endswith("docker.sock")]
    networks = list((container.attrs.get("NetworkSettings") or {}).get("Networks") or {})
    private = config.docker.private_network
    results += [
        step.check("no docker.sock mount", not mounts, f"mounts {', '.join(mounts)}" if mounts
                   else "no Docker socket mounted", mounts=mounts),
        step.check(f"on the {private} network", private in networks, f"attached to {', '.join(networks)}",
                   networks=networks),
        compatibility_check(step, host, container.attrs["Config"]["Image"]),
    ]
    results += proxy_checks(step, host, config, [("/version", 200), ("/containers/json", 200)],
                            "proxy answers GET {path}")
    return results + [_route_check(step, config)]


def compatibility_check(step, host: "Host", image: str) -> CheckResult:
    name = "image works with this engine"
    engine = host.docker_version()
    broken = engine_breaks_traefik(engine, image)
    if broken:
        return step.check(name, False, broken, image=image, engine=engine)
    if traefik_version(image) is None:
        return step.check(name, None, f"skipped: {image} names no version to compare", image=image)
    return step.check(name, True, f"{image} works with Docker {engine}", image=image, engine=engine)


def _file_check(step, host: "Host", config: "Config") -> CheckResult:
    path = config.traefik.config
    text = host.read_text(path)
    if text is None:
        return step.check("config points at the proxy", False, f"{path} does not exist")
    try:
        table = parse(text, path).unwrap().get("providers", {}).get("docker", {})
    except HardstepError as exc:
        return step.check("config points at the proxy", False, str(exc))
    wrong = {k: table.get(k, "(unset)") for k, v in wanted_settings(config).items() if table.get(k) != v}
    detail = ", ".join(f"{k} = {v!r}" for k, v in wrong.items())
    return step.check("config points at the proxy", not wrong,
                      f"wrong: {detail}" if wrong else "endpoint, exposedByDefault and network are set",
                      wrong=wrong)


def _route_check(step, config: "Config") -> CheckResult:
    from app.net import http

    url = config.synapse.url.rstrip("/") + "/_matrix/client/versions"
    answer = http.get_settled(url, timeout=5, follow_redirects=True)  # Traefik may just have restarted
    status = answer.status
    if status is None and answer.failure == "CaFileError":  # a setting to fix, not a host out of reach
        return step.check("route through Traefik answers", False, f"{url} not probed: {answer.message}", url=url)
    if status is None:
        return step.check("route through Traefik answers", None,
                          f"skipped: {url} is not reachable from here ({answer.failure})", url=url)
    return step.check("route through Traefik answers", status == 200, f"GET {url} -> {status}",
                      url=url, status=status)
