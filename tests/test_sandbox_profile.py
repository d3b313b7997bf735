"""Pure parts of the sandbox and daemon settings: sizes, commands, the new config keys, roles."""

from __future__ import annotations

import pytest

from app.config.settings import Config
from app.errors import ConfigError
from app.containers.recreate import Twin
from app.shared.container_security import view
from app.steps.sandbox.profile import overrides, role_of, sandbox_for
from app.config.units import format_size, is_argv, parse_size


def test_sizes_read_like_docker_run_memory():
    assert parse_size("256m") == 256 * 2**20 and parse_size("1G") == 2**30 and parse_size("512") == 512
    assert [parse_size(v) for v in ("", "0", "1.5g", "-1m", "10 m", 256, None)] == [None] * 7
    assert [format_size(v) for v in (256 * 2**20, 2**30, 1536, 0, -1, None)] == \
        ["256m", "1g", "1536b", "unlimited", "unlimited", "unlimited"]


def test_commands_are_argument_lists():
    assert is_argv([]) and is_argv(["systemctl", "restart", "docker"]) and is_argv(["/bin/sh", "/x y.sh"])
    for bad in ("systemctl restart docker", ["sh;rm", "x"], ["sh", "a\nb"], ["sh", ""], ["sh", 1]):
        assert not is_argv(bad), bad


@pytest.mark.parametrize("section, key, value, message", [
    ("sandbox", "memory", "4m", "at least 6m"),
    ("sandbox", "pids_limit", 0, "from 1 to 1000000"),
    ("sandbox", "cpus", 0.001, "from 0.01 to 1024"),
    ("sandbox", "cpus", "1", "must be a number"),
    ("sandbox", "containers", ["ok", "bad name"], "must list container names"),
    ("docker", "restart_command", "systemctl restart docker", "must be a list"),
    ("docker", "restart_command", ["systemctl", "re\x00start"], "without control characters"),
    ("docker", "log_max_size", "ten", "is not a size"),
])
def test_new_settings_are_validated(section, key, value, message):
    with pytest.raises(ConfigError, match=message):
        Config({section: {key: value}})


def test_defaults_follow_the_reference():
    config = Config()
    s = config.sandbox
    assert (s.containers, s.memory, s.pids_limit, s.cpus) == ([], "256m", 50, 1.0)
    assert (config.docker.daemon_config, config.docker.restart_command) == ("/etc/docker/daemon.json", [])
    assert Config({"sandbox": {"cpus": 2}}).sandbox.cpus == 2.0


def attrs(name: str, image: str, mounts=(), network="bridge", **host_config) -> dict:
    return {"Name": f"/{name}", "Id": "0" * 64, "Config": {"Image": image, "Env": []},
            "HostConfig": {"NetworkMode": network, **host_config},
            "Mounts": [{"Type": "volume", "Name": f"v{i}", "Destination": d, "RW": True} for i, d in enumerate(mounts)],
            "NetworkSettings": {"Networks": {network: {}}}}


def test_roles_are_suggested_from_name_and_image():
    config = Config()
    assert role_of(attrs("db", "postgres:16"), config).name == "database"
    assert role_of(attrs("matrix", "matrixdotorg/synapse:v1.120"), config).name == "synapse"
    assert role_of(attrs("dockerproxy", "tecnativa/docker-socket-proxy"), config).limits_only
    assert role_of(attrs("coturn", "coturn/coturn", network="host"), config).keep_caps == ("NET_BIND_SERVICE",)
    assert role_of(attrs("element", "vectorim/element-web"), config).name == "service"


def test_a_database_keeps_its_data_writable_and_gets_more_memory():
    config = Config()
    on_volume = sandbox_for(attrs("db", "postgres:16", mounts=["/var/lib/postgresql/data"]), config)
    assert on_volume.read_only and on_volume.memory == 2**30
    loose = sandbox_for(attrs("db", "postgres:16"), config)
    assert not loose.read_only and "not on a volume" in loose.notes[0]


def test_overrides_keep_unnamed_volumes_and_other_security_options():
    weak = attrs("db", "postgres:16", mounts=["/var/lib/postgresql/data"], CapAdd=["CAP_SYS_ADMIN", "CHOWN"],
                 SecurityOpt=["label=disable", "seccomp=unconfined"], Binds=["/srv/conf:/etc/app:ro"])
    result = overrides(weak, sandbox_for(weak, Config()))
    twin = Twin(weak, host_config=result)  # the sandbox recreates through a Twin
    assert twin.creation_config()["HostConfig"]["Binds"] == ["/srv/conf:/etc/app:ro", "v0:/var/lib/postgresql/data"]
    assert result["CapAdd"] == ["CHOWN"] and result["Privileged"] is False
    assert result["SecurityOpt"][:2] == ["label=disable", "no-new-privileges"]
    after = view({**weak, "HostConfig": {**weak["HostConfig"], **result}})
    assert (after["seccomp"], after["no-new-privileges"], after["memory"]) == ("hardstep profile", "yes", "1g")
