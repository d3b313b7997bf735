"""``SshHost`` against a REAL OpenSSH server (Debian's openssh-server in a container made by the
test, tests/fixtures_ssh.py) with the real engine's socket: files over SFTP with the safety of
local ones, commands with every argument quoted, the remote's /proc, the Docker API over the same
connection, and host keys checked strictly (unknown or changed: refused with the fingerprint)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.errors import CommandTimeout, HardstepError, HostKeyChanged, HostKeyUnknown, SshError
from tests.infra.ssh_server import ALIAS, keygen

pytestmark = pytest.mark.docker
OLD, NEW = "a: 1\nsecret: s3cr#t\n", "a: 2\nsecret: s3cr#t\n"


@pytest.fixture
def host(ssh_server):
    host = ssh_server.host()
    yield host
    host.close()


def fingerprint_of(public_key: Path) -> str:
    """``ssh-keygen -l``'s own words for the key: "256 SHA256:... comment (ED25519)"."""
    return subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True, capture_output=True,
                          text=True).stdout.split()[1]


def test_a_write_is_atomic_and_keeps_mode_and_owner(host, ssh_server):
    target = ssh_server.folder / "conf" / "homeserver.yaml"
    target.parent.mkdir()
    target.write_text(OLD)
    os.chmod(target, 0o640)
    os.chown(target, 991, 992)
    inode = target.stat().st_ino
    assert host.read_text(str(target)) == OLD and host.read_bytes(str(target)) == OLD.encode()
    host.write_text(str(target), NEW)
    assert target.read_text() == NEW
    st = target.stat()
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, 991, 992)
    assert st.st_ino != inode, "replaced by a rename, not rewritten in place"
    assert host.stat(str(target)).mode == 0o640 and (host.stat(str(target)).uid, host.stat(str(target)).gid) == (991, 992)
    assert sorted(p.name for p in target.parent.iterdir()) == ["homeserver.yaml"], "no temp file left"
    fresh = ssh_server.folder / "new" / "deep" / "file.conf"
    host.write_text(str(fresh), "x\n")
    assert fresh.read_text() == "x\n" and fresh.stat().st_mode & 0o7777 == 0o644 and fresh.stat().st_uid == 0
    assert host.exists(str(fresh)) and host.is_dir(str(fresh.parent)) and not host.is_dir(str(fresh))
    assert host.read_text(str(ssh_server.folder / "missing")) is None and host.stat(str(ssh_server.folder / "missing")) is None
    host.unlink(str(fresh))
    host.unlink(str(fresh))  # already gone: nothing happens
    assert not fresh.exists()


@pytest.mark.skipif(shutil.which("setfacl") is None, reason="Debian's acl package is missing: run 'make setup'")
def test_a_write_keeps_the_acl_and_extended_attributes(host, ssh_server):
    from tests.test_real_files import getfacl

    target = ssh_server.folder / "acl.yaml"
    target.write_text(OLD)
    os.chmod(target, 0o640)
    subprocess.run(["setfacl", "-m", "u:991:r,g:991:rw", str(target)], check=True)
    os.setxattr(target, "user.origin", b"compose")
    os.setxattr(target, "trusted.hardstep", b"1")
    acl, attrs = getfacl(target), {n: os.getxattr(target, n) for n in os.listxattr(target)}
    mode = target.stat().st_mode & 0o7777
    host.write_text(str(target), NEW)
    assert target.read_text() == NEW and getfacl(target) == acl and target.stat().st_mode & 0o7777 == mode
    assert {n: os.getxattr(target, n) for n in os.listxattr(target)} == attrs
    # A folder's default ACL gives the temp file an ACL the old file never had: not kept.
    plain = ssh_server.folder / "plain" / "plain.conf"
    plain.parent.mkdir()
    plain.write_text("a\n")
    os.chmod(plain, 0o644)
    subprocess.run(["setfacl", "-d", "-m", "u:991:rwx", str(plain.parent)], check=True)
    host.write_text(str(plain), "b\n")
    assert "system.posix_acl_access" not in os.listxattr(plain) and plain.stat().st_mode & 0o7777 == 0o644


