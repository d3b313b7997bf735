"""The daemon step against a SECOND dockerd that the test starts in its own network namespace,
with its own config file (under hardstep's --root), data root, exec root, pidfile and socket,
so restarting it never touches the engine the other tests use."""

from __future__ import annotations

import pytest

from app.steps.cis.audit import daemon_items
from app.shared.engine_facts import flag_keys, gather
from app.editors.json_text import JsonEditError
from app.engine.model import Status
from app.host import LocalHost
from tests.fixtures_core import failing, make_engine
from tests.infra.second_engine import SecondEngine

pytestmark = pytest.mark.docker

SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
CHECKS = ["daemon.json has the settings", "icc off on the default bridge", "live-restore on",
          "no-new-privileges in a new container", "hardstep's seccomp profile is the default",
          "userland proxy off", "log rotation"]


def test_daemon_step_hardens_and_restarts_only_the_second_engine(tmp_path, unique, images, docker_client):
    config_file = tmp_path / "root" / "etc" / "docker" / "daemon.json"
    main_icc = docker_client.networks.get("bridge").attrs["Options"]["com.docker.network.bridge.enable_icc"]
    with SecondEngine(config_file, images=(images["busybox"],)) as second, second.aimed():
        original = config_file.read_text()
        second.client.containers.run(images["busybox"], SLEEPER, name="keeper", detach=True,
                                     restart_policy={"Name": "unless-stopped"})
        second.client.containers.run(images["busybox"], SLEEPER, name="loner", detach=True)
        engine = make_engine(tmp_path, unique, images,
                             docker={"restart_command": second.restart_argv(), "restart_timeout": 60})
        assert failing(engine.check("daemon")) == CHECKS
        cis = {name.split(" ")[0]: ok for name, ok, _, _ in daemon_items(gather(engine.host, images["busybox"]))}
        assert cis == dict.fromkeys(("2.2", "2.9", "2.14", "2.15", "2.16", "2.17"), False)

        plan = engine.plan("daemon")
        assert [type(a).__name__ for a in plan.actions] == ["ValidateDaemonConfig", "EditFile", "EditFile",
                                                            "RestartEngine"]
        restart = plan.actions[-1].summary
        assert "STAY STOPPED until you start them (no restart policy): loner" in restart
        assert "come back (restart policy): keeper" in restart
        assert any(n.startswith("Not ticked: userns-remap") for n in plan.notes)

        events = []
        outcome = engine.apply("daemon", plan, report=events.append)
        assert outcome.ok, (outcome.error, [(c.check, c.detail) for c in outcome.checks if c.ok is not True])
        assert [c.check for c in outcome.checks] == CHECKS
        assert any("running again: keeper; NOT running: loner" in e.message for e in events)
        text = config_file.read_text()
        assert text.startswith(original.rstrip()[:-2])  # the engine's own keys, byte for byte, first
        assert engine.plan("daemon").empty
        assert engine.status("daemon") == Status.VERIFIED

        # The CIS daemon items judge the same engine: all pass but the opt-in user namespaces.
        cis = {name.split(" ")[0]: ok for name, ok, _, _ in daemon_items(gather(engine.host, images["busybox"]))}
        assert cis == {"2.2": True, "2.9": False, "2.14": True, "2.15": True, "2.16": True, "2.17": True}

        rollback = engine.rollback_plan("daemon")
        assert "live-restore goes off, so the 1 running container stops" in rollback[-1].summary
        assert engine.rollback("daemon", rollback).ok
        assert config_file.read_text() == original
        # Docker leaves a restart-policy container stopped when live-restore goes off: hardstep starts it.
        assert [c.name for c in second.client.containers.list()] == ["keeper"]
        assert failing(engine.check("daemon")) == CHECKS

        # Swarm mode: live-restore is left out, with the reason, and its check is skipped.
        second.client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        notes = engine.plan("daemon").notes
        assert any("live-restore is left out: this engine is in swarm mode" in n for n in notes)
        assert "live-restore on" not in failing(engine.check("daemon"))
        engine.host.close()
    assert docker_client.networks.get("bridge").attrs["Options"]["com.docker.network.bridge.enable_icc"] == main_icc


