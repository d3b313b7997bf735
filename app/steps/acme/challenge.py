"""How the acme container's certificate challenge gets past Traefik.

A Traefik with a ``tlsChallenge`` certificate resolver answers every TLS connection offering ALPN
``acme-tls/1`` itself, passthrough router or not (FACTS, "ACME through passthrough"), so the CA's
TLS-ALPN-01 validation for the TURN domain never reaches acme.sh. From Traefik 3.1.3 on,
``allowACMEByPass = true`` on the TLS entrypoint lets it through; older versions refuse that key
and do not start, so there renewals use HTTP-01 through an HTTP router on the web entrypoint.
Traefik 3.0.4 takes every ``acme-tls/1`` connection even WITHOUT any tlsChallenge resolver (seen
here; 3.7.15 passes them through then), so before 3.1.3 HTTP-01 is chosen whatever traefik.toml says.

The running version comes from the Traefik container's image tag (``traefik_version``), or, when
the tag names none (``latest``), from ``traefik version`` run inside the container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers.actions import ReplaceContainer, find_container
from app.containers.commands import ask
from app.containers.recreate import Twin, image_config
from app.editors.toml_text import set_keys
from app.engine.actions import Action, EditFile
from app.shared.traefik import traefik_version
from app.steps.acme.routes import entrypoint, traefik_toml

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

BYPASS_SINCE = (3, 1, 3)  # the first Traefik that knows allowACMEByPass (3.0.4 refuses it)


@dataclass(frozen=True)
class Challenge:
    mode: str  # "alpn" (TLS-ALPN-01 through the passthrough) or "http" (HTTP-01 on the web entrypoint)
    resolvers: tuple[str, ...]  # Traefik's certificate resolvers with a tlsChallenge
    version: tuple[int, int, int] | None
    version_source: str  # "image tag x", "traefik version", or why it is unknown
    entrypoint: str  # the TLS entrypoint of the passthrough router
    bypass: bool  # allowACMEByPass = true is already on that entrypoint

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "of unknown version"

    def fix(self, path: str) -> str:
        """What the step does about Traefik taking the challenge (said by the checks and notes)."""
        if self.mode == "alpn" and not self.resolvers:
            return ""
        if self.mode == "alpn":
            return (f"the acme step sets allowACMEByPass = true on [entryPoints.{self.entrypoint}] in {path} "
                    f"(Traefik {self.version_text} knows it; from 3.1.3 on) and recreates Traefik so it reads it")
        return (f"Traefik {self.version_text} ({self.version_source}) does not know allowACMEByPass (3.1.3 and "
                "later; older versions refuse the key and do not start, and take acme-tls/1 even without a "
                "resolver), so the acme step renews with HTTP-01 "
                "instead: an HTTP router for /.well-known/acme-challenge/ on the web entrypoint to acme.sh "
                "--standalone in the acme container")


def tls_resolvers(toml: dict) -> tuple[str, ...]:
    resolvers = toml.get("certificatesResolvers") or {}
    return tuple(name for name, table in resolvers.items()
                 if isinstance(table, dict) and "tlsChallenge" in (table.get("acme") or {}))


def running_version(host: "Host", config: "Config") -> tuple[tuple[int, int, int] | None, str]:
    container = find_container(host, config.traefik.container)
    if container is None:
        return None, f"no container named {config.traefik.container}"
    image = (container.attrs.get("Config") or {}).get("Image", "")
    version = traefik_version(image)
    if version is not None:
        return version, f"image tag {image}"
    if container.status == "running":
        code, output = ask(container, ["traefik", "version"])
        match = re.search(r"Version:\s*v?(\d+)\.(\d+)\.(\d+)", output)
        if code == 0 and match:
            return tuple(int(g) for g in match.groups()), "traefik version"
    return None, f"{image} names no version and `traefik version` did not answer"


def choose(host: "Host", config: "Config") -> Challenge:
    toml = traefik_toml(host, config)
    point = entrypoint(toml)
    resolvers = tls_resolvers(toml)
    bypass = ((toml.get("entryPoints") or {}).get(point) or {}).get("allowACMEByPass") is True
    version, source = running_version(host, config)
    if version is not None and version < BYPASS_SINCE:
        mode = "http"  # takes acme-tls/1 itself, resolver or not, and knows no allowACMEByPass
    elif resolvers and not bypass and version is None:
        mode = "http"  # cannot tell whether the key would stop Traefik from starting
    else:
        mode = "alpn"  # no resolver (today's plan), or a Traefik that knows allowACMEByPass
    return Challenge(mode, resolvers, version, source, point, bypass)


def traefik_actions(host: "Host", config: "Config", choice: Challenge) -> list[Action]:
    """allowACMEByPass on the TLS entrypoint and a Traefik recreated to read it, when needed."""
    if not choice.resolvers or choice.mode != "alpn" or choice.bypass:
        return []
    path = config.traefik.config
    before = host.read_text(path) or ""
    after = set_keys(before, ("entryPoints", choice.entrypoint), {"allowACMEByPass": True}, path)
    container = find_container(host, config.traefik.container)
    actions: list[Action] = [EditFile(path, before, after, summary=(
        f"Let the TLS-ALPN-01 challenge for {config.turn.domain} through Traefik: allowACMEByPass = true "
        f"on [entryPoints.{choice.entrypoint}] in {path}"))]
    if container is not None:
        twin = Twin(container.attrs, image_config=image_config(host, container.attrs["Image"]))
        actions.append(ReplaceContainer(twin, f"(no setting changes: recreated so it reads the new {path};\n"
                                        " a file bind mount keeps showing the old file to a running container)\n",
                                        replaces=container.id))
    return actions
