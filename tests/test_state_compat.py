"""A state folder written by hardstep 8d5eacf (private-network, socket-proxy and synapse applied)
still checks and rolls back: undo records are typed now, but state.json keeps their old JSON.

The live objects are made by applying the steps; the state folder is then replaced by the one
8d5eacf wrote for them (``tests/data/state-8d5eacf``, its ids and paths filled in), so what is
read back is the old format itself, not this version's output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app.cli import main
from app.engine.model import Status
from tests.fixtures_synapse import synapse, synapse_image, synapse_template  # noqa: F401  (fixtures)

FIXTURE = Path(__file__).parent / "data" / "state-8d5eacf"
STEPS = ("private-network", "socket-proxy", "synapse")


def old_state_folder(engine, values: dict[str, str]) -> None:
    for name in ("state.json", "audit.jsonl"):
        text = (FIXTURE / name).read_text()
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        (engine.state.dir / name).write_text(text)


@pytest.mark.docker
def test_state_written_by_8d5eacf_checks_and_rolls_back(synapse, docker_client, capsys):
    engine, original = synapse.engine, synapse.config_file.read_bytes()
    for step in STEPS:
        outcome = engine.apply(step)
        assert outcome.ok, (step, outcome.error, [(c.check, c.detail) for c in outcome.checks])
    docker = engine.config.docker
    network = docker_client.networks.get(docker.private_network)
    proxy = docker_client.containers.get(docker.socket_proxy_container)
    (backup,) = engine.state.backup_dir("synapse").iterdir()
    old_state_folder(engine, {
        "network": network.name, "network_id": network.id, "proxy": proxy.name, "proxy_id": proxy.id,
        "config": engine.config.synapse.config, "backup": str(backup), "url": synapse.url,
        "after_digest": hashlib.sha256(synapse.config_file.read_bytes()).hexdigest()})
    assert json.loads(engine.state.state_file.read_text())["steps"]["synapse"]["undo"][0]["backup"] == str(backup)
    cli = ["--root", str(engine.host.root), "--config", str(engine.config.path), "--state-dir", str(engine.state.dir)]

    assert main(["check", *STEPS, "--json", *cli]) == 0
    results = json.loads(capsys.readouterr().out)
    assert {r["step"] for r in results} == set(STEPS) and all(r["ok"] is not False for r in results)
    assert [engine.status(step) for step in STEPS] == [Status.VERIFIED] * 3
    assert main(["report", "--format", "json", *cli]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "Create the bridge network " + network.name in json.dumps(report)  # the old audit log reads

    for step in reversed(STEPS):
        assert main(["rollback", step, "--yes", *cli]) == 0, capsys.readouterr()
    assert synapse.config_file.read_bytes() == original
    assert not docker_client.networks.list(names=[network.name])
    assert not docker_client.containers.list(all=True, filters={"id": proxy.id})
    assert [engine.status(step) for step in STEPS] == [Status.PENDING] * 3