def test_with_root_and_no_restart_command_the_machines_engine_is_never_restarted(tmp_path, unique, images,
                                                                                   docker_client):
    engine = make_engine(tmp_path, unique, images, docker={"userns_remap": True})
    plan = engine.plan("daemon")
    assert [type(a).__name__ for a in plan.actions] == ["ValidateDaemonConfig", "EditFile", "EditFile"]
    assert any("cannot restart the engine here (with --root" in n for n in plan.notes)
    assert '"userns-remap": "default"' in plan.actions[2].diff()
    assert any(n.startswith("userns-remap (opt-in)") and "--userns=host" in n for n in plan.notes)
    engine.host.close()


def test_an_invalid_daemon_json_is_refused_and_nothing_is_written(tmp_path, unique, images, docker_client):
    engine = make_engine(tmp_path, unique, images)
    path = "/etc/docker/daemon.json"
    engine.host.write_text(path, '{"icc": true,,}\n')
    with pytest.raises(JsonEditError, match="not valid JSON"):
        engine.plan("daemon")
    assert failing(engine.check("daemon")) == ["daemon.json has the settings"]
    assert engine.host.read_text(path) == '{"icc": true,,}\n'
    engine.host.close()


def test_keys_set_as_dockerd_flags_are_recognised():
    argv = ["--icc=false", "-H", "fd://", "--log-opt", "max-size=5m", "--live-restore", "--containerd=/x"]
    assert flag_keys(argv) >= {"icc", "log-opts", "live-restore", "containerd"}


class StandInHost(LocalHost):
    """Stand-in for a host this machine cannot be: a Docker 23+ engine (``dockerd --validate``) or
    a BurmillaOS root. This machine (root /) except for the engine version, the OS name and
    ``run``, which records its argv."""

    def __init__(self, version: str = "24.0.7", os_name: str = "Debian GNU/Linux", answer: int = 0):
        super().__init__("/")
        self.version, self.os_name, self.answer, self.ran = version, os_name, answer, []

    def docker_version(self) -> str:
        return self.version

    def os_release(self) -> dict[str, str]:
        return {"NAME": self.os_name}

    def run(self, argv, timeout=60, input=None):
        import subprocess

        self.ran.append((argv, input))
        return subprocess.CompletedProcess(argv, self.answer, "", "unknown directive: iccc")


def test_dockerd_validate_runs_on_newer_engines_and_refuses_before_anything_is_written():
    from app.engine.actions import ApplyContext
    from app.steps.daemon.actions import ValidateDaemonConfig
    from app.errors import ApplyError

    ctx = ApplyContext("daemon", backup_dir=None)
    accepted = StandInHost()
    ValidateDaemonConfig("/etc/docker/daemon.json", '{"icc": false}').apply(accepted, ctx)
    assert accepted.ran == [(["dockerd", "--validate", "--config-file", "/dev/stdin"], '{"icc": false}')]
    with pytest.raises(ApplyError, match="dockerd refuses the new /etc/docker/daemon.json: unknown directive"):
        ValidateDaemonConfig("/etc/docker/daemon.json", '{"iccc": false}').apply(StandInHost(answer=1), ctx)
    old = StandInHost(version="20.10.24+dfsg1")
    ValidateDaemonConfig("/etc/docker/daemon.json", "{}").apply(old, ctx)
    assert old.ran == []  # 20.10 has no --validate: skipped, said so in the log


def test_the_restart_command_is_detected_or_refused():
    from app.config.settings import Config
    from app.steps.daemon.actions import restart_command

    config = Config()
    assert restart_command(StandInHost(os_name="BurmillaOS"), config)[0] == ["system-docker", "restart", "docker"]
    from pathlib import Path

    argv, why = restart_command(StandInHost(), config)
    if Path("/run/systemd/system").is_dir():
        assert argv == ["systemctl", "restart", "docker"]
    else:  # these test machines run dockerd without systemd
        assert argv is None and "set [docker] restart_command" in why
    given = config.with_value("docker", "restart_command", ["/usr/local/bin/restart-docker"])
    assert restart_command(StandInHost(), given) == (["/usr/local/bin/restart-docker"], "[docker] restart_command")
