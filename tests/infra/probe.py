"""HTTP probes from inside a Docker network, for tests.

A short-lived container from the probe image (``hardstep-test/busybox:1``) runs
``timeout 5 wget -S -O /dev/null URL`` on the given network; busybox wget prints the
server's status line (``HTTP/1.1 403 Forbidden``) with ``-S`` and exits non-zero on
4xx/5xx, so the status is read from its output, not from its exit code. POST uses
``--post-data``. DELETE, PUT and PATCH, which busybox wget cannot send, go as a bare HTTP/1.0
request through busybox ``nc``; the status line is read the same way.

Not ``wget -T 5``: Debian bookworm's static busybox 1.35 wget crashes with a segmentation
fault (exit 139) whenever ``-T`` is given (reproduced), so busybox's ``timeout`` applet
bounds the probe instead.

    from tests.infra.probe import Prober, http_status, wait_http
    wait_http(client, images["busybox"], net, f"http://{proxy}:2375/_ping")
    assert http_status(client, images["busybox"], net, f"http://{proxy}:2375/info") == 403

``http_status`` starts one container per request (about 1-2 s each). For many requests,
``Prober`` keeps one probe container on the network and runs wget in it with exec (about
0.2-0.3 s each):

    with Prober(client, images["busybox"], net, name=unique("probe")) as p:
        p.wait(f"http://{proxy}:2375/_ping")
        assert p.http_status(f"http://{proxy}:2375/info") == 403
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import docker
from docker.errors import APIError, NotFound

from app.containers.commands import ask

PROBE_LABEL = "org.hardstep.test.probe"

_STATUS_RE = re.compile(r"HTTP/\d(?:\.\d)? (\d{3})")


class ProbeError(RuntimeError):
    """The probe got no HTTP status (connection refused, DNS failure, timeout...)."""

    def __init__(self, url: str, exit_code: int | None, output: str) -> None:
        super().__init__(f"no HTTP status from {url} (wget exit {exit_code}):\n{output.strip()}")
        self.url = url
        self.exit_code = exit_code
        self.output = output


def _wget_argv(url: str, method: str, data: str, timeout: int) -> list[str]:
    method = method.upper()
    if method in RAW_METHODS:
        return _raw_argv(url, method, timeout)
    # timeout(1) instead of wget -T: -T segfaults in Debian's static busybox 1.35.
    argv = ["timeout", str(timeout), "wget", "-S", "-O", "/dev/null"]
    if method == "POST":
        argv += ["--post-data", data]
    elif method != "GET":
        raise ValueError(f"probes support GET, POST and {', '.join(RAW_METHODS)}, not {method}")
    argv.append(url)
    return argv


RAW_METHODS = ("DELETE", "PUT", "PATCH")  # busybox wget knows none: a bare HTTP/1.0 request with nc


def _raw_argv(url: str, method: str, timeout: int) -> list[str]:
    parts = urlsplit(url)
    target = (parts.path + (f"?{parts.query}" if parts.query else "")).replace("%", "%%")  # printf's format
    request = f"{method} {target or '/'} HTTP/1.0\\r\\nHost: {parts.hostname}\\r\\nContent-Length: 0\\r\\n\\r\\n"
    return ["sh", "-c", f"printf '{request}' | timeout {timeout} nc {parts.hostname} {parts.port or 80}"]


def _parse_status(output: str) -> int | None:
    statuses = _STATUS_RE.findall(output)
    # Redirects show several status lines; the last one is the final answer.
    return int(statuses[-1]) if statuses else None


def _probe(
    client: docker.DockerClient,
    image: str,
    network: str,
    url: str,
    method: str,
    data: str,
    timeout: int,
) -> tuple[int | None, int | None, str]:
    argv = _wget_argv(url, method, data, timeout)
    container = client.containers.create(
        image,
        command=argv,
        network=network,
        labels={PROBE_LABEL: "1"},
    )
    try:
        container.start()
        try:
            result = container.wait(timeout=timeout + 30)
            exit_code: int | None = int(result.get("StatusCode", -1))
        except Exception:  # requests' read timeout: the probe hung
            exit_code = None
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        try:
            container.remove(force=True)
        except (NotFound, APIError):
            pass
    return _parse_status(output), exit_code, output


def http_status(
    client: docker.DockerClient,
    image: str,
    network: str,
    url: str,
    method: str = "GET",
    *,
    data: str = "",
    timeout: int = 5,
) -> int:
    """HTTP status of ``METHOD url`` as seen from a container on ``network``.

    ``method`` is "GET" or "POST" (POST sends ``data``, empty by default). Raises
    ``ProbeError`` when no HTTP status line came back.
    """
    status, exit_code, output = _probe(client, image, network, url, method, data, timeout)
    if status is None:
        raise ProbeError(url, exit_code, output)
    return status


def wait_http(
    client: docker.DockerClient,
    image: str,
    network: str,
    url: str,
    *,
    deadline: float = 20.0,
    interval: float = 0.5,
) -> int:
    """Retry a GET of ``url`` until any HTTP status comes back (the server listens); return it.

    Raises the last ``ProbeError`` after ``deadline`` seconds.
    """
    end = time.monotonic() + deadline
    while True:
        try:
            return http_status(client, image, network, url, timeout=3)
        except ProbeError:
            if time.monotonic() >= end:
                raise
            time.sleep(interval)


class Prober:
    """A long-lived probe container on ``network``; ``http_status`` runs wget in it by exec.

    Use as a context manager (the container is removed on exit), or call ``close()``.
    Give it a ``name`` from the ``unique`` fixture so a failed test's cleanup removes it too.
    """

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        network: str,
        *,
        name: str | None = None,
    ) -> None:
        self.client = client
        self.network = network
        self.container = client.containers.run(
            image,
            ["sleep", "86400"],
            name=name,
            network=network,
            detach=True,
            labels={PROBE_LABEL: "1"},
        )

    def http_status(self, url: str, method: str = "GET", *, data: str = "", timeout: int = 5) -> int:
        """Same contract as the module's ``http_status``, from this container."""
        exit_code, output = ask(self.container, _wget_argv(url, method, data, timeout))
        status = _parse_status(output)
        if status is None:
            raise ProbeError(url, exit_code, output)
        return status

    def wait(self, url: str, *, deadline: float = 20.0, interval: float = 0.3) -> int:
        """Retry a GET of ``url`` until any HTTP status comes back; return it."""
        end = time.monotonic() + deadline
        while True:
            try:
                return self.http_status(url, timeout=3)
            except ProbeError:
                if time.monotonic() >= end:
                    raise
                time.sleep(interval)

    def close(self) -> None:
        try:
            self.container.remove(force=True)
        except (NotFound, APIError):
            pass

    def __enter__(self) -> "Prober":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
