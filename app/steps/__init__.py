"""The ordered registry of steps. Modules are imported on first use, not at start-up."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from app.errors import UnknownStep

if TYPE_CHECKING:
    from app.steps.base import Step

# Step id -> (module, class), in the order the wizard walks them.
REGISTRY: dict[str, tuple[str, str]] = {
    "burmilla": ("app.steps.burmilla.step", "Burmilla"),
    "private-network": ("app.steps.private_network.step", "PrivateNetwork"),
    "socket-proxy": ("app.steps.socket_proxy.step", "SocketProxy"),
    "traefik": ("app.steps.traefik.step", "Traefik"),
    "acme": ("app.steps.acme.step", "Acme"),
    "coturn-tls": ("app.steps.coturn_tls.step", "CoturnTls"),
    "synapse": ("app.steps.synapse.step", "Synapse"),
    "sandbox": ("app.steps.sandbox.step", "Sandbox"),
    "daemon": ("app.steps.daemon.step", "Daemon"),
    "cis": ("app.steps.cis.step", "CisAudit"),
}


def step_ids() -> list[str]:
    return list(REGISTRY)


def get_step(step_id: str) -> "Step":
    try:
        module_name, class_name = REGISTRY[step_id]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise UnknownStep(f"unknown step {step_id!r}; known steps: {known}") from None
    return getattr(importlib.import_module(module_name), class_name)()
