"""Checking the new daemon.json before the restart, and the restart itself: the riskiest moment
of the whole wizard, so it says what stops, waits for the engine and reports what came back."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.engine.actions import Action, ApplyContext, FileBackup, Undo, sh
from app.engine.undo import UndoRecord, record
from app.errors import ApplyError, CommandTimeout, HardstepError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

_COMES_BACK = ("always", "unless-stopped")


def restart_command(host: "Host", config: "Config") -> tuple[list[str] | None, str]:
    """(the command that restarts the engine, or None; where it comes from or why there is none)."""
    if config.docker.restart_command:
        return list(config.docker.restart_command), "[docker] restart_command"
    if host.root != Path("/"):
        return None, ("with --root, hardstep never restarts this machine's engine on its own; "
                      "set [docker] restart_command")
    if host.os_release().get("NAME") in ("BurmillaOS", "RancherOS"):
        return ["system-docker", "restart", "docker"], "BurmillaOS runs the engine as a system-docker service"
    if host.uses_systemd():
        return ["systemctl", "restart", "docker"], "systemd"
    return None, "neither systemd nor BurmillaOS was found; set [docker] restart_command"


def what_stops(host: "Host", live_restore: bool, stays_on: bool = True) -> str:
    """The sentence the confirmation shows: which running containers stop, and which come back.
    Containers survive a restart only when live-restore is on before it and after it."""
    running = host.docker.containers.list(ignore_removed=True)
    if live_restore and stays_on:
        return "live-restore is on, so running containers keep running"
    back = sorted(c.name for c in running if _policy(c) in _COMES_BACK)
    down = sorted(c.name for c in running if c.name not in back)
    count = "the 1 running container stops" if len(running) == 1 else f"all {len(running)} running containers stop"
    text = f"live-restore {'is off' if not live_restore else 'goes off'}, so {count}"
    if back:
        text += f"; these come back (restart policy): {', '.join(back)}"
    if down:
        text += f"; these STAY STOPPED until you start them (no restart policy): {', '.join(down)}"
    return text


@dataclass
class ValidateDaemonConfig(Action):
    """``dockerd --validate`` on the new text, before anything is written or restarted."""

    path: str
    text: str

    def __post_init__(self) -> None:
        self.summary = f"Check the new {self.path} with dockerd --validate (Docker 23.0 and later)"

    def command(self) -> str:
        return sh("dockerd", "--validate", "--config-file", self.path)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        version = host.docker_version()
        major = int(re.match(r"\d+", version)[0]) if re.match(r"\d+", version) else 0
        if major < 23:
            ctx.log(f"dockerd --validate needs Docker 23.0 or later (this engine: {version}); "
                    "hardstep checked the JSON and the dockerd flags itself")
            return []
        try:
            done = host.run(["dockerd", "--validate", "--config-file", "/dev/stdin"], input=self.text)
        except FileNotFoundError:
            ctx.log("dockerd is not on this machine's PATH: validation skipped", level="warning")
            return []
        if done.returncode != 0:
            raise ApplyError(f"dockerd refuses the new {self.path}: {(done.stderr or done.stdout).strip()[-300:]}; "
                             "nothing was written")
        ctx.log(f"dockerd --validate accepts the new {self.path}")
        return []


@dataclass
class RestartEngine(Action):
    argv: list[str]
    timeout: int
    stops: str = ""

    def __post_init__(self) -> None:
        self.summary = f"Restart the Docker engine ({sh(*self.argv)}): {self.stops}" if self.stops \
            else f"Restart the Docker engine ({sh(*self.argv)}) so it reads its configuration"

    def command(self) -> str:
        return sh(*self.argv)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        before = _running(host)
        ctx.log(f"restarting the Docker engine: {sh(*self.argv)}", level="warning")
        try:
            done = host.run(self.argv, timeout=self.timeout)
        except (OSError, CommandTimeout) as exc:
            raise ApplyError(f"the restart command failed: {exc}") from None
        if done.returncode != 0:
            raise ApplyError(f"the restart command exited {done.returncode}: "
                             f"{(done.stderr or done.stdout).strip()[-300:] or 'no output'}")
        waited = wait_for_engine(host, self.timeout)
        after = set(_settled(host, before, min(self.timeout, 5)))
        revived = _revive(host, [n for n in before if n not in after], ctx)
        back, down = [n for n in before if n in after or n in revived], \
            [n for n in before if n not in after and n not in revived]
        ctx.log(f"the engine answers again after {waited:.0f}s; running again: {', '.join(back) or 'none'}"
                + (f"; NOT running: {', '.join(down)}" if down else ""), level="warning" if down else "info")
        return [EngineRestarted(list(self.argv), self.timeout)]

    def after_undo(self, host: "Host", ctx: ApplyContext) -> None:
        # The restart failed and daemon.json was put back: start the engine on its old configuration.
        try:
            RestartEngine(self.argv, self.timeout).apply(host, ctx)
        except ApplyError as exc:
            ctx.log(f"restarting the engine on its restored configuration failed too: {exc}", level="error")


@record("engine-restart")
@dataclass(frozen=True)
class EngineRestarted(UndoRecord):
    """The engine was restarted to read daemon.json; rollback restarts it once more, after the
    files are back, so it reads them."""

    argv: list[str]
    timeout: int

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list[Action]:
        restarts = [r for r in records if isinstance(r, EngineRestarted)]
        if restarts and restarts[-1] is not self:
            return []  # one restart reads every restored file: the newest record's
        from app.editors.json_text import parse
        from app.shared.engine_facts import gather

        if not host.docker_status()[0]:  # a daemon.json it refuses keeps it down: just start it
            return [RestartEngine(self.argv, self.timeout, "the engine does not answer now; it starts on the "
                                  "restored configuration")]
        live = bool(gather(host).info.get("LiveRestoreEnabled"))
        before = host.read_text(config.docker.daemon_config)
        for other in records:  # live-restore after the rollback: as the backup has it
            if isinstance(other, FileBackup) and other.path == config.docker.daemon_config:
                before = Path(other.backup).read_text(encoding="utf-8") if other.backup else None
        try:
            document = parse(before or "")
        except HardstepError:
            document = {}
        stops = what_stops(host, live, bool(document.get("live-restore")))
        return [RestartEngine(self.argv, self.timeout, f"back to the previous configuration; {stops}")]


def _policy(container) -> str | None:
    return ((container.attrs.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")


def _running(host: "Host") -> list[str]:
    try:
        return sorted(c.name for c in host.docker.containers.list(ignore_removed=True))
    except Exception:  # an engine that is down (after a failed restart) has nothing running
        return []


def _revive(host: "Host", names: list[str], ctx: ApplyContext) -> list[str]:
    """Start the containers with a restart policy that ran before and the engine left stopped
    (Docker 20.10 does that when live-restore goes from on to off)."""
    started = []
    for container in host.docker.containers.list(all=True, ignore_removed=True):
        policy = _policy(container)
        if container.name in names and policy in _COMES_BACK:
            try:
                container.start()
            except Exception as exc:
                ctx.log(f"{container.name} did not start again: {exc}", level="warning")
                continue
            ctx.log(f"started {container.name} again: it ran before the restart and has restart policy {policy}")
            started.append(container.name)
    return started


def _settled(host: "Host", before: list[str], wait: float) -> list[str]:
    """The running containers once those with a restart policy had ``wait`` seconds to come back
    (the engine restarts them just after it answers)."""
    deadline = time.monotonic() + wait
    while True:
        running = _running(host)
        try:
            expected = [c.name for c in host.docker.containers.list(all=True, ignore_removed=True)
                        if c.name in before and _policy(c) in _COMES_BACK]
        except Exception:
            expected = []
        if all(name in running for name in expected) or time.monotonic() > deadline:
            return running
        time.sleep(0.5)


def wait_for_engine(host: "Host", timeout: float) -> float:
    """Seconds until the engine answers; ApplyError after ``timeout``."""
    start = time.monotonic()
    last = "no answer"
    while time.monotonic() - start < timeout:
        try:
            if host.docker.ping():
                return time.monotonic() - start
        except Exception as exc:  # connection refused, reset, a half-started engine: keep waiting
            last = type(exc).__name__
        time.sleep(0.5)
    raise ApplyError(f"the Docker engine did not answer within {timeout:.0f}s after the restart ({last}); "
                     "see its log (journalctl -u docker), then run hardstep rollback daemon")
