"""``LocalHost``: the facade for the machine hardstep runs on.

Managed files live under a root prefix (``--root DIR`` maps ``/opt/x`` to ``DIR/opt/x`` for the
practice lab and tests). /proc, /sys and /run are read from this machine as they are: they are
the running kernel's and daemons', and a practice root has none of its own, so checks of the
engine (its flags, its containers' first processes) look at the real engine in both cases.

In hardstep's container image (run with ``--pid host``) the host's own programs are not in the
container: with ``host_namespaces=PID`` (the image sets ``HARDSTEP_HOST_NAMESPACES=1``) every
command runs through ``nsenter`` in that process's mount, UTS, IPC, network and PID namespaces
(PID 1: the host's init), and ``which`` looks in that process's root, so ``ros``, ``systemctl``,
``sshd -t`` and ``apparmor_parser`` are the host's.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from app.errors import CommandTimeout, DockerUnavailable, HardstepError, short_reason
from app.host.base import CommandResult, FileStat, Host
from app.fileops import atomic_write
from app.host.links import resolve_links

_NSENTER = ("nsenter", "--target")
# Not the user namespace: a container's root is the host's root, and entering it is refused.
_NAMESPACES = ("--mount", "--uts", "--ipc", "--net", "--pid")
_HOST_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

if TYPE_CHECKING:  # the SDK is imported where it is used, not at start-up
    import docker


class LocalHost(Host):
    def __init__(self, root: Path | str = "/", docker_timeout: int = 30, docker_endpoint: str = "",
                 host_namespaces: int | None = None):
        self.root = Path(root).resolve()
        self.host_namespaces = host_namespaces  # None: commands run right here
        self._docker_timeout = docker_timeout
        self._docker_endpoint = docker_endpoint  # empty: DOCKER_HOST, else the default socket
        self._docker: "docker.DockerClient | None" = None

    # --- managed files ---------------------------------------------------------------------
    def path(self, absolute: str) -> Path:
        """Where a host path lives on this machine, symbolic links followed as the host follows
        them (a config linked into a Docker volume is edited where it lives, and the link stays).
        Local only, not part of ``Host``: what holds a local Path cannot work on a remote host."""
        return self.root / str(self._resolve(absolute)).lstrip("/")

    def _resolve(self, absolute: str) -> PurePosixPath:
        """``absolute`` with every symbolic link in it followed, as the kernel does in a chroot at
        ``root``: an absolute link target is a host path (under the root prefix)."""
        def read_link(host_path: str) -> str | None:
            local = self.root / host_path.lstrip("/")
            return os.readlink(local) if local.is_symlink() else None

        return resolve_links(absolute, read_link)

    def read_bytes(self, absolute: str) -> bytes | None:
        try:
            return self.path(absolute).read_bytes()
        except FileNotFoundError:
            return None
        except PermissionError:
            raise HardstepError(f"permission denied reading {absolute}; run hardstep as root") from None

    def write_text(self, absolute: str, text: str) -> None:
        target = self.path(absolute)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)

    def exists(self, absolute: str) -> bool:
        return self.path(absolute).exists()

    def is_dir(self, absolute: str) -> bool:
        return self.path(absolute).is_dir()

    def stat(self, absolute: str) -> FileStat | None:
        try:
            st = self.path(absolute).stat()
        except FileNotFoundError:
            return None
        return FileStat(st.st_mode & 0o7777, st.st_uid, st.st_gid)

    def unlink(self, absolute: str) -> None:
        self.path(absolute).unlink(missing_ok=True)

    def remove_temp_files(self, absolute: str) -> list[str]:
        target = self.path(absolute)
        if not target.parent.is_dir():
            return []
        removed = []
        # The pattern atomic_write's mkstemp uses (fileops.py).
        for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.hardstep-tmp"):
            leftover.unlink(missing_ok=True)
            removed.append(str(leftover))
        return removed

    def machine_path(self, absolute: str) -> str:
        # The engine and commands run on this machine, so they see the prefixed path, links
        # resolved inside the root. Without a prefix the kernel follows links just so, and the
        # engine records a mount source as given: the path stays as written.
        local = str(self.path(absolute))
        return absolute if self.root == Path("/") else local

    # --- commands --------------------------------------------------------------------------
    def run(self, argv: list[str], timeout: float = 60, input: str | None = None) -> CommandResult:
        if isinstance(argv, str) or not all(isinstance(a, str) for a in argv):
            raise HardstepError("internal: commands are argument lists, never shell strings")
        entered = [*_NSENTER, str(self.host_namespaces), *_NAMESPACES, "--"] if self.host_namespaces else []
        try:
            done = subprocess.run([*entered, *argv], capture_output=True, text=True, timeout=timeout, input=input,
                                  env={**os.environ, "LC_ALL": "C"})
        except subprocess.TimeoutExpired as exc:
            raise CommandTimeout(str(exc)) from None  # the same words subprocess uses
        return CommandResult(list(argv), done.returncode, done.stdout, done.stderr)

    def which(self, name: str) -> str | None:
        if self.host_namespaces is None:
            return shutil.which(name)
        # The host's PATH dirs as the target process sees its root; the answer is the host's path.
        top = f"/proc/{self.host_namespaces}/root"
        found = shutil.which(name, path=os.pathsep.join(top + d for d in _HOST_PATH))
        return found[len(top):] if found else None

    # --- the running system: this machine's, whatever the root prefix ------------------------
    def kernel_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text().strip()
        except (OSError, UnicodeDecodeError):
            return None

    def uses_systemd(self) -> bool:
        return Path("/run/systemd/system").is_dir()

    def engine_processes_visible(self) -> bool:
        # A unix socket means the engine runs on this machine; tcp:// or ssh:// one is elsewhere.
        docker_host = self._docker_endpoint or os.environ.get("DOCKER_HOST", "")
        return not docker_host or docker_host.startswith("unix://")

    def process_ids(self) -> list[int]:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]

    def process_name(self, pid: int) -> str | None:
        return self.kernel_text(f"/proc/{int(pid)}/comm")

    def process_argv(self, pid: int) -> list[str] | None:
        try:
            data = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
        except OSError:
            return None
        return data.decode("utf-8", "replace").split("\0")

    # --- the Docker engine -----------------------------------------------------------------
    @property
    def docker(self) -> "docker.DockerClient":
        if self._docker is None:
            import docker
            from docker.errors import DockerException

            try:
                client = (docker.DockerClient(base_url=self._docker_endpoint, timeout=self._docker_timeout)
                          if self._docker_endpoint else docker.from_env(timeout=self._docker_timeout))
                client.ping()
            except DockerException as exc:
                raise DockerUnavailable(
                    f"Docker engine not reachable ({short_reason(exc)}); start it (systemctl start docker) "
                    + ("or fix [docker] endpoint" if self._docker_endpoint else "or set DOCKER_HOST")
                ) from None
            self._docker = client
        return self._docker

    def close(self) -> None:
        if self._docker is not None:
            self._docker.close()
            self._docker = None