def test_a_symlinked_config_is_written_where_it_lives_and_the_link_stays(host, ssh_server):
    volume = ssh_server.folder / "volumes" / "synapse_data" / "_data"
    volume.mkdir(parents=True)
    (volume / "homeserver.yaml").write_text(OLD)
    link = ssh_server.folder / "opt" / "homeserver.yaml"
    link.parent.mkdir()
    link.symlink_to("../volumes/synapse_data/_data/homeserver.yaml")
    host.write_text(str(link), NEW)
    assert link.is_symlink() and os.readlink(link) == "../volumes/synapse_data/_data/homeserver.yaml"
    assert (volume / "homeserver.yaml").read_text() == NEW and host.read_text(str(link)) == NEW
    leftover = volume / ".homeserver.yaml.k3j9x2ab.hardstep-tmp"  # an atomic write killed before its rename
    leftover.write_text("half")
    (volume / ".other.yaml.k3j9x2ab.hardstep-tmp").write_text("not ours")
    assert host.remove_temp_files(str(link)) == [str(leftover)]
    assert sorted(p.name for p in volume.iterdir()) == [".other.yaml.k3j9x2ab.hardstep-tmp", "homeserver.yaml"]
    assert host.machine_path(str(link)) == str(link), "the remote's engine follows its own links"


def test_commands_are_quoted_and_behave_as_local_ones(host):
    assert host.privilege == "root"  # no sudo in front (users other than root: tests/test_host_ssh_sudo.py)
    hostile = "a b; rm -rf / $(id) `id` 'q' \"d\" \\ *"
    done = host.run(["printf", "%s|", hostile, ""])
    assert (done.returncode, done.stdout, done.argv) == (0, hostile + "||", ["printf", "%s|", hostile, ""])
    assert host.run(["sh", "-c", 'echo "$LC_ALL"; echo oops >&2; exit 3']).__dict__ == {
        "argv": ["sh", "-c", 'echo "$LC_ALL"; echo oops >&2; exit 3'], "returncode": 3, "stdout": "C\n", "stderr": "oops\n"}
    assert host.run(["cat"], input="from stdin\n").stdout == "from stdin\n"
    assert host.run(["cat"]).stdout == ""  # no input: an empty stdin, not a hang
    with pytest.raises(FileNotFoundError):
        host.run(["no-such-program-hardstep"])
    assert host.run(["sh", "-c", "exit 127"]).returncode == 127, "a program's own 127 is not a missing program"
    with pytest.raises(CommandTimeout, match=r"Command '\['sleep', '7.123'\]' timed out after 0.5 seconds"):
        host.run(["sleep", "7.123"], timeout=0.5)
    time.sleep(0.2)
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if _read(p) == b"sleep\x007.123\x00"], \
        "killed, as subprocess.run kills its child (sshd would let it run)"
    with pytest.raises(HardstepError, match="argument lists"):
        host.run("echo hi")  # type: ignore[arg-type]
    assert host.which("sshd") == "/usr/sbin/sshd" and host.which("docker") == "/usr/bin/docker"
    assert host.which("no-such-program-hardstep") is None and host.which("cd") is None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_the_remote_proc_sees_this_machine_s_processes(host):
    """pid_mode=host: the remote's /proc is this kernel's, so this very test process is there."""
    me = os.getpid()
    odd = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "a b", f"{me}/cmdline:forged",
                            "line\nbreak", "", "é"])
    try:
        time.sleep(0.3)  # exec'd
        local = Path(f"/proc/{odd.pid}/cmdline").read_bytes().decode().split("\0")
        assert {me, odd.pid, 1} <= set(host.process_ids())
        assert odd.pid in host._scanned[1], "the scan's grep worked (no fallback to a read per process)"
        assert host.process_argv(odd.pid) == local, "from the one-exec scan"
        assert host.process_argv(odd.pid) == local, "read again, over SFTP"
        assert host.process_argv(me) == Path(f"/proc/{me}/cmdline").read_bytes().decode().split("\0")
    finally:
        odd.kill()
        odd.wait()
    assert host.process_name(me) == Path(f"/proc/{me}/comm").read_text().strip()
    assert host.process_argv(me) == Path(f"/proc/{me}/cmdline").read_bytes().decode().split("\0")
    assert host.process_status(me)["Pid"] == str(me)
    assert host.process_name(2 ** 22 + 1) is None and host.process_argv(2 ** 22 + 1) is None
    assert host.engine_processes_visible() and host.remote and host.label == "ssh://hardstep-remote"
    assert host.os_release()["ID"] == "debian"


