"""Pseudo-step ``cis``: the CIS Docker Benchmark runtime audit. It changes nothing; ``hardstep
check`` runs it with the other steps, and every failing item names the step that fixes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.actions import Action
from app.steps.cis.audit import container_items, daemon_items
from app.shared.engine_facts import gather
from app.engine.model import CheckResult
from app.shared import apparmor
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host


class CisAudit(Step):
    id = "cis"
    title = "CIS Docker Benchmark audit"

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        return []  # an audit: the steps named in its results make the changes

    def notes(self, host: "Host", config: "Config") -> list[str]:
        return ["An audit: nothing to apply here. Each failing item names the step that fixes it."]

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        missing = apparmor.unavailable(host)
        results = [self.check(name, ok, detail, **evidence)
                   for name, ok, detail, evidence in daemon_items(gather(host, config.docker.probe_image))]
        for container in sorted(host.docker.containers.list(ignore_removed=True), key=lambda c: c.name):
            labels = (container.attrs.get("Config") or {}).get("Labels") or {}
            if labels.get("io.hardstep.step") == "probe":
                continue  # hardstep's own short-lived probes
            results += [self.check(name, ok, detail, **evidence)
                        for name, ok, detail, evidence in container_items(host, container, config, missing)]
        return results
