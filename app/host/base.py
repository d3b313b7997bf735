"""The host facade: the one door through which hardstep touches the managed machine.

Steps, actions and checks get a ``Host`` and never open files, start programs or read /proc
themselves, so another implementation can replace ``LocalHost`` without changing them:
``SshHost`` (app/host/ssh.py) is the host over SSH, driven from a laptop. What a ``Host`` offers:

- managed files, named by their absolute path on the host (``LocalHost(root=DIR)`` maps
  ``/opt/x`` to ``DIR/opt/x`` for the practice lab and the tests), symbolic links followed as
  the host follows them: a config linked into a Docker volume is read and written where it
  lives, and the link stays a link;
- the running system: the kernel's /proc and /sys, the engine's processes, the init system.
  These are never under the root prefix: a practice root holds files, not a kernel;
- commands, as argument lists (never shell strings), and the Docker engine through its SDK.

Network probes made from where hardstep runs (TLS handshakes, HTTP, TCP) are not the host's
business: they live in ``app.net``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import DockerUnavailable

if TYPE_CHECKING:  # the SDK is imported where it is used, not at start-up
    import docker


@dataclass(frozen=True)
class FileStat:
    """A file's permission bits and owner, kept when hardstep rewrites it."""

    mode: int  # permission bits only (``st_mode & 0o7777``)
    uid: int
    gid: int


@dataclass(frozen=True)
class CommandResult:
    """A finished command on the host: its argv, exit code and output."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


class Host(ABC):
    """Everything steps need from the managed machine. Paths are absolute host paths."""

    root: Path  # the prefix managed files live under; Path("/") for the machine itself
    remote: bool = False  # True when the host is another machine (reached over SSH)

    @property
    def label(self) -> str:
        """What messages call the host."""
        return "this machine"

    # --- managed files ---------------------------------------------------------------------
    def read_text(self, path: str) -> str | None:
        """The file's UTF-8 text, None when it does not exist; HardstepError when unreadable."""
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8")

    @abstractmethod
    def read_bytes(self, path: str) -> bytes | None:
        """The file's bytes, None when it does not exist; HardstepError when unreadable."""

    @abstractmethod
    def write_text(self, path: str, text: str) -> None:
        """Replace the file atomically (temp file + rename), keeping its mode, owner, ACL and
        extended attributes (SELinux label). Backups are the caller's:
        ``app.engine.actions.back_up`` keeps them where the state is."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """True when something (file, folder) is at ``path``."""

    @abstractmethod
    def is_dir(self, path: str) -> bool:
        """True when ``path`` is a folder."""

    @abstractmethod
    def stat(self, path: str) -> FileStat | None:
        """Mode, owner and group of the file (symlinks followed); None when it does not exist."""

    @abstractmethod
    def unlink(self, path: str) -> None:
        """Remove the file; nothing happens when it is already gone."""

    @abstractmethod
    def remove_temp_files(self, path: str) -> list[str]:
        """Remove what an atomic write of ``path`` killed before its rename left next to it
        (the file itself is intact). Returns what was removed."""

    @abstractmethod
    def machine_path(self, path: str) -> str:
        """``path`` as the managed machine itself names it: what to hand the Docker engine (bind
        mount sources, file paths in daemon.json) and commands started by ``run``, and what to
        compare the engine's mount sources with. Under a root prefix: prefix + path."""

    def os_release(self) -> dict[str, str]:
        """The fields of /etc/os-release (or /usr/lib/os-release); empty when neither exists."""
        text = self.read_text("/etc/os-release") or self.read_text("/usr/lib/os-release") or ""
        fields: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                fields[key.strip()] = value.strip().strip('"').strip("'")
        return fields

    # --- commands --------------------------------------------------------------------------
    @abstractmethod
    def run(self, argv: list[str], timeout: float = 60, input: str | None = None) -> CommandResult:
        """Run a program with ``LC_ALL=C`` and wait for it. ``input`` is its stdin (None: none).
        Raises CommandTimeout after ``timeout`` seconds and FileNotFoundError when the program
        is not there; HardstepError when ``argv`` is not a list of strings."""

    @abstractmethod
    def which(self, name: str) -> str | None:
        """The full path of program ``name`` on the host's PATH, None when it is not there."""

    # --- the running system (never under the root prefix) ----------------------------------
    @abstractmethod
    def kernel_text(self, path: str) -> str | None:
        """A file of the running system (/proc, /sys, /run), stripped; None when it cannot be read."""

    def selinux_enforcing(self) -> bool:
        """True when the running kernel enforces SELinux."""
        return self.kernel_text("/sys/fs/selinux/enforce") == "1"

    def apparmor_enabled(self) -> bool:
        """True when the running kernel has AppArmor switched on."""
        return self.kernel_text("/sys/module/apparmor/parameters/enabled") == "Y"

    def apparmor_profiles(self) -> list[str]:
        """Names of the AppArmor profiles loaded in the running kernel (empty when unreadable)."""
        text = self.kernel_text("/sys/kernel/security/apparmor/profiles") or ""
        return [line.split(" (")[0] for line in text.splitlines()]  # "name (enforce)"

    @abstractmethod
    def uses_systemd(self) -> bool:
        """True when the running system was booted with systemd."""

    @abstractmethod
    def engine_processes_visible(self) -> bool:
        """True when the Docker engine's processes (dockerd, docker-proxy, the containers' first
        processes) are among the processes this facade sees, i.e. the engine runs right here."""

    @abstractmethod
    def process_ids(self) -> list[int]:
        """The pids of every running process."""

    @abstractmethod
    def process_name(self, pid: int) -> str | None:
        """The process's command name (``comm``); None when it is gone or unreadable."""

    @abstractmethod
    def process_argv(self, pid: int) -> list[str] | None:
        """The process's command line as arguments; None when it is gone or unreadable."""

    def process_status(self, pid: int) -> dict[str, str] | None:
        """The kernel's status fields of the process (``NoNewPrivs``, ``Seccomp``...); None when
        it is gone or unreadable."""
        text = self.kernel_text(f"/proc/{int(pid)}/status")
        if text is None:
            return None
        return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}

    def pid_from_file(self, pidfile: str) -> int | None:
        """The pid a running daemon wrote to ``pidfile`` (a runtime file of the running system,
        like /var/run/docker.pid); None when missing or not a number."""
        text = self.kernel_text(pidfile)
        return int(text) if text and text.isdigit() else None

    # --- the Docker engine -----------------------------------------------------------------
    @property
    @abstractmethod
    def docker(self) -> "docker.DockerClient":
        """A connected SDK client; raises DockerUnavailable with what to do next."""

    def docker_version(self) -> str:
        return str(self.docker.version().get("Version", "unknown"))

    def docker_status(self) -> tuple[bool, str]:
        """(reachable, version or the reason it is not)."""
        try:
            return True, self.docker_version()
        except DockerUnavailable as exc:
            return False, str(exc)

    def acting_as(self) -> str:
        """Who hardstep is on the host, in words ("as root", "as rancher, root through sudo"); empty for
        this machine, where the user started it. Reaches the host."""
        return ""

    def connect(self) -> None:
        """Reach the host now, so a refused host key or login stops a command before the wizard
        takes the terminal; nothing to do for this machine."""

    def close(self) -> None:
        """Let go of connections (the Docker client); the facade can be used again after."""
