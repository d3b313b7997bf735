"""Step ``burmilla``: move a RancherOS host (unmaintained) to BurmillaOS, its maintained successor."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.steps.burmilla import rancher
from app.engine.actions import Action
from app.errors import HardstepError
from app.engine.model import Applicability, CheckResult
from app.engine.undo import UndoRecord
from app.steps.burmilla.rancher import OsInfo, OsUpgraded, RosCommand, RosConsole, RosSetting, UpgradeOS
from app.steps.base import Step
from app.config.validate import is_url
from app.containers.actions import find_container
from app.shared.traefik import FIRST_FIXED, compatibility_check, traefik_checks, traefik_version

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

SECOND_REBOOT = ("a second reboot is needed (a known BurmillaOS quirk after an upgrade): run sudo reboot, "
                 "reconnect, and run hardstep again")
FIRST_FIXED_TRAEFIK = "v2.11.31"
CONSOLE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class Burmilla(Step):
    id = "burmilla"
    title = "RancherOS to BurmillaOS"
    # Planning and applying need only ros; the checks ask Docker themselves and fail cleanly.
    uses_docker = False

    def applicable(self, host: "Host") -> Applicability:
        info = rancher.detect_os(host)
        if info.is_rancher or info.is_burmilla:
            return Applicability(True)
        return Applicability(False, f"detected {info.describe()}; this step moves RancherOS to BurmillaOS "
                                    "and has nothing to do on other systems")

    # --- plan ------------------------------------------------------------------------------
    def plan(self, host: "Host", config: "Config") -> list[Action]:
        info = rancher.detect_os(host)
        target, channel = config.burmilla.target, config.burmilla.channel
        if rancher.reached(info, target):
            return []
        if rancher.ros_program(host) is None:
            raise HardstepError(f"{info.describe()} but ros was not found on PATH; run hardstep on the host itself")
        # The official order: default console, then the channel, then the upgrade (FACTS).
        actions: list[Action] = []
        console = rancher.current_console(host)
        if console is not None and not CONSOLE.fullmatch(console):
            console = None  # never feed an unexpected word back into a command
        if console != "default":
            actions.append(RosCommand(
                ("console", "switch", "-f", "default"),
                f"Switch the console from {console or 'an unknown one'} to default (this logs you out when "
                "you are on that console: reconnect and run hardstep again)",
                RosConsole(console) if console else None))
        url = rancher.upgrade_url(host)
        if url != channel:
            previous = url if url == "" or is_url(url) else None
            actions.append(RosCommand(
                ("config", "set", rancher.UPGRADE_KEY, channel),
                f"Point {rancher.UPGRADE_KEY} at the BurmillaOS release channel (was {url or 'unset'})",
                RosSetting(rancher.UPGRADE_KEY, previous) if previous is not None else None))
        actions.append(UpgradeOS(info, target, channel))
        return actions

    def notes(self, host: "Host", config: "Config") -> list[str]:
        target = config.burmilla.target
        if rancher.reached(rancher.detect_os(host), target):
            return []
        if not rancher.goes_to_2x(target):
            return [f"Stays on BurmillaOS 1.9 ({rancher.target_image(target)}), whose Docker engine still "
                    "accepts older Traefik images. The v1.9.x channel's current release is BurmillaOS "
                    "2.x, with a much newer Docker engine; to go there, set [burmilla] target empty once "
                    f"Traefik runs {FIRST_FIXED_TRAEFIK} or later."]
        notes = [f"Goes to {rancher.wanted(target)}: kernel 5.10 and a much newer Docker engine, which "
                 f"Traefik before {FIRST_FIXED_TRAEFIK} cannot talk to (\"client version 1.24 is too old\"). "
                 "To stay on 1.9, set [burmilla] target = v1.9.6."]
        return notes + [self._traefik_flag(host, config)]

    def _traefik_flag(self, host: "Host", config: "Config") -> str:
        """Before a 2.x upgrade: will the configured Traefik still reach Docker afterwards?"""

        name = config.traefik.container
        try:
            container = find_container(host, name)
        except Exception as exc:  # no engine now: say what could not be read
            return f"Could not read the image of {name} ({type(exc).__name__}); make sure it is Traefik " \
                   f"{FIRST_FIXED_TRAEFIK} or later before upgrading."
        if container is None:
            return f"No container named {name} ([traefik] container): nothing to compare."
        image = container.attrs["Config"]["Image"]
        version = traefik_version(image)
        if version is None:
            return f"{name} runs {image}, which names no version: make sure it is {FIRST_FIXED_TRAEFIK} or later."
        if version < FIRST_FIXED:
            return (f"STOP: {name} runs {image}, older than {FIRST_FIXED_TRAEFIK}: after this upgrade Traefik "
                    f"loses its Docker provider and every route. Update Traefik first, or stay on 1.9 "
                    f"([burmilla] target = v1.9.6).")
        return f"{name} runs {image}: new enough for the new engine."

    # --- checks ----------------------------------------------------------------------------
    def validate(self, host: "Host", config: "Config") -> list[CheckResult]:
        info = rancher.detect_os(host)
        target = config.burmilla.target
        marker = rancher.read_marker(host)
        results = [self._os_check(info, target)]
        if marker:
            results.append(self._upgrade_check(info, target, marker))
        ros_ok, ros_check = self._ros_check(host, info)
        results.append(ros_check)
        docker_ok, docker_check = self._docker_check(host, info, marker is not None or not ros_ok)
        results.append(docker_check)
        return results + (self._traefik_checks(host, config) if docker_ok else
                          [self.check("Traefik's provider works", None, "skipped: the Docker engine does not answer")])

    def _os_check(self, info: OsInfo, target: str) -> CheckResult:
        name = f"BurmillaOS {target} or newer" if target else "BurmillaOS 2.x"
        ok = rancher.reached(info, target)
        detail = f"os-release says {info.describe()}"
        version = rancher.parse_version(info.version)
        if ok and target and version != rancher.parse_version(target):
            detail += f" (newer than {target}: hardstep never downgrades)"
        elif not ok:
            detail += f"; wanted {rancher.wanted(target)}"
        return self.check(name, ok, detail, os_name=info.name, version=info.version, target=target)

    def _upgrade_check(self, info: OsInfo, target: str, marker: dict) -> CheckResult:
        """After the reboot: say plainly what the upgrade hardstep started has done."""
        started, before = marker.get("started", "?"), marker.get("from", "?")
        if rancher.reached(info, target):
            return self.check("upgrade took effect", True, f"upgraded from {before} to {info.describe()} "
                              f"(started {started})", upgrade=marker)
        if info.name == marker.get("from_name") and info.version == marker.get("from_version"):
            detail = (f"the upgrade started {started} has not taken effect: still {info.describe()}. If the "
                      "host has not rebooted since, reboot it (sudo reboot); otherwise run hardstep apply "
                      "burmilla again")
        else:
            detail = f"from {before} the host went to {info.describe()}, not {rancher.wanted(target)}"
        return self.check("upgrade took effect", False, detail, upgrade=marker)

    def _ros_check(self, host: "Host", info: OsInfo) -> tuple[bool, CheckResult]:
        name = "ros -v agrees"
        reported = rancher.ros_version(host)
        if reported is None:
            return True, self.check(name, None, "skipped: ros was not found on PATH")
        version = rancher.parse_version(info.version)
        ok = version is not None and rancher.parse_version(reported) == version
        detail = f"ros version {reported or '(nothing)'}, os-release {info.version or '(none)'}"
        if not ok and info.is_burmilla:
            detail += f": {SECOND_REBOOT}"
        return ok, self.check(name, ok, detail, ros=reported, os_release=info.version)

    def _docker_check(self, host: "Host", info: OsInfo, after_upgrade: bool) -> tuple[bool, CheckResult]:
        try:
            ok, version = host.docker_status()
        except Exception as exc:  # a half-started engine may fail in ways the SDK does not wrap
            ok, version = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return True, self.check("Docker engine answers", True, f"Docker {version}", engine=version)
        advice = SECOND_REBOOT if info.is_burmilla and after_upgrade else \
            "start it (sudo system-docker restart docker)"
        return False, self.check("Docker engine answers", False, f"{version.split(';')[0]}; {advice}",
                                 error=version)

    def _traefik_checks(self, host: "Host", config: "Config") -> list[CheckResult]:
        """The traefik step's own checks once it was applied (its file points at the proxy),
        else whether this engine still suits the Traefik image: what an OS upgrade can break."""
        name = config.traefik.container
        container = find_container(host, name)
        if container is None:
            return [self.check("Traefik's provider works", None, f"skipped: no container named {name}")]
        theirs = traefik_checks(self, host, config)
        if theirs and theirs[0].ok:
            return [CheckResult(self.id, f"traefik: {r.check}", r.ok, r.detail, r.evidence) for r in theirs]
        compatible = compatibility_check(self, host, container.attrs["Config"]["Image"])
        return [self.check("Traefik is running", container.status == "running", f"{name} is {container.status}",
                           status=container.status),
                CheckResult(self.id, "Traefik works with this engine", compatible.ok, compatible.detail,
                            compatible.evidence)]

    # --- rollback --------------------------------------------------------------------------
    def rollback(self, host: "Host", config: "Config", undo: list[UndoRecord]) -> list[Action]:
        """The channel and the console go back; the OS upgrade cannot, and the plan says so (from
        the marker file too, when the state folder lost the upgrade's record)."""
        actions = super().rollback(host, config, undo)
        marker = rancher.read_marker(host)
        if marker and not any(isinstance(r, OsUpgraded) for r in undo):
            actions = OsUpgraded(marker).reverse(host, config, undo) + actions
        return actions
