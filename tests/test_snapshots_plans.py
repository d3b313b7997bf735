"""Snapshots of the plan views of the file-editing steps, with secrets shown redacted.

Fixed names (``hssnap-*``), fixed paths and a fixed Docker version keep the pictures the same on
every machine; a taller terminal shows each plan whole.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.assets import asset_path
from tests.test_snapshots import keys
from tests.wizard_support import SNAPSHOT_VALUES, quiet_app, wizard_engine

PLAN_SIZE = (100, 56)
SECRET = "Zx#9&k*Qm3-very-secret"
HOMESERVER = f"""server_name: "matrix.example.com"
pid_file: /data/homeserver.pid
registration_shared_secret: "{SECRET}"
enable_registration: true
allow_public_rooms_without_auth: true
macaroon_secret_key: "{SECRET}"
report_stats: false
"""


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """The name a replaced container is kept under carries the time: fix the clock."""
    from datetime import datetime, timezone

    from app.engine import model

    monkeypatch.setattr(model, "utcnow", lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(autouse=True)
def pinned_steps(monkeypatch):
    """The steps these pictures were drawn with, so a step added later does not redraw them."""
    from app import steps

    monkeypatch.setattr(steps, "REGISTRY", {k: steps.REGISTRY[k] for k in
                                            ("private-network", "socket-proxy", "traefik", "synapse")})


def values(**sections):
    merged = {section: dict(table) for section, table in SNAPSHOT_VALUES.items()}
    for section, table in sections.items():
        merged.setdefault(section, {}).update(table)
    return merged


@pytest.mark.docker
def test_synapse_plan_redacts_secrets(tmp_path, snap_compare):
    """The synapse plan: the homeserver.yaml diff with its secrets as <redacted>, the ticked
    registration item, and the restart that waits for Synapse."""
    engine = wizard_engine(tmp_path, values(synapse={"url": "http://127.0.0.1:8008", "disable_registration": True}),
                           fixed_docker=True)
    engine.host.write_text(engine.config.synapse.config, HOMESERVER)
    assert SECRET not in "".join(a.diff() + a.command() + a.summary for a in engine.plan("synapse").actions)
    assert snap_compare(quiet_app(engine), terminal_size=PLAN_SIZE, run_before=keys("down", "down", "down", "2"))


TRAEFIK_ROOT = Path("/tmp/hardstep-snapshot-traefik")  # fixed: the bind path is on screen


@pytest.fixture
def traefik_host(docker_client, images):
    """hssnap-plans-* objects for the traefik plan: the proxy running, a Traefik stand-in (busybox)
    with the socket and traefik.toml mounted and a token in its environment. Names of their own:
    tests/test_snapshots.py runs beside this file (pytest-xdist) and draws hssnap-private absent."""
    names = values(docker={"private_network": "hssnap-plans-private", "socket_proxy_container": "hssnap-plans-proxy"},
                   traefik={"container": "hssnap-plans-traefik", "web_network": "hssnap-plans-web"})
    cleanup(docker_client, names)
    shutil.rmtree(TRAEFIK_ROOT, ignore_errors=True)
    (TRAEFIK_ROOT / "opt" / "traefik").mkdir(parents=True)
    shutil.copy(asset_path("lab", "traefik.toml"), TRAEFIK_ROOT / "opt" / "traefik" / "traefik.toml")
    docker_client.networks.create(names["traefik"]["web_network"])
    yield names
    cleanup(docker_client, names)
    shutil.rmtree(TRAEFIK_ROOT, ignore_errors=True)


def cleanup(client, names) -> None:
    from docker.errors import NotFound

    for container in client.containers.list(all=True, filters={"name": "hssnap-plans-"}, ignore_removed=True):
        container.remove(force=True)
    for network in (names["traefik"]["web_network"], names["docker"]["private_network"]):
        try:
            client.networks.get(network).remove()
        except NotFound:
            pass


@pytest.mark.docker
def test_traefik_plan_shows_file_and_container_changes(tmp_path, snap_compare, traefik_host, docker_client, images):
    """The traefik plan: the traefik.toml diff, the network note, and the container recreated
    without the socket (its token redacted in the equivalent docker run)."""
    engine = wizard_engine(tmp_path, traefik_host, fixed_docker=True)
    engine.host.root = TRAEFIK_ROOT
    assert engine.apply("private-network").ok and engine.apply("socket-proxy").ok
    config = TRAEFIK_ROOT / "opt" / "traefik" / "traefik.toml"
    docker_client.containers.run(
        images["busybox"], ["sleep", "3600"], name=traefik_host["traefik"]["container"], detach=True,
        network=traefik_host["traefik"]["web_network"], restart_policy={"Name": "unless-stopped"},
        volumes=["/var/run/docker.sock:/var/run/docker.sock", f"{config}:/traefik.toml:ro"],
        environment={"CF_DNS_API_TOKEN": SECRET}, labels={"traefik.enable": "true"})
    assert SECRET not in "".join(a.diff() + a.command() for a in engine.plan("traefik").actions)
    assert snap_compare(quiet_app(engine), terminal_size=PLAN_SIZE, run_before=keys("down", "down", "2"))
