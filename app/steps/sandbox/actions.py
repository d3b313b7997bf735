"""Sandbox actions: limits changed in place, their undo, and the AppArmor profile's load/unload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.config.units import format_size
from app.engine.actions import Action, ApplyContext, Undo, sh
from app.engine.undo import UndoRecord, record
from app.errors import ApplyError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host


@record("limits")
@dataclass(frozen=True)
class LimitsChanged(UndoRecord):
    """Limits changed in place on a running container, with the values it had before."""

    name: str
    id: str
    previous: dict[str, int]

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RestoreLimits(self.name, self.id, self.previous)]


@record("apparmor")
@dataclass(frozen=True)
class ProfileLoaded(UndoRecord):
    profile: str

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [UnloadAppArmorProfile(self.profile)]


def update_resources(host: "Host", container_id: str, body: dict[str, int]) -> None:
    """POST /containers/{id}/update with NanoCpus and PidsLimit too (the SDK's ``update`` lacks them)."""
    from docker.errors import APIError

    api = host.docker.api
    try:
        api._raise_for_status(api._post_json(api._url("/containers/{0}/update", container_id), data=body))
    except APIError as exc:
        raise ApplyError(f"changing the limits failed: {exc.explanation or exc}") from None


def limit_flags(limits: dict[str, int]) -> list[str]:
    names = {"Memory": "--memory", "MemorySwap": "--memory-swap", "NanoCpus": "--cpus", "PidsLimit": "--pids-limit"}
    shown = {"NanoCpus": lambda v: f"{v / 1e9:g}", "PidsLimit": str}
    return [f"{names[k]}={shown.get(k, format_size)(v)}" for k, v in limits.items() if k in names]


@dataclass
class UpdateLimits(Action):
    """Memory, swap, CPUs and PIDs changed on the running container: no restart, same container."""

    name: str
    limits: dict[str, int]
    changes: str = ""

    def __post_init__(self) -> None:
        self.summary = f"Change the limits of {self.name} in place (it keeps running)"

    def command(self) -> str:
        return sh("docker", "update", *limit_flags(self.limits), self.name)

    def diff(self) -> str:
        return self.changes

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from app.containers.actions import find_container

        container = find_container(host, self.name)
        if container is None:
            raise ApplyError(f"no container named {self.name}; check [sandbox] containers")
        previous = {k: (container.attrs["HostConfig"].get(k) or 0) for k in self.limits}
        update_resources(host, container.id, self.limits)
        ctx.log(f"limited {self.name}: {' '.join(limit_flags(self.limits))}")
        return [LimitsChanged(self.name, container.id, previous)]


@dataclass
class RestoreLimits(Action):
    """Undo UpdateLimits. The engine cannot take a memory or CPU limit away from a running
    container, so going back to "unlimited" recreates it (same settings, old limits)."""

    name: str
    id: str
    previous: dict[str, int]

    def __post_init__(self) -> None:
        self.summary = f"Give {self.name} its previous limits back"

    def command(self) -> str:
        return sh("docker", "update", *limit_flags({k: v for k, v in self.previous.items() if v}), self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from docker.errors import NotFound

        try:
            container = host.docker.containers.get(self.id)
        except NotFound:
            ctx.log(f"{self.name} was replaced since; its limits are not restored", level="warning")
            return []
        current = container.attrs["HostConfig"]
        unsettable = [k for k in ("Memory", "NanoCpus", "MemorySwap")
                      if k in self.previous and not self.previous[k] and current.get(k)]
        if not unsettable:
            body = {k: (v if v or k != "PidsLimit" else -1) for k, v in self.previous.items()}
            update_resources(host, self.id, body)
            ctx.log(f"restored the limits of {self.name}")
            return []
        _recreate_with(host, ctx, container.attrs, self.previous)
        return []


def _recreate_with(host: "Host", ctx: ApplyContext, attrs: dict[str, Any], host_config: dict[str, Any]) -> None:
    from app.containers.actions import ReplaceContainer
    from app.containers.recreate import Twin

    swap = {"MemorySwap": 0} if not host_config.get("Memory") else {}
    replaced = ReplaceContainer(Twin(attrs, host_config={**host_config, **swap}), replaces=attrs["Id"])
    record = replaced.apply(host, ctx)[0]
    host.docker.containers.get(record.previous).remove(force=True)  # the limited one is not needed
    ctx.log(f"recreated {record.name} without the limits (the engine cannot remove them in place)")


@dataclass
class LoadAppArmorProfile(Action):
    path: str  # the profile file on the host, written by the EditFile before this action
    profile: str

    def __post_init__(self) -> None:
        self.summary = f"Load the AppArmor profile {self.profile} into the kernel"

    def command(self) -> str:
        return sh("apparmor_parser", "-r", "-W", self.path)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        done = host.run(["apparmor_parser", "-r", "-W", host.machine_path(self.path)])
        if done.returncode != 0:
            raise ApplyError(f"apparmor_parser refused {self.path}: {(done.stderr or done.stdout).strip()[-300:]}")
        ctx.log(f"loaded AppArmor profile {self.profile}")
        return [ProfileLoaded(self.profile)]


@dataclass
class UnloadAppArmorProfile(Action):
    profile: str

    def __post_init__(self) -> None:
        self.summary = f"Unload the AppArmor profile {self.profile}"

    def command(self) -> str:
        return f"apparmor_parser -R  # with hardstep's {self.profile} profile on stdin"

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        from app.shared.apparmor import profile_text

        # From stdin: rollback has already put the profile file back (files go first).
        done = host.run(["apparmor_parser", "-R"], input=profile_text())
        if done.returncode != 0:
            ctx.log(f"apparmor_parser -R: {(done.stderr or done.stdout).strip()[-200:]}", level="warning")
        return []
