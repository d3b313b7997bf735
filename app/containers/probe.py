"""Live probes from inside a Docker network: a throw-away container runs ``wget`` and we read
the HTTP status it saw. This is the check a person would do by hand with curl in a container.

One probe container serves all the requests of a check run (``exec`` takes a fraction of a
second; a container per request takes seconds). It is locked down like the services it probes
and always removed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers.commands import ask
from app.containers.spec import MANAGED_LABEL, STEP_LABEL

if TYPE_CHECKING:
    from app.host.base import Host

_STATUS = re.compile(r"HTTP/\d(?:\.\d)? (\d{3})")
_NOT_FOUND = "executable file not found"


@dataclass
class ProbeResult:
    status: int | None  # None: no HTTP answer at all
    output: str

    @property
    def evidence(self) -> str:
        return f"HTTP {self.status}" if self.status else (self.output.strip().splitlines() or ["no answer"])[-1]


class ProbeImageMissing(Exception):
    pass


class Probe:
    """``with Probe(host, image, network) as probe: probe.get(url)``."""

    def __init__(self, host: "Host", image: str, network: str, timeout: int = 8):
        self.host, self.image, self.network, self.timeout = host, image, network, timeout
        self._container = None
        self._bounded = True  # "timeout" exists in busybox and alpine; not in every image

    def __enter__(self) -> "Probe":
        from docker.errors import ImageNotFound

        try:
            self._container = self.host.docker.containers.create(
                self.image, ["sleep", "600"], network=self.network,
                labels={MANAGED_LABEL: "hardstep", STEP_LABEL: "probe"},
                cap_drop=["ALL"], security_opt=["no-new-privileges"], read_only=True,
            )
        except ImageNotFound:
            raise ProbeImageMissing(f"the probe image {self.image} is not on this host") from None
        self._container.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._container is not None:
            self._container.remove(force=True)
            self._container = None

    @property
    def id(self) -> str:
        """The probe container's id: a container whose files a probe may ask for."""
        return self._container.id

    def get(self, url: str) -> ProbeResult:
        return self._wget(["wget", "-S", "-O", "/dev/null", url])

    def peek(self, url: str) -> ProbeResult:
        """The answer's status without its body (busybox: a GET that stops after the headers;
        GNU wget: a HEAD): for endpoints whose body would be a container's files."""
        return self._wget(["wget", "-S", "--spider", url])

    def post(self, url: str, data: str = "x") -> ProbeResult:
        """A POST with a small form body: what a person does with ``curl -X POST``."""
        return self._wget(["wget", "-S", "-O", "/dev/null", "--post-data", data, url])

    def _wget(self, wget: list[str]) -> ProbeResult:
        # No ``wget -T``: Debian's static busybox 1.35 segfaults on it. ``timeout`` bounds the time.
        argv = ["timeout", str(self.timeout)] + wget if self._bounded else wget
        exit_code, text = ask(self._container, argv)  # wget -S always prints: its headers or its error
        if self._bounded and exit_code in (126, 127) and _NOT_FOUND in text:
            self._bounded = False
            return self._wget(wget)
        codes = _STATUS.findall(text)
        return ProbeResult(int(codes[-1]) if codes else None, text)

    def settled(self, url: str, wait: float = 8) -> ProbeResult:
        """Like ``get``, retried while nothing answers yet (a service that has just started)."""
        deadline = time.monotonic() + wait
        while True:
            result = self.get(url)
            if result.status is not None or time.monotonic() > deadline:
                return result
            time.sleep(0.5)
