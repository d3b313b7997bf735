"""The practice lab walked end to end, the way a newcomer would from the command line.

``hardstep lab --no-open`` builds and starts the lab (its own engine in a network namespace, real
Traefik, Synapse, coTURN and pebble) from the images ``make images`` built. Then every step that
applies on this Debian lab is applied in the wizard's order with ``apply --yes`` and verified by
checks that really ran (none skipped): Synapse's anonymous room directory answers 401 through
the lab's Traefik, coTURN serves TURNS with the certificate acme got from the lab CA, the sandbox
and daemon steps act on the lab's own containers and engine. Then all are rolled back in reverse
order, and the lab's configuration files are as they were built.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomlkit

from app.lab.files import build_lab, lab_engine
from app.lab.run import stop_lab
from app.steps import step_ids

pytestmark = pytest.mark.docker

# Every step but burmilla, which does not apply on Debian (the lab's os-release). cis is an audit.
WALK = [step for step in step_ids() if step != "burmilla"]
# The files hardstep edits on the lab host (runtime data such as Synapse's database is not compared).
EDITED = ("opt/traefik/traefik.toml", "opt/matrix/synapse/homeserver.yaml", "opt/coturn/turnserver.conf",
          "etc/docker/daemon.json")
SANDBOXED = ["hslab-element", "hslab-synapse"]
NO_APPARMOR = "this kernel has no AppArmor"
AUDIT = "cis"
AS_BUILT: dict[str, bytes] = {}  # the edited files as the lab built them, read before the walk


def hardstep(lab, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "--config", str(lab.config), "--root", str(lab.root),
                           "--state-dir", str(lab.state), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).parent.parent)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, images, docker_client):
    from tests.infra.lab_images import ensure_lab_images

    ensure_lab_images(docker_client)
    folder = tmp_path_factory.mktemp("walk") / "lab"
    started = subprocess.run([sys.executable, "-m", "app", "lab", "--no-open", "--dir", str(folder)],
                             capture_output=True, text=True, timeout=900, cwd=Path(__file__).parent.parent)
    built = build_lab(folder)
    try:
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        paths = dict(line.split(": ", 1) for line in started.stdout.splitlines()
                     if line.split(":", 1)[0] in ("root", "config", "state"))
        assert paths == {"root": str(built.root), "config": str(built.config), "state": str(built.state)}
        yield built
    finally:
        stop_lab(built)
        shutil.rmtree(folder, ignore_errors=True)


def checks_of(lab, step: str) -> list[dict]:
    done = hardstep(lab, "check", step, "--json")
    return json.loads(done.stdout)


# The walk is one story told by the tests below in file order (one module-scoped lab; pytest-xdist
# keeps a file on one worker). Pictures are drawn where nothing on screen depends on the run: the
# Docker version is fixed, and the tabs shown carry no times, ids or lab folder paths.
SIZE = (100, 32)
FIRST_HALF = WALK[:WALK.index("coturn-tls")]  # up to acme: the TURN certificate is there next


def wizard(lab):
    from app.cli import make_engine
    from tests.wizard_support import FixedDockerHost, quiet_app

    engine = make_engine(lab.root, lab.config, lab.state)
    engine.host = FixedDockerHost(lab.root, docker_endpoint=engine.config.docker.endpoint)
    return quiet_app(engine)


def keys(*pressed: str):
    from tests.wizard_support import settle

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in pressed:  # one at a time: a screen change and its workers settle in between
            await pilot.press(key)
            await settle(pilot)
    return run_before


def apply_and_verify(lab, steps: list[str]) -> None:
    for step in steps:
        done = hardstep(lab, "apply", step, "--yes")
        if step == AUDIT:
            continue  # judged by the last test: an audit, not a change
        assert done.returncode == 0, f"{step}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
        checks = checks_of(lab, step)
        # ok is None for a skipped check: every one must have run and passed, but for AppArmor on a
        # kernel without it (this machine's), which no lab can change.
        wrong = [c for c in checks if c["ok"] is not True and not (c["ok"] is None and NO_APPARMOR in c["detail"])]
        assert checks and not wrong, (step, wrong)


def test_the_welcome_screen_says_it_is_the_lab_and_what_runs(lab, snap_compare):
    """The lab opens on the welcome screen: what the lab is, what runs in it, all found running."""
    assert snap_compare(wizard(lab), terminal_size=SIZE, run_before=keys())


def test_the_first_half_of_the_walk_applies_and_verifies(lab):
    AS_BUILT.update({rel: (lab.root / rel).read_bytes() for rel in EDITED})
    config = tomlkit.parse(lab.config.read_text())
    config["sandbox"]["containers"] = SANDBOXED  # what the picker writes
    for option in ("disable_registration", "disable_guest_access", "disable_turn_guests"):
        config["synapse"][option] = True  # ticked in the plan, so their checks run too
    lab.config.write_text(tomlkit.dumps(config))

    before = {step: checks_of(lab, step) for step in ("synapse", "coturn-tls")}
    assert any(c["check"] == "publicRooms -> 401" and c["ok"] is False for c in before["synapse"])
    assert not all(c["ok"] for c in before["coturn-tls"])
    apply_and_verify(lab, FIRST_HALF)


def test_mid_walk_the_next_step_shows_its_plan(lab, snap_compare):
    """Half way: the steps so far verified, coturn-tls selected on its Plan tab (the files it edits)."""
    # The plan names where it read coturn's version: from the running server, so wait for it to run
    # (the acme step's first certificate made it reload).
    engine = lab_engine(lab.dir)
    try:
        deadline = time.monotonic() + 60
        while engine.client.containers.get("hslab-coturn").status != "running":
            assert time.monotonic() < deadline, "hslab-coturn does not run after the acme step"
            time.sleep(0.5)
    finally:
        engine.close()
    down = ["down"] * (WALK.index("coturn-tls") - WALK.index("private-network"))
    assert snap_compare(wizard(lab), terminal_size=SIZE, run_before=keys("c", *down, "2"))


def test_the_second_half_applies_and_verifies(lab):
    apply_and_verify(lab, WALK[len(FIRST_HALF):])
    directory = [c for c in checks_of(lab, "synapse") if c["check"] == "publicRooms -> 401"]
    assert directory and "401" in directory[0]["detail"], directory
    turns = {c["check"]: c["detail"] for c in checks_of(lab, "coturn-tls")}
    assert "pebble" in turns["TLS handshake"].lower(), turns  # the certificate acme got from the lab CA
    engine = lab_engine(lab.dir)
    try:
        assert engine.client.info()["LiveRestoreEnabled"] is True  # the daemon step acted on the lab's engine
        limits = engine.client.containers.get("hslab-element").attrs["HostConfig"]
        assert limits["PidsLimit"] == 50 and limits["Memory"] == 256 * 2**20
    finally:
        engine.close()

    # The CIS audit ran every item; those the walk's steps fix pass: the daemon's, and no container
    # mounts the socket but the proxies (read-only), apart from the stopped originals kept for
    # rollback (<name>-hardstep-<time>). Containers left out of the sandbox still fail.
    audit = {c["check"]: c for c in checks_of(lab, AUDIT)}
    assert all(c["ok"] is not None or NO_APPARMOR in c["detail"] for c in audit.values())
    for item in ("2.2", "2.14", "2.15", "2.16", "2.17"):
        assert [c["ok"] for name, c in audit.items() if name.startswith(item + " ")] == [True], item
    sockets = [c for name, c in audit.items() if name.startswith("5.32 ") and "-hardstep-" not in name]
    assert len(sockets) >= 8 and all(c["ok"] for c in sockets)
    assert all(c["ok"] or NO_APPARMOR in c["detail"] for name, c in audit.items() if name.endswith(tuple(SANDBOXED)))


def test_all_verified(lab, snap_compare):
    """The end of the walk: every step verified but the audit, which names what is left."""
    assert snap_compare(wizard(lab), terminal_size=SIZE, run_before=keys("c"))


def test_rolling_everything_back_leaves_the_files_as_built(lab):
    assert AS_BUILT, "the walk did not start"
    for step in reversed(WALK):
        done = hardstep(lab, "rollback", step, "--yes")
        assert done.returncode == 0, f"rollback {step}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    assert {rel: (lab.root / rel).read_bytes() for rel in EDITED} == AS_BUILT