def test_threads_sharing_the_host_each_get_their_own_answers(host, ssh_server):
    """The wizard's workers share one SshHost, so its one SFTP session is asked from several threads
    at once: each must get its own file, and none may wait forever for an answer another took."""
    files = {}
    for i in range(6):
        files[i] = ssh_server.folder / f"worker-{i}.txt"
        files[i].write_bytes(f"file {i}\n".encode() * (200 + i))
    answers: dict[int, list] = {i: [] for i in files}

    def worker(i: int) -> None:
        for _ in range(30):
            answers[i].append((host.read_bytes(str(files[i])), host.stat(str(files[i])).mode))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in files]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    assert not [t for t in threads if t.is_alive()], "a thread waits for an SFTP answer another thread took"
    for i, got in answers.items():
        assert got == [(files[i].read_bytes(), 0o644)] * 30


def test_docker_goes_over_the_same_connection(host, ssh_server):
    assert host.read_text("/etc/hostname")
    assert host.docker.ping() is True
    assert any(c.name == ssh_server.container.name for c in host.docker.containers.list())
    host.run(["true"])
    assert host.docker_status() == (True, host.docker.version()["Version"])
    transport = host.connection().get_transport()
    pools = host.docker.api._custom_adapter.pools
    assert [pools[url].ssh_transport for url in pools.keys()] == [transport]
    assert ssh_server.logins() == 1, "files, commands and Docker share one login"
    # Without it each small request waits on Nagle for the ACK of its first packet (a check ran 1.4x slower).
    assert transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    host.close()
    assert host.read_text("/etc/hostname") and host.docker.ping()
    assert ssh_server.logins() == 2, "used again after close: one new connection"
    host.connection().get_transport().close()  # the connection drops (a network hiccup)
    assert host.docker.ping() and host.read_text("/etc/hostname")
    assert ssh_server.logins() == 3, "reconnected once, for Docker and files alike"


def test_no_docker_cli_on_the_remote_says_what_to_install(host, ssh_server):
    ssh_server.container.exec_run(["rm", "/usr/bin/docker"])
    from app.errors import DockerUnavailable

    with pytest.raises(DockerUnavailable, match="has no docker command.*apt-get install docker.io"):
        host.docker
    assert host.docker_status()[0] is False


def test_an_unknown_host_key_is_refused_with_its_fingerprint(ssh_server):
    ssh_server.known_hosts.write_text("")
    host = ssh_server.host()
    with pytest.raises(HostKeyUnknown) as refused:
        host.read_text("/etc/hostname")
    message = str(refused.value)
    assert refused.value.exit_code == 2 and "\n" not in message
    assert f"ssh-ed25519 {fingerprint_of(ssh_server.host_key)}" in message
    assert f"ssh -p {ssh_server.port} root@127.0.0.1" in message
    assert f"ssh-keyscan -p {ssh_server.port} 127.0.0.1 >> {ssh_server.known_hosts}" in message
    assert ssh_server.known_hosts.read_text() == "", "never trusted silently"
    assert ssh_server.logins() == 0


def test_a_changed_host_key_is_refused_as_a_possible_attack(ssh_server):
    other = keygen(ssh_server.dir / "other", "someone-else").with_suffix(".pub")
    kind, key = other.read_text().split()[:2]
    ssh_server.known_hosts.write_text(f"[127.0.0.1]:{ssh_server.port} {kind} {key}\n")
    with pytest.raises(HostKeyChanged) as refused:
        ssh_server.host().read_text("/etc/hostname")
    message = str(refused.value)
    assert "CHANGED, possibly an attack" in message and refused.value.exit_code == 2
    assert f"known_hosts has ssh-ed25519 {fingerprint_of(other)}" in message
    assert f"the host offers ssh-ed25519 {fingerprint_of(ssh_server.host_key)}" in message
    assert f"ssh-keygen -R '[127.0.0.1]:{ssh_server.port}' -f {ssh_server.known_hosts}" in message
    assert ssh_server.logins() == 0


