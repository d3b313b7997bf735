"""Step ``sandbox``: limits and a locked-down runtime for the containers the user picks.

Limits the engine changes live (memory, swap, CPUs, PIDs) are changed in place; the rest
(read-only root, tmpfs, capabilities, no-new-privileges, seccomp, AppArmor, the restricted
network) needs a twin that keeps every other setting, with the old container kept for rollback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from app.engine.actions import Action, EditFile
from app.containers.spec import render_settings_diff, settings_diff
from app.containers.actions import CreateNetwork, ReplaceContainer, find_container, find_network
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.shared import apparmor
from app.steps.sandbox.actions import LoadAppArmorProfile, UpdateLimits
from app.steps.sandbox.checks import container_checks
from app.shared.container_security import view
from app.steps.sandbox.profile import (LIVE_FIELDS, LIVE_KEYS, Sandbox as Box, name_of, overrides, role_of, run_flags,
                                       sandbox_for)
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

ICC = "com.docker.network.bridge.enable_icc"
_KEPT = re.compile(r"-hardstep-\d{14}$")  # containers ReplaceContainer keeps for rollback


def suggestions(host: "Host", config: "Config") -> list[dict[str, Any]]:
    """The running containers the picker offers, each with its role and why (role-aware)."""
    rows = []
    for container in host.docker.containers.list(ignore_removed=True):
        attrs = container.attrs
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        if _KEPT.search(container.name) or labels.get("io.hardstep.step") == "probe":
            continue
        role = role_of(attrs, config)
        box = sandbox_for(attrs, config)
        rows.append({"name": container.name, "image": (attrs.get("Config") or {}).get("Image", ""),
                     "role": role.name, "why": role.why, "memory": box.memory, "read_only": box.read_only,
                     "picked": container.name in config.sandbox.containers})
    return sorted(rows, key=lambda r: r["name"])


class Sandbox(Step):
    id = "sandbox"
    title = "Container sandbox"
    picks_containers = True

    def _boxes(self, host: "Host", config: "Config") -> list[tuple[Any, Box]]:
        """(container, sandbox) for every picked container that runs; a missing one is an error."""
        profile = apparmor.PROFILE if apparmor.unavailable(host) is None else None
        boxes = []
        for name in config.sandbox.containers:
            container = find_container(host, name)
            if container is None:
                raise HardstepError(f"no container named {name}; fix [sandbox] containers in settings")
            if container.status == "running":
                boxes.append((container, sandbox_for(container.attrs, config, profile)))
        return boxes

    def twin(self, attrs: dict[str, Any], box: Box):
        from app.assets import asset_path
        from app.containers.recreate import Twin

        networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
        drop = {n for n in networks if n != box.isolate_on} if box.isolate_on else set()
        return Twin(attrs, host_config=overrides(attrs, box), drop_networks=drop,
                    add_networks=[box.isolate_on] if box.isolate_on else [],
                    run_flags=run_flags(box, str(asset_path("seccomp", "hardstep.json"))))

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        boxes = self._boxes(host, config)
        actions: list[Action] = []
        if any(box.apparmor for _, box in boxes):
            before, text = host.read_text(apparmor.PROFILE_PATH), apparmor.profile_text()
            if before != text:
                actions.append(EditFile(apparmor.PROFILE_PATH, before, text,
                                        summary=f"Install the AppArmor profile {apparmor.PROFILE_PATH}"))
            if before != text or not apparmor.loaded(host):
                actions.append(LoadAppArmorProfile(apparmor.PROFILE_PATH, apparmor.PROFILE))
        restricted = config.sandbox.restricted_network
        if any(box.isolate_on for _, box in boxes):
            network = find_network(host, restricted)
            if network is None:
                actions.append(CreateNetwork(restricted, self.id, options={ICC: "false"}))
            elif (network.attrs.get("Options") or {}).get(ICC) != "false":
                raise HardstepError(f"the network {restricted} exists with inter-container traffic on; "
                                    "set another [sandbox] restricted_network")
        for container, box in boxes:
            action = self._container_action(container.attrs, box)
            if action is not None:
                actions.append(action)
        return actions

    def _container_action(self, attrs: dict[str, Any], box: Box) -> Action | None:
        name = name_of(attrs)
        twin = self.twin(attrs, box)
        changes = settings_diff(view(attrs), view(twin.attrs_after()))
        if not changes:
            return None
        diff = render_settings_diff(name, changes)
        # CPU quota set the old way cannot be swapped for --cpus in place (the engine refuses both).
        quota = (attrs.get("HostConfig") or {}).get("CpuQuota", 0) > 0
        if all(key in LIVE_KEYS for key, _, _ in changes) and not quota:
            limits = {k: v for k, v in overrides(attrs, box).items() if k in LIVE_FIELDS}
            return UpdateLimits(name, limits, diff)
        return ReplaceContainer(twin, diff, replaces=attrs["Id"])

    def notes(self, host: "Host", config: "Config") -> list[str]:
        s = config.sandbox
        notes = []
        if not s.containers:
            offered = [f"{r['name']} ({r['role']})" for r in suggestions(host, config)]
            notes.append("No container is picked yet ([sandbox] containers). Running now: "
                         + (", ".join(offered) or "none"))
        missing = apparmor.unavailable(host)
        if missing:
            notes.append(f"AppArmor profile skipped: {missing}.")
        for name in s.isolated:
            if name not in s.containers:
                notes.append(f"{name} is in [sandbox] isolated but not in [sandbox] containers: it is not moved")
        for name in s.containers:
            container = find_container(host, name)
            if container is None:
                continue
            if container.status != "running":
                notes.append(f"{name} is not running ({container.status}): it is skipped")
                continue
            box = sandbox_for(container.attrs, config)
            notes.append(f"{name}: {box.role.why}")
            notes += box.notes
            if box.isolate_on:
                notes.append(f"{name} moves onto {box.isolate_on} alone: it can reach the outside and keeps its "
                             "published ports, but no other container")
        return notes

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        if not config.sandbox.containers:  # a failure, not a skip: nothing is sandboxed, nothing is verified
            offered = ", ".join(f"{r['name']} ({r['role']})" for r in suggestions(host, config)) or "none"
            return [self.check("containers picked", False,
                               f"no container picked yet ([sandbox] containers); running now: {offered}")]
        info = host.docker.info()
        missing = apparmor.unavailable(host)
        profile = None if missing else apparmor.PROFILE
        results: list[CheckResult] = []
        isolating = False
        for name in config.sandbox.containers:
            container = find_container(host, name)
            if container is None or container.status != "running":
                state = "no such container" if container is None else f"status {container.status}"
                results.append(self.check(f"{name}: running", False, state))
                continue
            box = sandbox_for(container.attrs, config, profile)
            isolating = isolating or bool(box.isolate_on)
            for check, ok, detail, evidence in container_checks(host, container, box, info, missing):
                results.append(self.check(check, ok, detail, container=name, role=box.role.name, **evidence))
        return results + ([self._restricted_network(host, config)] if isolating else [])

    def _restricted_network(self, host: "Host", config: "Config") -> CheckResult:
        name = config.sandbox.restricted_network
        network = find_network(host, name)
        icc = (network.attrs.get("Options") or {}).get(ICC) if network else None
        return self.check(f"{name}: inter-container traffic off", icc == "false",
                          "no such network" if network is None else f"{ICC}={icc or 'unset (true)'}", network=name)
