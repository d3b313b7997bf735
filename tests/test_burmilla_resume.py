"""The BurmillaOS upgrade reboots the host: hardstep is killed mid-apply and must pick up after.

A real ``hardstep`` subprocess applies the step on a RancherOS root; the stand-in ``ros`` rewrites
os-release and then "reboots" by SIGKILLing that process (ROS_STANDIN_REBOOT=kill-parent, set
only in the subprocess's environment). A second subprocess, as after reconnecting, checks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.config.settings import Config, save_config
from tests.test_burmilla_step import (CHANNEL, OLD_CHANNEL, changing_calls, ros_root, ros_state,
                                      standin_env, write_ros_state)

pytestmark = pytest.mark.docker
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def host(tmp_path, unique, docker_client):
    """A RancherOS 1.5.5 root on the ubuntu console, and a function that runs hardstep on it."""
    root = ros_root(tmp_path, "rancheros-1.5.5", console="ubuntu")
    save_config(Config({"traefik": {"container": unique("proxy")}}), tmp_path / "config.toml")

    def hardstep(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "app", "--root", str(root), "--config", str(tmp_path / "config.toml"),
             "--state-dir", str(tmp_path / "state"), *args],
            cwd=PROJECT, capture_output=True, text=True, timeout=120,
            env={**os.environ, **standin_env(root), **env})

    hardstep.root = root
    hardstep.state = tmp_path / "state" / "state.json"
    return hardstep


def test_the_upgrade_reboot_kills_hardstep_and_the_next_start_verifies(host):
    applied = host("apply", "burmilla", "--yes", ROS_STANDIN_REBOOT="kill-parent")
    assert applied.returncode == -signal.SIGKILL, applied.stderr
    assert "run hardstep again" in applied.stdout  # printed before the upgrade ran
    assert 'NAME="BurmillaOS"' in (host.root / "etc/os-release").read_text()
    flight = json.loads(host.state.read_text())["steps"]["burmilla"]["in_flight"]
    assert flight["summary"] == "Upgrade RancherOS v1.5.5 to BurmillaOS v1.9.6 (the host reboots)"

    checked = host("check", "burmilla")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "upgraded from RancherOS v1.5.5 to BurmillaOS v1.9.6" in checked.stdout
    assert json.loads(host.state.read_text())["steps"]["burmilla"]["status"] == "verified"
    assert host("plan", "burmilla").stdout.strip() == "burmilla: nothing to do, this host already has it."

    # Rollback still knows what the killed run changed, and that it cannot undo the OS.
    rolled = host("rollback", "burmilla", "--yes")
    assert rolled.returncode == 0, rolled.stderr
    assert "sudo ros os upgrade -f -i rancher/os:v1.5.5" in rolled.stdout
    assert (ros_state(host.root)["console"], ros_state(host.root)["upgrade_url"]) == ("ubuntu", OLD_CHANNEL)


def test_after_the_reboot_a_disagreeing_ros_asks_for_a_second_one(host):
    applied = host("apply", "burmilla", "--yes", ROS_STANDIN_REBOOT="kill-parent", ROS_STANDIN_QUIRK="second-reboot")
    assert applied.returncode == -signal.SIGKILL, applied.stderr
    assert changing_calls(host.root)[-2:] == [["config", "set", "rancher.upgrade.url", CHANNEL],
                                              ["os", "upgrade", "-f", "-i", "burmilla/os:v1.9.6"]]
    checked = host("check", "burmilla")
    assert checked.returncode == 1
    assert "a second reboot is needed" in checked.stdout and "sudo reboot" in checked.stdout
    write_ros_state(host.root, ros_version=None)  # the second reboot
    assert host("check", "burmilla").returncode == 0
