"""The ordered registry of steps. Modules are imported on first use, not at start-up.

Each entry also carries what the wizard shows before a step does anything (its title, whether it
needs Docker, its ticked options, whether it picks containers), so listing the steps imports no
step module: a step module pulls in its editors and SDK helpers, which cost more than the whole
first frame. The step classes keep the same attributes (the contract in ``app.steps.base``); a
test checks that both say the same.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from app.errors import UnknownStep

if TYPE_CHECKING:
    from app.steps.base import Step

Options = tuple[tuple[str, str], ...]


class Entry(NamedTuple):
    """Where a step lives, and what can be shown of it without importing it."""

    module: str
    cls: str
    title: str
    uses_docker: bool = True
    picks_containers: bool = False
    options: Options = ()
    rolls_back_without_engine: bool = False


class StepInfo(NamedTuple):
    """A step as a list, a heading or a key binding needs it: no module import, no instance."""

    id: str
    title: str
    uses_docker: bool = True
    picks_containers: bool = False
    options: Options = ()
    rolls_back_without_engine: bool = False  # its rollback is what brings a stopped engine back


# Step id -> entry, in the order the wizard walks them. A plain (module, class) pair also works
# (tests and experiments register steps that way); its details are then read from the class.
REGISTRY: dict[str, Entry | tuple[str, str]] = {
    "burmilla": Entry("app.steps.burmilla.step", "Burmilla", "RancherOS to BurmillaOS", uses_docker=False),
    "private-network": Entry("app.steps.private_network.step", "PrivateNetwork", "Private Docker network"),
    "socket-proxy": Entry("app.steps.socket_proxy.step", "SocketProxy", "Docker socket proxy"),
    "traefik": Entry("app.steps.traefik.step", "Traefik", "Traefik through the proxy"),
    "acme": Entry("app.steps.acme.step", "Acme", "Certificates for coTURN"),
    "coturn-tls": Entry("app.steps.coturn_tls.step", "CoturnTls", "TURNS for coTURN", options=(
        ("turn", "keep_plain_uris"), ("turn", "no_tcp_relay"), ("turn", "no_multicast_peers"),
        ("turn", "deny_private_peers"), ("turn", "no_cli"))),
    "synapse": Entry("app.steps.synapse.step", "Synapse", "Synapse lockdown", options=(
        ("synapse", "disable_registration"), ("synapse", "disable_guest_access"),
        ("synapse", "disable_turn_guests"))),
    "sandbox": Entry("app.steps.sandbox.step", "Sandbox", "Container sandbox", picks_containers=True),
    "daemon": Entry("app.steps.daemon.step", "Daemon", "Docker daemon hardening",
                    options=(("docker", "userns_remap"),), rolls_back_without_engine=True),
    "cis": Entry("app.steps.cis.step", "CisAudit", "CIS Docker Benchmark audit"),
}


def step_ids() -> list[str]:
    return list(REGISTRY)


def _entry(step_id: str) -> Entry | tuple[str, str]:
    try:
        return REGISTRY[step_id]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise UnknownStep(f"unknown step {step_id!r}; known steps: {known}") from None


def step_class(step_id: str) -> "type[Step]":
    """The step's class; this imports its module."""
    module_name, class_name = _entry(step_id)[:2]
    return getattr(importlib.import_module(module_name), class_name)


def get_step(step_id: str) -> "Step":
    return step_class(step_id)()


def step_info(step_id: str) -> StepInfo:
    """What the registry says about the step; only a bare (module, class) pair imports it."""
    entry = _entry(step_id)
    if isinstance(entry, Entry):
        return StepInfo(step_id, entry.title, entry.uses_docker, entry.picks_containers, entry.options,
                        entry.rolls_back_without_engine)
    return info_of(step_class(step_id))


def info_of(cls: "type[Step]") -> StepInfo:
    """The same details, read from a step class."""
    return StepInfo(cls.id, cls.title, cls.uses_docker, cls.picks_containers, tuple(cls.options),
                    cls.rolls_back_without_engine)
