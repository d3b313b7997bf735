"""--host over a real OpenSSH server (``tests.fixtures_ssh``): one host's state in its own folder on
this machine, the outside view said once, and several hosts (two names of that server, each its
own connection and folder, and one where nothing listens) in one table with the worst exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.config.settings import Config, save_config
from tests.fixtures_core import docker_values
from tests.fixtures_ssh import ALIAS
from tests.test_cli_errors import ROOT, assert_one_line_error, hardstep

SECOND = f"{ALIAS}-2"  # the same server under a second name: a second host to hardstep


@pytest.fixture
def over_ssh(ssh_server, tmp_path, unique, images):
    """HOME with an ssh config naming the server twice, the settings of this test's names, and
    HARDSTEP_STATE_DIR: where the per-host folders go."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(ssh_server.config.read_text().replace(f"Host {ALIAS}", f"Host {ALIAS} {SECOND}"))
    settings = tmp_path / "settings.toml"
    save_config(Config(docker_values(unique, images)), settings)

    def run(*args: str, program: str = "app"):
        env = {**os.environ, "HOME": str(home), "HARDSTEP_STATE_DIR": str(tmp_path / "state")}
        if program == "app":
            return hardstep(*args, "--config", str(settings), env=env)
        return subprocess.run([sys.executable, "-m", program, *args, "--config", str(settings)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)

    return run


@pytest.mark.docker
def test_one_host_keeps_its_state_here_and_says_the_outside_view(over_ssh, tmp_path):
    done = over_ssh("--host", ALIAS, "apply", "private-network", "--yes")
    assert done.returncode == 0, done
    done = over_ssh("check", "private-network", "--host", ALIAS)
    assert done.returncode == 0, done
    assert done.stderr.count("(the outside view)") == 1
    folder = tmp_path / "state" / "hosts" / ALIAS
    state = json.loads((folder / "state.json").read_text())
    assert state["steps"]["private-network"]["status"] == "verified"
    assert any('"outcome": "ok"' in line for line in (folder / "audit.jsonl").read_text().splitlines())
    assert not (tmp_path / "state" / "state.json").exists()  # this machine's own state untouched


@pytest.mark.docker
def test_many_hosts_over_ssh_one_table_worst_exit(over_ssh, tmp_path):
    assert over_ssh("--host", ALIAS, "apply", "private-network", "--yes").returncode == 0
    done = over_ssh("check", "private-network", "--host", ALIAS, "--host", SECOND)
    assert done.returncode == 0, done
    assert done.stdout.splitlines() == ["host               private-network",
                                        f"{ALIAS}    verified",
                                        f"{SECOND}  verified"]
    assert (tmp_path / "state" / "hosts" / SECOND / "state.json").exists()  # its own folder

    done = over_ssh("check", "private-network", "socket-proxy", "--host", ALIAS, "--host", SECOND)
    assert done.returncode == 1, done  # the socket proxy was never applied: a check fails

    done = over_ssh("check", "private-network", "--host", ALIAS, "--host", "127.0.0.1:1")
    assert done.returncode == 2, done
    lines = done.stdout.splitlines()
    assert lines[1] == f"{ALIAS}  verified"
    assert lines[2].startswith("127.0.0.1:1      could not be checked: ") and "Traceback" not in done.stderr

    done = over_ssh("report", "--format", "json", "--host", ALIAS, "--host", SECOND)
    data = json.loads(done.stdout)
    assert done.returncode == 0, done
    assert [h["host"] for h in data["hosts"]] == [ALIAS, SECOND]
    assert data["hosts"][0]["report"]["host"]["remote"] is True


@pytest.mark.docker
def test_an_unknown_host_key_stops_the_command_with_its_fingerprint(over_ssh, ssh_server, tmp_path):
    known = ssh_server.known_hosts
    known.write_text("")  # the user never logged in to this host
    done = over_ssh("--host", ALIAS, "apply", "private-network", "--yes")
    assert_one_line_error(done, "is not in known_hosts", "SHA256:", "hardstep never trusts a key silently",
                          f"ssh-keyscan -p {ssh_server.port} 127.0.0.1 >> {known}")
    assert known.read_text() == "", "nothing was trusted"
    assert ssh_server.logins() == 0
    assert not (tmp_path / "state" / "hosts" / ALIAS / "audit.jsonl").exists(), "nothing was done"


@pytest.mark.docker
def test_the_wizard_over_ssh_with_an_unknown_host_key_stops_before_it_opens(over_ssh, ssh_server):
    ssh_server.known_hosts.write_text("")
    done = over_ssh("--host", ALIAS, program="screens.launch")  # the hardstep program: the wizard plugged in
    assert_one_line_error(done, "is not in known_hosts", "SHA256:")
    assert "\x1b[" not in done.stdout, "Textual never took the terminal"
