"""LocalHost, the host facade for this machine: real files under a root prefix in tmp_path, real
commands, this machine's /proc and /sys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.actions import back_up
from app.errors import CommandTimeout, HardstepError
from app.host import Host, LocalHost


def test_the_facade_is_abstract_and_local_host_implements_it():
    with pytest.raises(TypeError):
        Host()
    assert isinstance(LocalHost("/"), Host)


def test_files_live_under_the_root_prefix(tmp_path):
    host = LocalHost(tmp_path)
    assert host.read_text("/etc/x.conf") is None and host.read_bytes("/etc/x.conf") is None
    assert not host.exists("/etc/x.conf") and host.stat("/etc/x.conf") is None
    assert back_up(host, "/etc/x.conf", tmp_path / "backups") is None  # new: nothing to back up
    host.write_text("/etc/x.conf", "a = 1\n")
    assert (tmp_path / "etc/x.conf").read_text() == "a = 1\n"
    assert host.read_text("/etc/x.conf") == "a = 1\n" and host.read_bytes("/etc/x.conf") == b"a = 1\n"
    assert host.exists("/etc") and host.is_dir("/etc") and not host.is_dir("/etc/x.conf")
    assert host.machine_path("/etc/x.conf") == str(tmp_path / "etc/x.conf")
    with pytest.raises(HardstepError, match="not an absolute path"):
        host.read_text("etc/x.conf")


def test_write_text_backs_up_and_keeps_the_mode(tmp_path):
    host = LocalHost(tmp_path / "root")
    host.write_text("/opt/a.conf", "old\n")
    os.chmod(tmp_path / "root/opt/a.conf", 0o640)
    saved = back_up(host, "/opt/a.conf", tmp_path / "backups")
    host.write_text("/opt/a.conf", "new\n")
    assert saved is not None and saved.read_text() == "old\n" and saved.parent == tmp_path / "backups"
    assert host.read_text("/opt/a.conf") == "new\n"
    found = host.stat("/opt/a.conf")
    assert (found.mode, found.uid, found.gid) == (0o640, os.getuid(), os.getgid())


def test_unlink_and_the_leftovers_of_an_interrupted_write(tmp_path):
    host = LocalHost(tmp_path)
    host.write_text("/etc/a.conf", "a\n")
    leftover = tmp_path / "etc/.a.conf.k3j2.hardstep-tmp"
    other = tmp_path / "etc/.b.conf.k3j2.hardstep-tmp"
    leftover.write_text("half")
    other.write_text("half")
    assert host.remove_temp_files("/etc/a.conf") == [str(leftover)]
    assert not leftover.exists() and other.exists() and host.read_text("/etc/a.conf") == "a\n"
    assert host.remove_temp_files("/nowhere/a.conf") == []
    host.unlink("/etc/a.conf")
    host.unlink("/etc/a.conf")  # already gone: nothing happens
    assert not host.exists("/etc/a.conf")


def test_os_release_is_read_under_the_root(tmp_path):
    host = LocalHost(tmp_path)
    assert host.os_release() == {}
    host.write_text("/usr/lib/os-release", 'NAME="Debian GNU/Linux"\n# c\nVERSION_ID=\'12\'\n')
    assert host.os_release() == {"NAME": "Debian GNU/Linux", "VERSION_ID": "12"}


def test_run_takes_argument_lists_and_gives_the_output():
    host = LocalHost("/")
    done = host.run(["sh", "-c", 'cat; echo "LC_ALL=$LC_ALL" >&2; exit 3'], input="to stdin\n")
    assert (done.argv, done.returncode, done.stdout, done.stderr) == (
        ["sh", "-c", 'cat; echo "LC_ALL=$LC_ALL" >&2; exit 3'], 3, "to stdin\n", "LC_ALL=C\n")
    with pytest.raises(HardstepError, match="argument lists"):
        host.run("echo hi")
    with pytest.raises(FileNotFoundError):
        host.run(["hardstep-no-such-program"])


def test_a_command_that_runs_too_long_raises_the_hardstep_error():
    with pytest.raises(CommandTimeout, match=r"timed out after 0.3 seconds") as caught:
        LocalHost("/").run(["sleep", "10"], timeout=0.3)
    assert isinstance(caught.value, HardstepError)


def test_which_finds_programs_on_path(tmp_path, monkeypatch):
    host = LocalHost(tmp_path)  # the root prefix does not apply to PATH: programs run here
    assert host.which("sh") == shutil.which("sh") is not None
    assert host.which("hardstep-no-such-program") is None
    program = tmp_path / "bin" / "hardstep-probe"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{program.parent}:{os.environ['PATH']}")
    assert host.which("hardstep-probe") == str(program)


def test_processes_are_this_kernels_whatever_the_root(tmp_path):
    host = LocalHost(tmp_path)  # nothing under tmp_path: /proc is read from the running kernel
    child = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(30)",
                              "marker-arg"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "up\n"  # exec done: /proc shows the child, not the fork
        assert child.pid in host.process_ids()
        assert host.process_argv(child.pid)[-2:] == ["marker-arg", ""]  # cmdline ends in NUL
        assert host.process_name(child.pid).startswith("python")
        status = host.process_status(child.pid)
        assert status["Pid"] == str(child.pid) and "NoNewPrivs" in status
        pidfile = tmp_path / "daemon.pid"
        pidfile.write_text(f"{child.pid}\n")
        assert host.pid_from_file(str(pidfile)) == child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    gone = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process can have it
    assert host.process_argv(gone) is None and host.process_name(gone) is None
    assert host.process_status(gone) is None
    (tmp_path / "bad.pid").write_text("not a pid\n")
    assert host.pid_from_file(str(tmp_path / "bad.pid")) is None
    assert host.pid_from_file(str(tmp_path / "missing.pid")) is None


def test_engine_processes_are_visible_only_for_a_local_engine(monkeypatch):
    host = LocalHost("/")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert host.engine_processes_visible()
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert host.engine_processes_visible()
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.2:2376")
    assert not host.engine_processes_visible()


def test_kernel_security_flags_match_sys(tmp_path):
    host = LocalHost(tmp_path)
    enforce = Path("/sys/fs/selinux/enforce")
    assert host.selinux_enforcing() is (enforce.exists() and enforce.read_text().strip() == "1")
    flag = Path("/sys/module/apparmor/parameters/enabled")
    assert host.apparmor_enabled() is (flag.exists() and flag.read_text().strip() == "Y")
    profiles = host.apparmor_profiles()
    assert isinstance(profiles, list) and all(" (" not in name for name in profiles)
    assert host.uses_systemd() is Path("/run/systemd/system").is_dir()


def test_importing_the_facade_does_not_import_the_docker_sdk():
    code = "import sys, app.host; print(sorted(n for n in sys.modules if n.split('.')[0] == 'docker'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
