"""The Docker actions that undo what the actions in ``app.containers.actions`` did: rollback's half.

Undo records written before a change (``Action.prepare``) carry no id yet: the process may have
died before or after the create. Those are resolved by name, and only objects hardstep labelled
are ever removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.containers.keep import bring_back, comes_back, policy_flag, remove_gracefully
from app.containers.spec import MANAGED_LABEL
from app.engine.actions import Action, ApplyContext, Undo, sh
from app.engine.undo import UndoRecord, record
from app.errors import ApplyError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host


@record("network")
@dataclass(frozen=True)
class NetworkCreated(UndoRecord):
    name: str
    id: str | None  # None: recorded before the create (the run may have died before or after it)

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RemoveNetwork(self.name, self.id)]


@record("container")
@dataclass(frozen=True)
class ContainerCreated(UndoRecord):
    name: str
    id: str | None

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RemoveContainer(self.name, self.id)]


@record("replaced")
@dataclass(frozen=True)
class ContainerReplaced(UndoRecord):
    """A container recreated with new settings; the old one is kept, stopped, as ``previous``."""

    name: str
    id: str | None
    previous: str
    previous_running: bool
    # Its own restart policy: it is kept with ``no`` (app/containers/keep.py). None in records
    # written before that, when the kept container still had its own.
    previous_policy: dict[str, Any] | None = None

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RestoreContainer(self.name, self.id, self.previous, self.previous_running, self.previous_policy)]


@dataclass
class RemoveNetwork(Action):
    name: str
    id: str | None  # None: recorded before the create (the run was killed), found by name and label

    def __post_init__(self) -> None:
        self.summary = f"Remove the network {self.name}, which hardstep created"

    def command(self) -> str:
        return sh("docker", "network", "rm", self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from docker.errors import NotFound

        try:
            network = _managed(host.docker.networks, self.name, ctx) if self.id is None \
                else host.docker.networks.get(self.id)
        except NotFound:
            network = None
        if network is None:
            ctx.log(f"network {self.name} is already gone")
            return []
        network.reload()
        attached = [c.get("Name", "?") for c in (network.attrs.get("Containers") or {}).values()]
        if attached:
            raise ApplyError(f"network {self.name} still has {', '.join(sorted(attached))} attached; "
                             "roll back the steps that use it first")
        network.remove()
        ctx.log(f"removed network {self.name}")
        return []


@dataclass
class RemoveContainer(Action):
    name: str
    id: str | None  # None: recorded before the create (the run was killed), found by name and label

    def __post_init__(self) -> None:
        self.summary = f"Remove the container {self.name}, which hardstep created"

    def command(self) -> str:
        return sh("docker", "rm", "-f", self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from docker.errors import NotFound

        try:
            container = host.docker.containers.get(self.id) if self.id else None
        except NotFound:
            # Recreated since under the same name (the sandbox's rollback does that to lift limits
            # the engine cannot lift in place): the twin carries hardstep's label, so it is ours.
            container = None
        container = container or _managed(host.docker.containers, self.name, ctx)
        if container is None:
            ctx.log(f"container {self.name} is already gone")
            return []
        container.remove(force=True)  # hardstep's own helpers (proxy, acme) hold no data
        ctx.log(f"removed container {self.name}" + ("" if not self.id or container.id == self.id
                                                     else f" (recreated since: now {container.short_id})"))
        return []


def _managed(collection, name: str, ctx: ApplyContext):
    """The object named ``name`` if hardstep labelled it; None (and a log line) otherwise."""
    from docker.errors import NotFound

    try:
        found = collection.get(name)
    except NotFound:
        return None
    labels = found.attrs.get("Labels") or (found.attrs.get("Config") or {}).get("Labels") or {}
    if labels.get(MANAGED_LABEL) != "hardstep":
        ctx.log(f"{name} was not made by hardstep; left alone", level="warning")
        return None
    return found


@dataclass
class RestoreContainer(Action):
    """Undo a ReplaceContainer: remove the new container, put the kept one back under its name."""

    name: str
    id: str | None  # None: recorded before the replace (the run was killed)
    previous: str
    previous_running: bool
    previous_policy: dict[str, Any] | None = None  # None: leave the kept container's as it is

    def __post_init__(self) -> None:
        self.summary = f"Put back the previous {self.name} (kept as {self.previous})"

    def command(self) -> str:
        lines = [sh("docker", "stop", self.name), sh("docker", "rm", self.name),
                 sh("docker", "rename", self.previous, self.name)]
        if comes_back(self.previous_policy):
            lines.append(sh("docker", "update", f"--restart={policy_flag(self.previous_policy)}", self.name))
        return "\n".join(lines + ([sh("docker", "start", self.name)] if self.previous_running else []))

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from docker.errors import NotFound

        try:
            previous = host.docker.containers.get(self.previous)
        except NotFound:
            if self.id is None:  # killed before the rename: the old container never moved
                ctx.log(f"{self.name} was never replaced; nothing to put back")
                return []
            raise ApplyError(f"the kept container {self.previous} is gone; {self.name} was left as it is") from None
        # The twin, stopped with its grace (a database's twin writes to the same data); with no id,
        # whatever holds the name now was started by the interrupted replace.
        _remove_twin(host, self.id or self.name, self.name, ctx)
        bring_back(previous, self.name, self.previous_policy, self.previous_running)
        ctx.log(f"restored {self.name}")
        return []


def _remove_twin(host: "Host", ref: str, name: str, ctx: ApplyContext) -> None:
    from docker.errors import NotFound

    try:
        remove_gracefully(host.docker.containers.get(ref))
        ctx.log(f"removed the new {name}")
    except NotFound:
        pass
