"""Live probes from inside a Docker network: a short-lived container runs ``wget`` and we read
the HTTP status it saw. This is the check a person would do by hand with curl in a container."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers import MANAGED_LABEL, STEP_LABEL

if TYPE_CHECKING:
    from app.host import Host

_STATUS = re.compile(r"HTTP/\d(?:\.\d)? (\d{3})")


@dataclass
class ProbeResult:
    status: int | None  # None: no HTTP answer at all
    output: str

    @property
    def evidence(self) -> str:
        return f"HTTP {self.status}" if self.status else (self.output.strip().splitlines() or ["no answer"])[-1]


class ProbeImageMissing(Exception):
    pass


def http_status(host: "Host", image: str, network: str, url: str, timeout: float = 8) -> ProbeResult:
    """GET ``url`` from a throw-away container on ``network``; the container is always removed."""
    from docker.errors import ImageNotFound

    from requests.exceptions import ConnectionError as RequestsConnectionError, ReadTimeout

    client = host.docker
    # No ``wget -T``: Debian's static busybox 1.35 segfaults on it. The wait below bounds the time.
    argv = ["wget", "-S", "-O", "/dev/null", url]
    try:
        container = client.containers.create(
            image, argv, network=network, labels={MANAGED_LABEL: "hardstep", STEP_LABEL: "probe"},
            cap_drop=["ALL"], security_opt=["no-new-privileges"], read_only=True,
        )
    except ImageNotFound:
        raise ProbeImageMissing(f"the probe image {image} is not on this host") from None
    try:
        container.start()
        try:
            container.wait(timeout=timeout)
        except (ReadTimeout, RequestsConnectionError):
            container.kill()
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    codes = _STATUS.findall(output)
    return ProbeResult(int(codes[-1]) if codes else None, output)


def http_status_settled(host: "Host", image: str, network: str, url: str, wait: float = 8) -> ProbeResult:
    """Like ``http_status``, retried while nothing answers yet (a service that just started)."""
    deadline = time.monotonic() + wait
    while True:
        result = http_status(host, image, network, url)
        if result.status is not None or time.monotonic() > deadline:
            return result
        time.sleep(0.5)
