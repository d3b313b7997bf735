"""Shared Docker test infrastructure for hardstep's tests.

Fixtures:
- ``docker_client`` (session): ``docker.from_env()`` against the engine ``make engine``
  starts. When the engine does not answer, tests using it FAIL under CI (env ``CI`` set)
  and are skipped otherwise.
- ``images`` (session): ``tests.infra.images.ensure_images(docker_client)``, i.e.
  ``{"busybox": ..., "tools": ..., "socket_proxy": ...}`` image tags, built once and reused.
- ``unique`` (function): ``unique("proxy") -> "hst-<run-id>-proxy"``; at teardown every
  container, then every network, whose name is one it handed out (or starts with such a
  name followed by "-") is removed.

Tests that need the engine are marked ``@pytest.mark.docker``; tests that use
``docker_client`` get the marker automatically, so ``-m "not docker"`` deselects them.
``fresh_secret_memory`` (autouse) forgets the secret values earlier tests made hardstep remember.
Other fixtures belong in their own modules (tests/fixtures_*.py), not here.
"""

from __future__ import annotations

import os
import secrets
from typing import Callable, Iterator

import pytest

import docker
from docker.errors import APIError, DockerException, NotFound

# Fixture modules shared by several test files.
pytest_plugins = ["tests.fixtures_registry", "tests.fixtures_synapse", "tests.fixtures_acme", "tests.fixtures_ssh"]

# One random id per test run: names from different runs (or concurrent runs on the same
# engine) never collide, and cleanup never touches another run's objects.
RUN_ID = secrets.token_hex(3)
NAME_PREFIX = f"hst-{RUN_ID}-"


@pytest.fixture(autouse=True)
def fresh_secret_memory() -> Iterator[None]:
    """Every test starts with no remembered secret values (app.redact.known): the values another test
    in this worker used as secrets (a generated ``a.example``) would be redacted out of this one's
    output."""
    from app.redact.known import forget

    forget()
    yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A test run again after a failure (pytest-rerunfailures) says why it failed the first time, so a
    flake that only CI sees can still be read."""
    if report.outcome != "rerun":
        return
    why = [line for line in report.longreprtext.splitlines() if line.startswith("E ")][:6]
    reporter = _config.pluginmanager.get_plugin("terminalreporter") if _config else None
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"RERUN {report.nodeid} after: " + " | ".join(line[1:].strip() for line in why)[:1200])


_config: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "docker_client" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        msg = f"the Docker engine does not answer ({exc}); run 'make engine' first"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def images(docker_client: docker.DockerClient) -> dict[str, str]:
    from tests.infra.images import ensure_images

    return ensure_images(docker_client)


def _owned(name: str, handed_out: list[str]) -> bool:
    name = name.lstrip("/")
    return any(name == h or name.startswith(h + "-") for h in handed_out)


@pytest.fixture
def unique() -> Iterator[Callable[[str], str]]:
    handed_out: list[str] = []

    def make(label: str) -> str:
        base = f"{NAME_PREFIX}{label}"
        name, n = base, 1
        while name in handed_out:  # the same label twice in one test: proxy, proxy-2, ...
            n += 1
            name = f"{base}-{n}"
        handed_out.append(name)
        return name

    yield make

    if not handed_out:
        return
    client = docker.from_env()
    try:
        _remove_owned(client, handed_out)
    finally:
        client.close()


def _remove_owned(client: docker.DockerClient, handed_out: list[str]) -> None:
    for c in client.containers.list(all=True, filters={"name": NAME_PREFIX}, ignore_removed=True):
        if _owned(c.name, handed_out):
            try:
                c.remove(force=True, v=True)
            except NotFound:
                pass
            except APIError as exc:  # e.g. removal already in progress
                if exc.status_code != 409:
                    raise
    for net in client.networks.list(filters={"name": NAME_PREFIX}):
        if not _owned(net.name, handed_out):
            continue
        try:
            net.reload()
            for c in net.containers:  # anything else still attached (e.g. a leftover probe)
                try:
                    net.disconnect(c, force=True)
                except (NotFound, APIError):
                    pass
            net.remove()
        except NotFound:
            pass
