"""Bad input ends in one line naming the problem, exit code 2, no traceback, nothing written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def hardstep(*args, env=None, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def assert_one_line_error(done, *words):
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hardstep: error:")
    for word in words:
        assert word in lines[0]


def test_malformed_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[docker\nprivate_network = 'x'\n")
    done = hardstep("--config", str(config), "--state-dir", str(tmp_path / "state"), "check")
    assert_one_line_error(done, "not valid TOML", str(config))
    assert not (tmp_path / "state").exists()


def test_invalid_value_names_the_key(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[turn]\ndomain = "not a host"\n')
    done = hardstep("--config", str(config), "--state-dir", str(tmp_path / "state"), "list")
    assert_one_line_error(done, "[turn] domain")
    assert not (tmp_path / "state").exists()


def test_unknown_step(tmp_path):
    done = hardstep("--config", str(tmp_path / "none.toml"), "--state-dir", str(tmp_path / "s"), "plan", "firewall")
    assert_one_line_error(done, "unknown step 'firewall'", "private-network")
    assert not (tmp_path / "s").exists()


def test_docker_unreachable(tmp_path):
    done = hardstep("--config", str(tmp_path / "none.toml"), "--state-dir", str(tmp_path / "s"), "check",
                    env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert_one_line_error(done, "Docker engine not reachable")
    assert not (tmp_path / "s").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the file to another user")
def test_permission_denied_on_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[docker]\nprivate_network = "x"\n')
    config.chmod(0o600)
    os.chown(config, 4321, 4321)
    # root without the capabilities that bypass file permissions: a plain admin's view of the file
    no_bypass = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--")
    done = hardstep("--config", str(config), "--state-dir", str(tmp_path / "s"), "list", prefix=no_bypass)
    assert_one_line_error(done, "permission denied", str(config))
    assert not (tmp_path / "s").exists()


def test_apply_without_terminal_needs_yes(tmp_path):
    done = hardstep("--config", str(tmp_path / "none.toml"), "--state-dir", str(tmp_path / "s"), "rollback",
                    "private-network")
    # nothing recorded yet, so there is nothing to roll back: exit 0 without asking
    assert done.returncode == 0, done.stderr
    assert "nothing to roll back" in done.stdout
