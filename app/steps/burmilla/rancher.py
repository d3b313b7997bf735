"""RancherOS and BurmillaOS: which one a host runs, and the ``ros`` commands that move it.

The OS is read from ``/etc/os-release`` (under ``--root``) by ``NAME``: BurmillaOS keeps
``ID=rancheros`` (FACTS). ``ros`` is found on the host's PATH; it prints ``ros version vX``
for ``ros -v`` and ``vX`` for ``ros os version``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.engine.actions import Action, ApplyContext, Undo, back_up, sh
from app.engine.model import now_iso
from app.engine.undo import UndoRecord, record
from app.errors import ApplyError, HardstepError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

RANCHER, BURMILLA = "RancherOS", "BurmillaOS"
UPGRADE_KEY = "rancher.upgrade.url"
# The upgrade pulls an OS image and installs it before the reboot: give it time.
UPGRADE_TIMEOUT = 1800
ROS_TIMEOUT = 120
# hardstep's record of an upgrade it started, kept where RancherOS keeps files across reboots
# and upgrades (/opt is one of the console's persistent user volumes).
MARKER = "/opt/hardstep/burmilla-upgrade.json"
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """``v1.9.6``, ``ros version v1.9.6`` -> (1, 9, 6); None when no version is in the text."""
    match = _VERSION.search(text or "")
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


@dataclass(frozen=True)
class OsInfo:
    name: str      # os-release NAME, "" when unknown
    version: str   # v1.9.6 on RancherOS and BurmillaOS, 12 on Debian
    pretty: str = ""

    @property
    def is_rancher(self) -> bool:
        return self.name == RANCHER

    @property
    def is_burmilla(self) -> bool:
        return self.name == BURMILLA

    def describe(self) -> str:
        if self.pretty and (self.version in self.pretty or not self.version):
            return self.pretty
        return f"{self.name or 'an unknown OS'} {self.version}".strip()

    @property
    def image(self) -> str:
        """The OS image ``ros os upgrade -i`` takes to install this very release again."""
        return f"{'burmilla' if self.is_burmilla else 'rancher'}/os:{self.version}"


def detect_os(host: "Host") -> OsInfo:
    """The OS under ``--root``; ``ros os version`` decides when os-release is missing."""
    release = host.os_release()
    name = release.get("NAME", "")
    version = release.get("VERSION_ID") or release.get("VERSION", "")
    if not name and ros_program(host):
        version = ros_output(host, "os", "version", check=False).strip()
        # RancherOS ended at v1.5.x; BurmillaOS started at v1.9.0.
        if parse_version(version):
            name = BURMILLA if parse_version(version) >= (1, 9, 0) else RANCHER
    return OsInfo(name, version, release.get("PRETTY_NAME", ""))


def ros_program(host: "Host") -> str | None:
    return host.which("ros")


def ros_output(host: "Host", *args: str, check: bool = True, timeout: float = ROS_TIMEOUT) -> str:
    """What ``ros ARGS`` prints; ApplyError naming the command when it fails and ``check``."""
    program = ros_program(host)
    if program is None:
        raise HardstepError("ros was not found on PATH; run hardstep on the RancherOS host itself")
    result = host.run([program, *args], timeout=timeout)
    if check and result.returncode != 0:
        lines = (result.stderr or result.stdout or "").strip().splitlines()
        raise ApplyError(f"{sh('ros', *args)} failed (exit {result.returncode})"
                         + (f": {lines[-1]}" if lines else ""))
    return result.stdout if result.returncode == 0 else ""


def ros_version(host: "Host") -> str | None:
    """The version ``ros -v`` reports (``ros version v1.9.6`` -> ``v1.9.6``), None without ros."""
    if ros_program(host) is None:
        return None
    words = ros_output(host, "-v", check=False).split()
    return words[-1] if words else ""


def current_console(host: "Host") -> str | None:
    """The running console from ``ros console list`` (``current  default``), None if unknown."""
    for line in ros_output(host, "console", "list", check=False).splitlines():
        state, _, name = line.strip().partition(" ")
        if state == "current":
            return name.strip()
    return None


def upgrade_url(host: "Host") -> str:
    return ros_output(host, "config", "get", UPGRADE_KEY, check=False).strip()


def target_image(target: str) -> str | None:
    """``v1.9.6`` -> ``burmilla/os:v1.9.6``; empty: None (the channel's current)."""
    return f"burmilla/os:{target}" if target else None


def goes_to_2x(target: str) -> bool:
    """Empty: the v1.9.x channel's current, which is BurmillaOS 2.x now (FACTS)."""
    version = parse_version(target)
    return not target or (version is not None and version[0] >= 2)


def reached(info: OsInfo, target: str) -> bool:
    """BurmillaOS at the target or newer (hardstep never downgrades); 2.x for an empty target."""
    version = parse_version(info.version)
    if not info.is_burmilla or version is None:
        return False
    return version >= (parse_version(target) or (2, 0, 0))


def wanted(target: str) -> str:
    return f"BurmillaOS {target}" if target else "BurmillaOS 2.x (the channel's current release)"


# --- the record of an upgrade in flight ---------------------------------------------------
def read_marker(host: "Host") -> dict[str, Any] | None:
    try:
        data = json.loads(host.read_text(MARKER) or "null")
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


# --- actions -------------------------------------------------------------------------------
@record("ros-config")
@dataclass(frozen=True)
class RosSetting(UndoRecord):
    """A ``ros config`` key hardstep set, with its previous value."""

    key: str
    previous: str

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RosCommand(("config", "set", self.key, self.previous),
                           f"Set {self.key} back to {self.previous or 'empty'}")]


