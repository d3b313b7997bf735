"""Step ``private-network``: a user-defined bridge network that only Traefik and the socket proxy share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.engine.actions import Action
from app.containers.actions import CreateNetwork, find_network
from app.errors import HardstepError
from app.engine.model import CheckResult
from app.steps.base import Step

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

DRIVER = "bridge"


class PrivateNetwork(Step):
    id = "private-network"
    title = "Private Docker network"

    def plan(self, host: "Host", config: "Config") -> list[Action]:
        name = config.docker.private_network
        network = find_network(host, name)
        if network is None:
            return [CreateNetwork(name, self.id, driver=DRIVER)]
        driver = network.attrs.get("Driver")
        if driver != DRIVER:
            raise HardstepError(f"a network named {name} already exists with driver {driver}; "
                                f"choose another name in settings ([docker] private_network)")
        return []

    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        name = config.docker.private_network
        network = find_network(host, name)
        if network is None:
            return [self.check("network exists", False, f"no network named {name}", network=name)]
        driver = network.attrs.get("Driver")
        attached = sorted(c.get("Name", "?") for c in (network.attrs.get("Containers") or {}).values())
        return [
            self.check("network exists", True, f"{name} ({network.short_id})", network=name, id=network.id),
            self.check(f"{DRIVER} driver", driver == DRIVER, f"driver is {driver}", driver=driver,
                       attached=attached),
        ]

