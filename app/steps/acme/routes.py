"""The acme container's Traefik labels: the TLS-passthrough TCP router for the TURN domain, plus,
when renewals use HTTP-01, an HTTP router for its ``/.well-known/acme-challenge/`` path on the web
entrypoint. The entrypoints are the ones ``traefik.toml`` declares."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.config.validate import is_hostname
from app.errors import HardstepError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

TRAEFIK_NAME = re.compile(r"[A-Za-z0-9_-]{1,63}")
HTTP01_PORT = 80  # where acme.sh --standalone answers HTTP-01 inside the acme container


def router_name(config: "Config") -> str:
    name = config.acme.container.replace(".", "-")  # a dot would split the label key
    if not TRAEFIK_NAME.fullmatch(name + "-http01"):
        raise HardstepError(f"[acme] container {config.acme.container!r} cannot name a Traefik router")
    return name


def traefik_toml(host: "Host", config: "Config") -> dict:
    """traefik.toml as plain data; empty when it is missing or not TOML (the traefik step says why)."""
    from app.editors.toml_text import parse

    text = host.read_text(config.traefik.config) if host is not None else None
    try:
        return parse(text, config.traefik.config).unwrap() if text else {}
    except HardstepError:
        return {}


def entrypoint(toml: dict, port: str = "443", default: str = "websecure") -> str:
    """The entrypoint of ``toml`` (traefik.toml read by ``traefik_toml``) listening on ``:port``;
    the reference's name otherwise."""
    for name, point in (toml.get("entryPoints") or {}).items():
        if str((point or {}).get("address", "")).endswith(f":{port}") and TRAEFIK_NAME.fullmatch(name):
            return name
    return default


def traefik_labels(host: "Host", config: "Config", mode: str = "alpn") -> dict[str, str]:
    domain = config.turn.domain
    if not is_hostname(domain):  # validated again here: it goes between backticks in a rule
        raise HardstepError(f"[turn] domain {domain!r} is not a host name; refusing to put it in a label")
    router, toml = router_name(config), traefik_toml(host, config)
    labels = {
        "traefik.enable": "true",
        # Traefik reaches acme on the private network (its providers.docker.network is the web one).
        "traefik.docker.network": config.docker.private_network,
        f"traefik.tcp.routers.{router}.rule": f"HostSNI(`{domain}`)",
        f"traefik.tcp.routers.{router}.entrypoints": entrypoint(toml),
        f"traefik.tcp.routers.{router}.service": router,
        f"traefik.tcp.routers.{router}.tls.passthrough": "true",
        f"traefik.tcp.services.{router}.loadbalancer.server.port": "443",
    }
    if mode == "http":
        http = f"{router}-http01"
        labels |= {
            f"traefik.http.routers.{http}.rule": f"Host(`{domain}`) && PathPrefix(`/.well-known/acme-challenge/`)",
            f"traefik.http.routers.{http}.entrypoints": entrypoint(toml, "80", "web"),
            f"traefik.http.routers.{http}.service": http,
            f"traefik.http.services.{http}.loadbalancer.server.port": str(HTTP01_PORT),
        }
    return labels
