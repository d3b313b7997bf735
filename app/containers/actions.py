"""Actions on the Docker engine: images, networks and containers. Their undo is app/containers/undo.py."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.engine import model
from app.engine.actions import Action, ApplyContext, Undo, sh
from app.containers.keep import bring_back, keep_stopped, restart_policy, stop_grace
from app.containers.spec import MANAGED_LABEL, STEP_LABEL, Blueprint, ContainerSpec
from app.containers.wait import wait_for_http
from app.containers.undo import ContainerCreated, ContainerReplaced, NetworkCreated
from app.errors import ApplyError
from app.config.validate import split_image

if TYPE_CHECKING:
    from app.host.base import Host


def hardstep_labels(step: str) -> dict[str, str]:
    return {MANAGED_LABEL: "hardstep", STEP_LABEL: step}


@dataclass
class PullImage(Action):
    image: str

    def __post_init__(self) -> None:
        self.summary = f"Pull the image {self.image} (not on this host yet)"

    def command(self) -> str:
        return sh("docker", "pull", self.image)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from docker.errors import APIError

        repo, tag = split_image(self.image)
        layers: dict[str, tuple[int, int]] = {}
        try:
            for event in host.docker.api.pull(repo, tag=tag or None, stream=True, decode=True):
                if "error" in event:
                    raise ApplyError(f"pulling {self.image} failed: {event['error']}")
                detail = event.get("progressDetail") or {}
                if event.get("id") and detail.get("total"):
                    layers[event["id"]] = (detail.get("current", 0), detail["total"])
                done = sum(c for c, _ in layers.values())
                total = sum(t for _, t in layers.values())
                ctx.log(f"pull {self.image}: {event.get('status', '')}", done / total if total else None)
        except APIError as exc:
            raise ApplyError(f"pulling {self.image} failed: {exc.explanation or exc}; "
                             "check the image name and the host's registry access") from None
        ctx.log(f"pulled {self.image}", 1.0)
        return []


@dataclass
class CreateNetwork(Action):
    name: str
    step: str
    driver: str = "bridge"
    options: dict[str, str] = field(default_factory=dict)
    internal: bool = False  # its members reach each other and nothing else
    purpose: str = ""  # said in the summary: who joins it

    def __post_init__(self) -> None:
        self.summary = f"Create the {'internal' if self.internal else self.driver} network {self.name}" + (
            f" ({self.purpose})" if self.purpose else "")

    def command(self) -> str:
        flags = [f"--opt={k}={v}" for k, v in self.options.items()] + (["--internal"] if self.internal else [])
        return sh("docker", "network", "create", f"--driver={self.driver}", *flags, self.name)

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        # No id yet: if hardstep dies after the create, rollback finds the network by name + label.
        return [NetworkCreated(self.name, None)]

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        network = host.docker.networks.create(self.name, driver=self.driver, options=self.options or None,
                                              internal=self.internal, labels=hardstep_labels(self.step),
                                              check_duplicate=True)
        ctx.log(f"created {'internal ' if self.internal else ''}network {self.name} ({network.short_id})")
        return [NetworkCreated(self.name, network.id)]


@dataclass
class RunContainer(Action):
    spec: ContainerSpec

    def __post_init__(self) -> None:
        self.summary = f"Start the container {self.spec.name} ({self.spec.image}) on {self.spec.network}"

    def command(self) -> str:
        return self.spec.docker_run()

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        return [ContainerCreated(self.spec.name, None)]

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = start_checked(host, self.spec, ctx)
        return [ContainerCreated(self.spec.name, container.id)]


@dataclass
class ReplaceContainer(Action):
    """Recreate a container with new settings; the old one is kept, stopped, for rollback."""

    spec: Blueprint
    changes: str = ""
    replaces: str = ""  # the id of the container the plan saw

    def __post_init__(self) -> None:
        self.summary = f"Recreate the container {self.spec.name} with the settings below (the old one is kept, stopped)"
        self._previous = f"{self.spec.name}-hardstep-{model.utcnow():%Y%m%d%H%M%S}"

    def command(self) -> str:
        return "\n".join([sh("docker", "rename", self.spec.name, self._previous),
                          sh("docker", "update", "--restart=no", self._previous),
                          sh("docker", "stop", self._previous), self.spec.docker_run()])

    def diff(self) -> str:
        return self.changes

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        # The kept name is fixed now, so a rollback after a kill knows where the old one went.
        old = self._planned(host)
        return [ContainerReplaced(self.spec.name, None, self._previous, old.status == "running", restart_policy(old))]

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        old = self._planned(host)
        was_running, policy = old.status == "running", restart_policy(old)
        old.rename(self._previous)
        ctx.log(f"kept {self.spec.name} as {self._previous}; stopping it with restart policy no")
        try:
            keep_stopped(old)
            container = start_checked(host, self.spec, ctx)
        except Exception:
            try:
                bring_back(old, self.spec.name, policy, was_running)
            except Exception:  # the engine went away: the prepared undo record puts it back later
                ctx.log(f"the old {self.spec.name} could not be put back now", level="error")
            else:
                ctx.log(f"put the old {self.spec.name} back", level="warning")
            raise
        return [ContainerReplaced(self.spec.name, container.id, self._previous, was_running, policy)]

    def _planned(self, host: "Host"):
        """The container the plan saw. One recreated since (a new id: compose, Watchtower) is refused:
        a twin of the old one would silently revert that change."""
        old = find_container(host, self.spec.name)
        if old is None or old.id != self.replaces:
            raise ApplyError(f"the container {self.spec.name} {'is gone' if old is None else 'was recreated'} since "
                             "the plan was made; nothing changed: make a fresh plan and review it")
        return old

    def after_undo(self, host: "Host", ctx: ApplyContext) -> None:
        # The old container came back before its config files did: restart it so it reads them.
        old = find_container(host, self.spec.name)
        if old is not None and old.status in ("running", "restarting"):
            old.restart(timeout=stop_grace(old.attrs))
            ctx.log(f"restarted {self.spec.name} so it reads its restored configuration")


@dataclass
class StartContainer(Action):
    name: str

    def __post_init__(self) -> None:
        self.summary = f"Start the stopped container {self.name}"

    def command(self) -> str:
        return sh("docker", "start", self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        host.docker.containers.get(self.name).start()
        ctx.log(f"started {self.name}")
        return []


@dataclass
class RestartContainer(Action):
    """Restart a container so it reads its edited config; optionally wait until it answers."""

    name: str
    wait_url: str | None = None  # polled from this machine until it answers below 500
    timeout: int = 120
    why: str = "so it reads the new configuration"

    def __post_init__(self) -> None:
        self.summary = f"Restart {self.name} {self.why}" + (
            f" and wait until {self.wait_url} answers (up to {self.timeout}s)" if self.wait_url else "")

    def command(self) -> str:
        return sh("docker", "restart", self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = self.restart(host, ctx)
        if self.wait_url:
            wait_for_http(self.wait_url, self.timeout, ctx, container)
        return []

    def restart(self, host: "Host", ctx: ApplyContext):
        """Restart the container; returns it with its attributes as they were before the restart."""
        container = find_container(host, self.name)
        if container is None:
            raise ApplyError(f"no container named {self.name} to restart; check the container name in settings")
        container.restart(timeout=stop_grace(container.attrs))
        ctx.log(f"restarted {self.name}")
        return container


def start_checked(host: "Host", spec: Blueprint, ctx: ApplyContext, settle: float = 1.5):
    """Create and start ``spec``; if it is not running shortly after, remove it and fail."""
    from docker.errors import APIError

    try:
        container = spec.create(host)
    except APIError as exc:
        raise ApplyError(f"creating {spec.name} failed: {exc.explanation or exc}") from None
    try:
        container.start()
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            time.sleep(0.25)
            container.reload()
            # A restart policy can bring a crashing container back between two looks: count restarts.
            if container.status not in ("running", "created") or container.attrs.get("RestartCount"):
                break
        if container.status != "running" or container.attrs.get("RestartCount"):
            logs = container.logs(tail=5).decode("utf-8", "replace").strip()
            raise ApplyError(f"{spec.name} did not stay up (status {container.status})"
                             + (f": {logs.splitlines()[-1]}" if logs else ""))
    except (APIError, ApplyError) as exc:
        container.remove(force=True)
        if isinstance(exc, ApplyError):
            raise
        raise ApplyError(f"starting {spec.name} failed: {exc.explanation or exc}") from None
    ctx.log(f"started {spec.name} ({container.short_id})")
    return container


def find_container(host: "Host", name: str):
    """The container named exactly ``name``, or None (``containers.get`` also matches id prefixes)."""
    from docker.errors import NotFound

    try:
        container = host.docker.containers.get(name)
    except NotFound:
        return None
    return container if container.name == name else None


def not_running(container) -> str:
    """Why a container found by name is not running, in words and with its last exit: what a
    check says instead of "not running" (a container that restarts looks like one that stopped)."""
    state = container.attrs.get("State") or {}
    status, code = state.get("Status") or container.status, state.get("ExitCode")
    why = " (killed for lack of memory)" if state.get("OOMKilled") else ""
    if status == "created":
        return "was created but never started"
    if status in ("restarting", "exited", "dead"):
        return f"is {status}, last exit code {code}{why}"
    return f"is {status}"


def find_network(host: "Host", name: str):
    """The network named exactly ``name``, or None (the engine's lookup also matches id prefixes)."""
    from docker.errors import NotFound

    try:
        network = host.docker.networks.get(name)
    except NotFound:
        return None
    return network if network.name == name else None


def image_present(host: "Host", image: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        host.docker.images.get(image)
        return True
    except ImageNotFound:
        return False
