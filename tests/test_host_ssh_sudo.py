"""``SshHost`` logged in as a user other than root, on the REAL OpenSSH server of tests/fixtures_ssh.py:
``rancher`` (password-less sudo and the docker group, as BurmillaOS's console user) works as root
through sudo, with every safety of a root login; ``admin`` (sudo asks for a password, as on a
typical VPS) goes on with its own rights and says how to fix a permission denied."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.containers.commands import ask, read_file
from app.errors import CommandTimeout, DockerUnavailable, HardstepError
from tests.fixtures_ssh import ADMIN, RANCHER

pytestmark = pytest.mark.docker
OLD, NEW = "a: 1\nsecret: s3cr#t\n", "a: 2\nsecret: s3cr#t\n"


@pytest.fixture
def rancher(ssh_server):
    host = ssh_server.host(user=RANCHER)
    yield host
    host.close()


def test_as_rancher_a_root_only_file_is_edited_atomically_and_keeps_mode_and_owner(rancher, ssh_server):
    folder = ssh_server.folder / "root-only"
    folder.mkdir(mode=0o700)  # and pytest's own folders above it are root's, 0700
    target = folder / "daemon.json"
    target.write_text(OLD)
    os.chmod(target, 0o640)
    os.chown(target, 0, 992)
    inode = target.stat().st_ino
    assert rancher.privilege == "sudo"
    assert rancher.read_bytes(str(target)) == OLD.encode(), "the backup's read of a file only root may read"
    rancher.write_text(str(target), NEW)
    st = target.stat()
    assert target.read_text() == NEW and (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, 0, 992)
    assert st.st_ino != inode, "replaced by a rename, not rewritten in place"
    assert sorted(p.name for p in folder.iterdir()) == ["daemon.json"], "no temp file left"
    fresh = folder / "new" / "file.conf"
    rancher.write_text(str(fresh), "x\n")
    assert (fresh.stat().st_uid, fresh.stat().st_mode & 0o7777, fresh.parent.stat().st_uid) == (0, 0o644, 0), \
        "made by root, not by rancher"
    rancher.unlink(str(fresh))
    assert not fresh.exists() and rancher.read_text("/etc/shadow").startswith("root:")
    assert ssh_server.logins(RANCHER) == 1 and ssh_server.logins() == 0


def test_as_rancher_commands_run_as_root_and_a_timed_out_one_is_killed(rancher, ssh_server):
    assert rancher.run(["id", "-u"]).stdout == "0\n"
    hostile = "a b; $(id) `id` 'q' \"d\" \\ *"
    assert rancher.run(["printf", "%s|", hostile]).stdout == hostile + "|", "quoted through sudo's sh -c as well"
    assert rancher.run(["cat"], input="in\n").stdout == "in\n"
    assert rancher.which("sshd") == "/usr/sbin/sshd", "root's PATH (rancher's has no /usr/sbin)"
    with pytest.raises(FileNotFoundError):
        rancher.run(["no-such-program-hardstep"])
    _timed_out_is_killed(rancher, "7.321")
    # A host whose name does not resolve: sudo warns on stderr before the command starts.
    assert ssh_server.container.exec_run(["sh", "-c", "echo '127.0.0.1 localhost' > /etc/hosts"]).exit_code == 0
    done = rancher.run(["sh", "-c", "echo oops >&2"])
    assert "unable to resolve host" in done.stderr and done.stderr.endswith("oops\n")
    with pytest.raises(FileNotFoundError):
        rancher.run(["no-such-program-hardstep"])
    _timed_out_is_killed(rancher, "7.432")
    assert rancher.docker.ping(), "the docker group: the engine without sudo"


def _timed_out_is_killed(host, seconds: str) -> None:
    with pytest.raises(CommandTimeout, match=f"timed out after 0.5 seconds on ssh://{RANCHER}@"):
        host.run(["sleep", seconds], timeout=0.5)
    deadline = time.monotonic() + 3
    while (left := _running(f"sleep {seconds}".encode())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, "root's sleep was killed, and sudo and the login shell ended with it"


def _running(words: bytes) -> list[bytes]:
    """Command lines (pid_mode=host: the remote's processes are this kernel's) that hold ``words``."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = path.read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if words in line:
            found.append(line)
    return found


def test_as_admin_whose_sudo_needs_a_password_reads_what_it_may_and_says_how_to_fix_the_rest(ssh_server):
    admin = ssh_server.host(user=ADMIN)
    try:
        assert admin.privilege == "user" and admin.run(["id", "-un"]).stdout == "admin\n"
        assert admin.read_text("/etc/os-release") and admin.stat("/etc/passwd").mode == 0o644
        fix = (r"; connect as root \(User root in ~/.ssh/config, or root@ in the host's address\), or give admin "
               r"password-less sudo \(`sudo -n` failed: sudo: a password is required\)$")
        with pytest.raises(HardstepError, match=f"^permission denied writing /etc/hardstep.conf on "
                                                f"ssh://admin@hardstep-remote{fix}"):
            admin.write_text("/etc/hardstep.conf", "x\n")
        assert ssh_server.container.exec_run(["test", "-e", "/etc/hardstep.conf"]).exit_code == 1
        with pytest.raises(HardstepError, match=f"^permission denied reading /etc/shadow on .*{fix}"):
            admin.read_text("/etc/shadow")
        with pytest.raises(DockerUnavailable, match="admin on .* may not use the Docker engine .*add admin to the "
                                                    r"docker group there \(usermod -aG docker admin\), or connect as root"):
            admin.docker
    finally:
        admin.close()


def test_as_rancher_files_are_served_by_the_sftp_server_sshd_names(ssh_server):
    moved = "/usr/local/libexec/hardstep-test/sftp-server"
    assert ssh_server.container.exec_run(["sh", "-ec", f"""
        mkdir -p {os.path.dirname(moved)} && mv /usr/lib/openssh/sftp-server {moved}
        sed -i 's|^Subsystem.*sftp.*|Subsystem sftp {moved}|' /etc/ssh/sshd_config"""]).exit_code == 0
    host = ssh_server.host(user=RANCHER)
    try:
        assert host.privilege == "sudo" and host._rights().sftp_server == moved, "from `sshd -T`, not a usual path"
        host.write_text("/etc/hardstep-test.conf", "x\n")
        assert ask(ssh_server.container, ["stat", "-c", "%U %a", "/etc/hardstep-test.conf"]).output == "root 644\n"
    finally:
        host.close()
    ssh_server.container.exec_run(["rm", moved])
    refused = ssh_server.host(user=RANCHER)
    for _ in range(2):  # the connection closed with the refusal: the next use says it again
        with pytest.raises(HardstepError, match="^rancher on .* has password-less sudo, but no sftp-server .*"
                                                "apt-get install openssh-sftp-server"):
            refused.read_text("/etc/hostname")


def test_a_root_login_never_goes_through_sudo(ssh_server):
    """sudo logs every command it runs (the host's auth log): as root there is nothing to log."""
    assert ssh_server.container.exec_run(["sh", "-c", "echo 'Defaults logfile=/var/log/sudo.log' > "
                                          "/etc/sudoers.d/log && chmod 0440 /etc/sudoers.d/log"]).exit_code == 0
    for user, logged in ((None, False), (RANCHER, True)):
        host = ssh_server.host(user=user)
        try:
            assert host.run(["id", "-u"]).stdout == "0\n" and host.read_text("/etc/shadow")
        finally:
            host.close()
        log = read_file(ssh_server.container, "/var/log/sudo.log") or b""
        assert (b"COMMAND=" in log) == logged, log
