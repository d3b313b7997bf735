"""What the running coTURN is and how to make it read its files again.

- ``detect_version``: the coturn version actually running (``turnserver --version`` in its
  container, else its start-up log, else its image tag), because TLS/DTLS options differ by
  version and coturn silently ignores options it does not know (FACTS).
- ``tls_options``: the version table: which TLS/DTLS options to write and which to comment out.
- ``RestartChecked`` / ``SignalContainer``: a restart that proves coTURN stayed up, and SIGUSR2,
  which makes coturn reload its certificate without dropping calls.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.engine.actions import Action, ApplyContext, Undo, sh
from app.containers.actions import RestartContainer, find_container
from app.containers.commands import ask
from app.errors import ApplyError

if TYPE_CHECKING:
    from app.host.base import Host

Version = tuple[int, int, int]
# 4.7.0: TLS 1.0/1.1 are off by default and no-tlsv1/no-tlsv1_1 are no longer known.
TLS_FLAGS_REMOVED: Version = (4, 7, 0)
# 4.17.0: DTLS listeners start only when ``dtls`` is set (before, they start unless ``no-dtls``).
DTLS_OPT_IN: Version = (4, 17, 0)
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> Version | None:
    match = _VERSION.search(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def shown(version: Version | None) -> str:
    return ".".join(map(str, version)) if version else "unknown"


def detect_version(container) -> tuple[Version | None, str]:
    """(version, where it was read) of the coturn in ``container``; (None, why) when unknown."""
    if container.status == "running":
        code, output = ask(container, ["turnserver", "--version"])
        version = parse_version(output) if code == 0 else None
        if version:
            return version, "turnserver --version"
    logs = container.logs(tail=400).decode("utf-8", "replace")
    match = re.search(r"Version Coturn-(\d+\.\d+\.\d+)", logs)
    if match:
        return parse_version(match[1]), "its start-up log"
    image = (container.attrs.get("Config") or {}).get("Image", "")
    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
    if parse_version(tag):
        return parse_version(tag), f"the image tag {image}"
    return None, f"turnserver --version, the log and the image tag ({image}) name no version"


@dataclass
class TlsOptions:
    """turnserver.conf changes for TLS/DTLS on one coturn version."""

    set: dict[str, bool] = field(default_factory=dict)  # flags to write
    unset: list[str] = field(default_factory=list)  # options to comment out
    notes: list[str] = field(default_factory=list)


def tls_options(version: Version | None, dtls: bool) -> TlsOptions:
    """The version table. ``no-tls`` always goes: the TLS listener is the point of the step."""
    result = TlsOptions(unset=["no-tls"])
    if version is None:
        result.unset.append("no-dtls" if dtls else "dtls")  # commenting out is safe everywhere
        result.notes.append("The running coturn version could not be determined, so only options every "
                            "version knows are written: TLS 1.0/1.1 are not switched off (coturn before "
                            "4.7.0 serves them)" + (" and DTLS is not switched on (coturn 4.17.0 and later "
                                                    "need 'dtls'); the DTLS check will tell" if dtls else "") + ".")
        return result
    if version < TLS_FLAGS_REMOVED:
        result.set.update({"no-tlsv1": True, "no-tlsv1_1": True})
    if version >= DTLS_OPT_IN:
        result.unset.append("no-dtls")  # harmless when unknown: only a comment then
        if dtls:
            result.set["dtls"] = True
        else:
            result.unset.append("dtls")
    elif dtls:
        result.unset.append("no-dtls")
    else:
        result.set["no-dtls"] = True
    return result


def stale_options(version: Version | None, active: dict) -> list[str]:
    """Options in the file that this version does not know (coturn logs them and goes on)."""
    if version is not None and version >= TLS_FLAGS_REMOVED:
        return [key for key in ("no-tlsv1", "no-tlsv1_1") if key in active]
    return []


@dataclass
class RestartChecked(RestartContainer):
    """Restart a container that has no URL to wait for (coTURN), and fail, with its last log
    line, when it does not stay up."""

    settle: float = 2.0

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = self.restart(host, ctx)
        restarts = container.attrs.get("RestartCount", 0)
        time.sleep(self.settle)
        container.reload()
        if container.status != "running" or container.attrs.get("RestartCount", 0) != restarts:
            lines = container.logs(tail=5).decode("utf-8", "replace").strip().splitlines()
            raise ApplyError(f"{self.name} did not stay up after the restart (status {container.status})"
                             + (f": {lines[-1][:200]}" if lines else ""))
        return []

    def after_undo(self, host: "Host", ctx: ApplyContext) -> None:
        RestartChecked(self.name, why="so it reads its restored configuration").apply(host, ctx)


@dataclass
class SignalContainer(Action):
    """Send a signal to a container's first process (SIGUSR2: coturn reloads its certificate)."""

    name: str
    signal: str = "SIGUSR2"
    why: str = "so it reloads its certificate without dropping calls"

    def __post_init__(self) -> None:
        self.summary = f"Send {self.signal} to {self.name} {self.why}"

    def command(self) -> str:
        return sh("docker", "kill", f"--signal={self.signal}", self.name)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = find_container(host, self.name)
        if container is None or container.status != "running":
            raise ApplyError(f"{self.name} is not running; nothing to signal")
        container.kill(signal=self.signal)
        time.sleep(1)  # coturn reloads in its own thread
        ctx.log(f"sent {self.signal} to {self.name}")
        return []
