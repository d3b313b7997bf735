"""``SshHost``: the facade for another machine, reached over SSH from where hardstep runs.

One paramiko connection per ``SshHost``, opened on first use and reused for everything: SFTP for
files and /proc and /sys, exec channels for commands, and the Docker API (``ssh_docker``). The
remote's ``/`` is the root; /proc and /sys are the remote kernel's, so the engine's processes are
visible. Nothing is installed on the remote; Docker needs its ``docker`` CLI there. A user other
than root works as root through password-less sudo (``app.host.ssh_sudo``: ``privilege``). One
thread at a time talks SFTP (``one_at_a_time``); writes are atomic (``app.host.ssh_files``).
"""

from __future__ import annotations

import errno
import posixpath
import shlex
import stat
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import CommandTimeout, HardstepError
from app.host.base import CommandResult, FileStat, Host
from app.host.links import resolve_links
from app.host.ssh_files import atomic_write, one_at_a_time
from app.host.ssh_exec import MISSING, exec_command, split_pid, wrap
from app.host.ssh_proc import SCAN, command_lines
from app.host.ssh_connect import endpoint, open_client
from app.host.ssh_sudo import SUDO, Privilege, decide, sudo_sftp
from app.host.target import SshTarget

if TYPE_CHECKING:  # paramiko and the SDK are imported where they are used, not at start-up
    import docker
    import paramiko

_SCAN_FRESH = 2.0  # seconds a scan's command lines stand for a read of /proc/PID/cmdline