def test_a_host_reached_by_its_ipv6_address_is_checked_as_strictly(ssh_server):
    from app.host.ssh import SshHost
    from app.host.target import parse_target

    target = parse_target(f"ssh://root@[::1]:{ssh_server.port6}")
    host = SshHost(target, ssh_config=ssh_server.config)
    try:
        assert host.run(["id", "-u"]).stdout == "0\n" and host.read_text("/etc/hostname")
        assert host.label == f"ssh://root@[::1]:{ssh_server.port6}"
        assert target.label == f"root@ipv6---1_{ssh_server.port6}"
    finally:
        host.close()
    # Its known_hosts name is OpenSSH's: [::1]:port. Without it, refused like any other host.
    ssh_server.known_hosts.write_text("".join(line + "\n" for line in ssh_server.known_hosts.read_text().splitlines()
                                              if not line.startswith("[::1]")))
    with pytest.raises(HostKeyUnknown) as refused:
        SshHost(target, ssh_config=ssh_server.config).read_text("/etc/hostname")
    assert f"the host key of [::1]:{ssh_server.port6} is not in known_hosts" in str(refused.value)
    assert f"ssh-keyscan -p {ssh_server.port6} ::1 >> {ssh_server.known_hosts}" in str(refused.value)
    assert ssh_server.logins() == 1


def test_a_host_behind_a_jump_host_is_reached_through_it(ssh_server):
    """ProxyJump: the jump host is the test server; the host behind it is that server's own sshd
    at 127.0.0.1:22 as the jump host sees it (so that login comes from 127.0.0.1, not from here)."""
    from app.host.ssh import SshHost
    from app.host.target import parse_target

    with ssh_server.config.open("a") as config:
        config.write(f"Host behind\n  HostName 127.0.0.1\n  Port 22\n  User root\n  ProxyJump {ALIAS}\n"
                     f"  UserKnownHostsFile {ssh_server.known_hosts}\n  IdentityFile {ssh_server.user_key}\n")
    kind, key = ssh_server.host_key.read_text().split()[:2]
    trusted = ssh_server.known_hosts.read_text()
    host = SshHost(parse_target("behind"), ssh_config=ssh_server.config)
    with pytest.raises(HostKeyUnknown, match="the host key of 127.0.0.1 is not in known_hosts"):
        host.read_text("/etc/hostname")  # the host behind has its own entry, checked as strictly
    assert ssh_server.logins() == 1  # the jump host only
    ssh_server.known_hosts.write_text(trusted + f"127.0.0.1 {kind} {key}\n")
    try:
        assert host.run(["id", "-u"]).stdout == "0\n" and host.read_text("/etc/hostname")
        log = ssh_server.container.logs().decode()
        assert "Accepted publickey for root from 127.0.0.1 " in log  # through the jump host's tunnel
    finally:
        host.close()
    with ssh_server.config.open("a") as config:  # a jump host that cannot reach the next one
        config.write(f"Host nowhere\n  HostName 127.0.0.1\n  Port 1\n  ProxyJump {ALIAS}\n")
    with pytest.raises(SshError, match="the jump host would not connect to 127.0.0.1 port 1"):
        SshHost(parse_target("nowhere"), ssh_config=ssh_server.config).read_text("/etc/hostname")


def test_the_agent_is_used_when_the_config_names_no_key(ssh_server, tmp_path, monkeypatch):
    ssh_server.write_config(identity=False)
    hidden = shutil.move(ssh_server.user_key, tmp_path / "agent-only-key")  # not where paramiko looks
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.ssh/id_* either
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(SshError, match="refused the login as root.*ssh-add"):
        ssh_server.host().read_text("/etc/hostname")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        subprocess.run(["ssh-add", "-q", str(hidden)], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                       capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        host = ssh_server.host()
        assert host.read_text("/etc/os-release")
        host.close()
    finally:
        agent.terminate()
        agent.wait()


def test_an_unreachable_host_is_one_line_with_what_to_do(ssh_server):
    ssh_server.container.stop(timeout=1)
    with pytest.raises(SshError) as failed:
        ssh_server.host(connect_timeout=3).read_text("/etc/hostname")
    assert "cannot connect to 127.0.0.1 port" in str(failed.value) and "\n" not in str(failed.value)
    assert f"try: ssh -p {ssh_server.port} root@127.0.0.1" in str(failed.value)
