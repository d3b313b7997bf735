"""Host commands through ``nsenter`` into another process's namespaces, and the environment
variables the container image sets (HARDSTEP_ROOT, HARDSTEP_CONFIG, HARDSTEP_STATE_DIR,
HARDSTEP_HOST_NAMESPACES).

In the image, the target is PID 1 seen with ``--pid host``: the host's init. On this machine
PID 1's namespaces cannot be entered even as root (its /proc/1/ns links are refused), so the
"host" is a STAND-IN made here: a process started by ``unshare`` in new mount, UTS, IPC, network
and PID namespaces, with a folder bind-mounted over /usr/local/bin in its mount namespace only,
holding a program that exists nowhere else. The facade, nsenter and the kernel are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from app.cli import main
from app.host import LocalHost

PROGRAM = "hardstep-host-only"


@pytest.fixture
def other_host(tmp_path) -> Iterator[int]:
    """The pid of a process in namespaces of its own, where PROGRAM is on /usr/local/bin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / PROGRAM).write_text("#!/bin/sh\necho \"on the other host: $(hostname)\"\n")
    (bin_dir / PROGRAM).chmod(0o755)
    script = f"mount --bind {bin_dir} /usr/local/bin && hostname hs-other && touch {tmp_path}/ready && exec sleep 60"
    proc = subprocess.Popen(["unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "--mount-proc",
                             "--propagation", "private", "sh", "-c", script])
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "ready").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "unshare did not start"
            time.sleep(0.05)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        yield int(children[0])
    finally:
        proc.kill()
        proc.wait()


def _ns(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def test_with_host_namespaces_a_command_runs_in_the_targets_namespaces(other_host):
    host = LocalHost("/", host_namespaces=other_host)
    for kind in ("mnt", "uts", "ipc", "net"):
        seen = host.run(["readlink", f"/proc/self/ns/{kind}"]).stdout.strip()
        assert seen == _ns(other_host, kind) != _ns("self", kind), kind
    # PID namespace: nsenter forks, so the command is a process of the target's PID namespace.
    assert host.run(["readlink", "/proc/self/ns/pid"]).stdout.strip() == _ns(other_host, "pid") != _ns("self", "pid")
    # The host's programs, never this machine's: found and run in the target's mount namespace.
    assert host.which(PROGRAM) == f"/usr/local/bin/{PROGRAM}"
    done = host.run([PROGRAM])
    assert (done.returncode, done.stdout) == (0, "on the other host: hs-other\n")
    assert done.argv == [PROGRAM]  # what was asked for, as results and errors name it


def test_without_the_flag_commands_run_right_here_as_before(other_host):
    host = LocalHost("/")
    assert host.run(["readlink", "/proc/self/ns/mnt"]).stdout.strip() == _ns("self", "mnt")
    assert host.which(PROGRAM) is None


def test_the_cli_takes_root_config_state_and_namespaces_from_the_environment(tmp_path, monkeypatch, capsys,
                                                                              other_host):
    from app.cli.commands import make_engine

    root = tmp_path / "host"
    (root / "etc/hardstep").mkdir(parents=True)
    (root / "etc/hardstep/config.toml").write_text('[docker]\nprivate_network = "from-the-env-config"\n')
    monkeypatch.setenv("HARDSTEP_ROOT", str(root))
    monkeypatch.setenv("HARDSTEP_CONFIG", str(root / "etc/hardstep/config.toml"))
    monkeypatch.setenv("HARDSTEP_STATE_DIR", str(root / "var/lib/hardstep"))
    monkeypatch.setenv("HARDSTEP_HOST_NAMESPACES", str(other_host))
    engine = make_engine(None, None, None)
    assert engine.host.root == root and engine.host.host_namespaces == other_host
    assert engine.config.docker.private_network == "from-the-env-config"
    assert engine.state.dir == root / "var/lib/hardstep"
    assert main(["list", "--json"]) == 0
    assert {row["step"] for row in json.loads(capsys.readouterr().out)} >= {"private-network"}
    # The command line still wins over the environment.
    other = tmp_path / "other"
    other.mkdir()
    assert make_engine(other, tmp_path / "none.toml", tmp_path / "state").host.root == other


@pytest.mark.parametrize("value", ["yes", "0", "-1"])
def test_a_bad_host_namespaces_value_is_one_line_and_exit_2(value, monkeypatch, capsys):
    monkeypatch.setenv("HARDSTEP_HOST_NAMESPACES", value)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HARDSTEP_HOST_NAMESPACES" in err and "set 1" in err