class SshHost(Host):
    remote = True

    def __init__(self, target: SshTarget, *, ssh_config: Path | None = None, docker_timeout: int = 30,
                 connect_timeout: float = 10):
        self.root = Path("/")
        self.target = target
        self._ssh_config = ssh_config  # None: ~/.ssh/config (no such file: no settings)
        self._docker_timeout = docker_timeout
        self._connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._client: "paramiko.SSHClient | None" = None
        self._sftp: "paramiko.SFTPClient | None" = None
        self._docker: "docker.DockerClient | None" = None
        self._privilege: Privilege | None = None  # decided once per connection
        self._scanned: tuple[float, dict[int, list[str] | None]] = (0.0, {})  # process_ids' command lines

    @property
    def label(self) -> str:
        return str(self.target)

    # --- the connection --------------------------------------------------------------------
    def connection(self) -> "paramiko.SSHClient":
        """The one connection, opened (again) when there is none."""
        with self._lock:
            transport = self._client.get_transport() if self._client is not None else None
            if transport is None or not transport.is_active():
                self._sftp = None
                if self._docker is not None:  # its pools hold channels of the lost connection
                    self._docker.close()
                    self._docker = None
                where = endpoint(self.target, self._ssh_config)
                client = open_client(self.target, where, self._connect_timeout)
                try:
                    self._privilege = decide(client.get_transport(), self.label, self._connect_timeout)
                except BaseException:
                    client.close()
                    raise
                self._client = client
            return self._client

    @property
    def privilege(self) -> str:
        """What hardstep runs as on the remote: "root", "sudo" or "user" (see ``app.host.ssh_sudo``)."""
        return self._rights().kind

    def acting_as(self) -> str:
        return self._rights().said

    def _rights(self) -> Privilege:
        with self._lock:
            self.connection()
            return self._privilege  # type: ignore[return-value]  # set with the connection

    def _files(self) -> "paramiko.SFTPClient":
        with self._lock:
            client, rights = self.connection(), self._rights()
            if self._sftp is None:
                self._sftp = (sudo_sftp(client.get_transport(), rights, self._connect_timeout) if rights.kind == SUDO
                              else client.open_sftp())
            return self._sftp

    # --- managed files ---------------------------------------------------------------------
    @one_at_a_time
    def _resolve(self, absolute: str) -> str:
        """``absolute`` with its links followed, as the remote kernel follows them."""
        files = self._files()

        def read_link(path: str) -> str | None:
            try:
                return files.readlink(path) if stat.S_ISLNK(files.lstat(path).st_mode or 0) else None
            except FileNotFoundError:
                return None

        return str(resolve_links(absolute, read_link))

    @one_at_a_time
    def read_bytes(self, absolute: str) -> bytes | None:
        _check_absolute(absolute)
        try:
            with self._files().open(absolute, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except PermissionError:
            raise self._rights().denied("reading", absolute, self.label) from None

    @one_at_a_time
    def write_text(self, absolute: str, text: str) -> None:
        try:
            atomic_write(self._files(), self._resolve(absolute), text.encode("utf-8"), self)
        except PermissionError:
            raise self._rights().denied("writing", absolute, self.label) from None

    def exists(self, absolute: str) -> bool:
        return self._stat(absolute) is not None

    def is_dir(self, absolute: str) -> bool:
        found = self._stat(absolute)
        return found is not None and stat.S_ISDIR(found.st_mode or 0)

    def stat(self, absolute: str) -> FileStat | None:
        found = self._stat(absolute)
        return None if found is None else FileStat((found.st_mode or 0) & 0o7777, found.st_uid or 0,
                                                   found.st_gid or 0)

    @one_at_a_time
    def _stat(self, absolute: str) -> "paramiko.SFTPAttributes | None":
        _check_absolute(absolute)
        try:
            return self._files().stat(absolute)
        except FileNotFoundError:
            return None

    @one_at_a_time
    def unlink(self, absolute: str) -> None:
        with suppress(FileNotFoundError):
            self._files().remove(self._resolve(absolute))

    @one_at_a_time
    def remove_temp_files(self, absolute: str) -> list[str]:
        folder, name = posixpath.split(self._resolve(absolute))
        try:
            names = self._files().listdir(folder)
        except FileNotFoundError:
            return []
        removed = []
        for found in names:
            if found.startswith(f".{name}.") and found.endswith(".hardstep-tmp"):
                with suppress(FileNotFoundError):
                    self._files().remove(f"{folder}/{found}")
                removed.append(f"{folder}/{found}")
        return removed

    def machine_path(self, absolute: str) -> str:
        return absolute  # the remote's engine and commands see its own paths, links and all

    # --- commands --------------------------------------------------------------------------
    def run(self, argv: list[str], timeout: float = 60, input: str | None = None) -> CommandResult:
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
            raise HardstepError("internal: commands are argument lists, never shell strings")
        code, out, err = self._exec(wrap(argv), timeout, input)
        pid, err = split_pid(err)
        if code is None:
            if pid.isdigit():
                self._exec(f"kill -KILL {pid}", 10, None)
            raise CommandTimeout(f"Command '{argv}' timed out after {timeout:g} seconds on {self.label}")
        if code == 127 and err.strip().endswith(MISSING):  # after any warning of sudo's
            raise FileNotFoundError(errno.ENOENT, f"No such file or directory on {self.label}", argv[0])
        return CommandResult(list(argv), code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def which(self, name: str) -> str | None:
        if not name or name.startswith("-"):
            return None
        code, out, _ = self._exec(f"command -v {shlex.quote(name)}", 30, None)
        found = out.decode("utf-8", "replace").strip()
        return found if code == 0 and found.startswith("/") else None  # not a builtin or an alias

    def _exec(self, command: str, timeout: float, input: str | None) -> tuple[int | None, bytes, bytes]:
        """Every command as root where sudo makes that possible (the kill of a timed-out one too)."""
        transport, command = self.connection().get_transport(), self._rights().as_root(command)
        return exec_command(transport, command, timeout, input, self._connect_timeout)

    # --- the running system: the remote kernel's ----------------------------------------------
    @one_at_a_time
    def _kernel_bytes(self, path: str) -> bytes | None:
        try:
            with self._files().open(path, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def kernel_text(self, path: str) -> str | None:
        data = self._kernel_bytes(path)
        try:
            return None if data is None else data.decode().strip()
        except UnicodeDecodeError:
            return None

    def uses_systemd(self) -> bool:
        return self.is_dir("/run/systemd/system")

    def engine_processes_visible(self) -> bool:
        return True  # the Docker API is the remote's own engine, whose processes its /proc shows

    def process_ids(self) -> list[int]:
        # One exec reads every command line too: a scan then asks process_argv of each pid.
        code, out, err = self._exec(SCAN, 60, None)
        scanned = None if code is None else command_lines(out, err.decode("utf-8", "replace"))
        if scanned is None:
            with self._lock:
                return [int(name) for name in self._files().listdir("/proc") if name.isdigit()]
        self._scanned = (time.monotonic(), scanned)
        return list(scanned)

    def process_name(self, pid: int) -> str | None:
        return self.kernel_text(f"/proc/{int(pid)}/comm")

    def process_argv(self, pid: int) -> list[str] | None:
        # From the last scan, each pid once and only right after it; else read now.
        taken, scanned = self._scanned
        if int(pid) in scanned and time.monotonic() - taken < _SCAN_FRESH:
            return scanned.pop(int(pid))
        data = self._kernel_bytes(f"/proc/{int(pid)}/cmdline")
        return None if data is None else data.decode("utf-8", "replace").split("\0")

    # --- the Docker engine -----------------------------------------------------------------
    @property
    def docker(self) -> "docker.DockerClient":
        with self._lock:
            self.connection()  # a lost connection is made again, and the client with it
            if self._docker is None:
                from app.errors import DockerUnavailable
                from app.host.ssh_docker import docker_over_ssh

                if self.which("docker") is None:
                    raise DockerUnavailable(
                        f"{self.label} has no docker command, which carries the Docker API over SSH "
                        "(docker system dial-stdio); install it there (Debian: apt-get install docker.io)")
                self._docker = docker_over_ssh(self.connection, self.label, self._rights().user, self._docker_timeout)
            return self._docker

    def connect(self) -> None:
        self.connection()

    def close(self) -> None:
        with self._lock:
            if self._docker is not None:
                self._docker.close()
                self._docker = None
            if self._sftp is not None:
                self._sftp.close()
                self._sftp = None
            if self._client is not None:
                self._client.close()
                self._client = None


def _check_absolute(path: str) -> None:
    if not path.startswith("/"):
        raise HardstepError(f"internal: {path!r} is not an absolute path")

