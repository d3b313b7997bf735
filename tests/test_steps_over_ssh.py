"""The engine over SSH: private-network, socket-proxy and synapse applied, checked and rolled back
on a REAL OpenSSH server (tests/fixtures_ssh.py) whose engine is the real one, through ``SshHost``
alone (logged in as root, and as a user with password-less sudo, as on BurmillaOS): the Docker API
over the SSH connection, homeserver.yaml edited on the remote over SFTP
(byte-identical after the rollback), state, audit log and backups on this side."""

from __future__ import annotations

import pytest

from app.config.settings import Config
from app.engine.model import Status
from app.engine.runner import Engine
from app.engine.state import StateStore
from app.editors.yaml_text import load_plain
from tests.fixtures_core import docker_values, failing
from tests.fixtures_ssh import RANCHER
from tests.fixtures_synapse import SERVER_NAME

pytestmark = pytest.mark.docker


def ssh_engine(ssh_server, tmp_path, config: Config, user: str | None = None) -> Engine:
    """As ``make_engine`` builds one, on the host over SSH (logged in as ``user``, None: root):
    state and backups stay on this side."""
    return Engine(ssh_server.host(user=user), config, StateStore(tmp_path / "state-ssh"))


def by_name(results) -> dict:
    return {r.check: r for r in results}


@pytest.mark.parametrize("user", [None, RANCHER], ids=["root", "rancher-with-sudo"])
def test_private_network_and_socket_proxy_over_ssh(ssh_server, tmp_path, unique, images, docker_client, user):
    engine = ssh_engine(ssh_server, tmp_path, Config(docker_values(unique, images)), user)
    try:
        assert engine.host.privilege == ("sudo" if user else "root")
        assert failing(engine.check_many(["private-network", "socket-proxy"])) == ["network exists", "proxy running"]
        first = engine.apply("private-network")
        assert first.ok, first.error
        second = engine.apply("socket-proxy")
        assert second.ok, (second.error, [(c.check, c.detail) for c in second.checks])
        assert by_name(second.checks)["GET /networks -> 403"].evidence["status"] == 403
        assert engine.status("socket-proxy") == Status.VERIFIED
        proxy = docker_client.containers.get(engine.config.docker.socket_proxy_container)  # the same engine
        assert list(proxy.attrs["NetworkSettings"]["Networks"]) == [engine.config.docker.private_network]
        assert all(r.ok is not False for r in engine.check_many(["private-network", "socket-proxy"]))
        assert engine.rollback("socket-proxy").ok and engine.rollback("private-network").ok
        assert not docker_client.containers.list(all=True, filters={"name": engine.config.docker.socket_proxy_container})
        assert not docker_client.networks.list(names=[engine.config.docker.private_network])
        assert ssh_server.logins(user or "root") == 1, "one connection served the whole run"
    finally:
        engine.host.close()


def test_synapse_over_ssh_edits_the_remote_file_and_rolls_back_byte_identical(ssh_server, synapse, tmp_path,
                                                                               unique, images):
    original = synapse.config_file.read_bytes()
    # The same settings as the local run's, the file named by its path on the remote (tmp_path is
    # mounted there at the same path).
    engine = ssh_engine(ssh_server, tmp_path, synapse.engine.config.with_value("synapse", "config",
                                                                               str(synapse.config_file)))
    try:
        before = by_name(engine.check("synapse"))
        assert before["publicRooms -> 401"].ok is False and before["directory closed in config"].ok is False
        outcome = engine.apply("synapse")
        assert outcome.ok, (outcome.error, [(c.check, c.detail) for c in outcome.checks])
        assert engine.status("synapse") == Status.VERIFIED
        assert b"allow_public_rooms_without_auth: false" in synapse.config_file.read_bytes()
        assert load_plain(synapse.config_file.read_text())["federation_domain_whitelist"] == [SERVER_NAME]
        (backup,) = engine.state.backup_dir("synapse").iterdir()
        assert backup.read_bytes() == original, "the backup lives on this side"
        back = engine.rollback("synapse")
        assert back.ok, back.error
        assert synapse.config_file.read_bytes() == original, "byte-identical after the rollback"
        assert by_name(engine.check("synapse"))["publicRooms -> 401"].ok is False
        assert sorted(p.name for p in synapse.config_dir.iterdir() if p.name.endswith(".hardstep-tmp")) == []
        assert ssh_server.logins() == 1, "one connection served the whole run"
    finally:
        engine.host.close()