@record("ros-console")
@dataclass(frozen=True)
class RosConsole(UndoRecord):
    previous: str

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        return [RosCommand(("console", "switch", "-f", self.previous), f"Switch the console back to {self.previous}")]


@record("os-upgrade")
@dataclass(frozen=True)
class OsUpgraded(UndoRecord):
    """Where the host came from before ``ros os upgrade`` (the marker file holds the same)."""

    details: dict[str, Any]

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        info = detect_os(host)
        if (info.name, info.version) == (self.details.get("from_name"), self.details.get("from_version")):
            return []  # the upgrade never took effect: nothing to keep or explain
        return [KeepUpgrade(self.details)]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, **self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "OsUpgraded":
        return cls({k: v for k, v in data.items() if k != "type"})


@dataclass
class RosCommand(Action):
    """One ``ros`` command; ``undo`` is the record that puts the previous value back."""

    args: tuple[str, ...]
    summary: str = ""
    undo: Undo | None = None

    def command(self) -> str:
        return sh("sudo", "ros", *self.args)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        output = ros_output(host, *self.args)
        if output.strip():
            ctx.log(output.strip().splitlines()[-1])
        return [self.undo] if self.undo else []


@dataclass
class UpgradeOS(Action):
    """``ros os upgrade``: installs the new OS and reboots, which ends this process."""

    before: OsInfo
    target: str
    channel: str
    summary: str = ""

    def __post_init__(self) -> None:
        self.summary = self.summary or (f"Upgrade {self.before.describe()} to {wanted(self.target)} "
                                        "(the host reboots)")

    @property
    def args(self) -> tuple[str, ...]:
        image = target_image(self.target)
        return ("os", "upgrade", "-f") + (("-i", image) if image else ())

    def command(self) -> str:
        return sh("sudo", "ros", *self.args)

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        """Written before the upgrade starts, since the reboot ends this process: where the host
        came from, for the checks after the reboot and for the rollback plan."""
        self._record = {"from": self.before.describe(), "from_name": self.before.name,
                        "from_version": self.before.version, "from_image": self.before.image,
                        "target": self.target, "image": target_image(self.target), "channel": self.channel,
                        "started": now_iso()}
        back_up(host, MARKER, ctx.backup_dir)
        host.write_text(MARKER, json.dumps(self._record, indent=2) + "\n")
        return [OsUpgraded(dict(self._record))]

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        undo = self.prepare(host, ctx) if getattr(self, "_record", None) is None else \
            [OsUpgraded(dict(self._record))]
        self._record = None
        ctx.log("the host reboots when the upgrade is installed, and this session ends. After it is "
                "back: reconnect and run hardstep again; it shows what happened and checks the result "
                "(hardstep check burmilla does the same from the command line).", level="warning")
        try:
            ros_output(host, *self.args, timeout=UPGRADE_TIMEOUT)
        except Exception:
            host.unlink(MARKER)  # nothing was upgraded: no record of it
            raise
        ctx.log("ros os upgrade returned without rebooting: reboot now (sudo reboot), then run hardstep "
                "again", level="warning")
        return undo


@dataclass
class KeepUpgrade(Action):
    """Rollback cannot undo an OS upgrade: this says so, and how to go back by hand."""

    record: dict[str, Any]
    summary: str = ""

    def __post_init__(self) -> None:
        self.summary = (f"Not undone by hardstep: the upgrade from {self.record.get('from')}. To go back by "
                        "hand, run the command below (it reboots), or pick the previous entry in the boot menu")

    def command(self) -> str:
        return sh("sudo", "ros", "os", "upgrade", "-f", "-i", str(self.record.get("from_image")))

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        ctx.log("the OS stays as it is: going back is done by hand, as above", level="warning")
        return []
