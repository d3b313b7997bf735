"""The host facade: the only place where hardstep touches the machine.

Three doors: the Docker engine (through the SDK, never the CLI), files under a root prefix
(``--root DIR`` maps ``/opt/x`` to ``DIR/opt/x`` for the practice lab and tests), and
subprocesses given as argument lists (never shell strings).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import DockerUnavailable, HardstepError
from app.fileops import atomic_write, backup

if TYPE_CHECKING:  # the SDK is imported where it is used, not at start-up
    import docker


class Host:
    def __init__(self, root: Path | str = "/", docker_timeout: int = 30):
        self.root = Path(root).resolve()
        self._docker_timeout = docker_timeout
        self._docker: "docker.DockerClient | None" = None

    # --- files -----------------------------------------------------------------------------
    def path(self, absolute: str) -> Path:
        """Where an absolute path of the managed host lives on this machine."""
        if not absolute.startswith("/"):
            raise HardstepError(f"internal: {absolute!r} is not an absolute path")
        return self.root / absolute.lstrip("/")

    def read_text(self, absolute: str) -> str | None:
        """The file's text, or None when it does not exist."""
        try:
            return self.path(absolute).read_bytes().decode("utf-8")
        except FileNotFoundError:
            return None
        except PermissionError:
            raise HardstepError(f"permission denied reading {absolute}; run hardstep as root") from None

    def write_text(self, absolute: str, text: str, backup_dir: Path | None) -> Path | None:
        """Back the file up (when it exists), then replace it atomically. Returns the backup.
        ``backup_dir=None``: the caller took the backup already (``EditFile.prepare``)."""
        target = self.path(absolute)
        saved = backup(target, backup_dir) if backup_dir is not None and target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)
        return saved

    def os_release(self) -> dict[str, str]:
        text = self.read_text("/etc/os-release") or self.read_text("/usr/lib/os-release") or ""
        fields: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                fields[key.strip()] = value.strip().strip('"').strip("'")
        return fields

    # --- docker ----------------------------------------------------------------------------
    @property
    def docker(self) -> "docker.DockerClient":
        """A connected SDK client; raises DockerUnavailable with what to do next."""
        if self._docker is None:
            import docker
            from docker.errors import DockerException

            try:
                client = docker.from_env(timeout=self._docker_timeout)
                client.ping()
            except DockerException as exc:
                raise DockerUnavailable(
                    f"Docker engine not reachable ({_short(exc)}); start it (systemctl start docker) "
                    "or set DOCKER_HOST"
                ) from None
            self._docker = client
        return self._docker

    def docker_version(self) -> str:
        return str(self.docker.version().get("Version", "unknown"))

    def docker_status(self) -> tuple[bool, str]:
        """(reachable, version or the reason it is not)."""
        try:
            return True, self.docker_version()
        except DockerUnavailable as exc:
            return False, str(exc)

    def selinux_enforcing(self) -> bool:
        try:
            return Path("/sys/fs/selinux/enforce").read_text().strip() == "1"
        except OSError:
            return False

    # --- subprocesses ----------------------------------------------------------------------
    def run(self, argv: list[str], timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
        if isinstance(argv, str) or not all(isinstance(a, str) for a in argv):
            raise HardstepError("internal: commands are argument lists, never shell strings")
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                              env={**os.environ, "LC_ALL": "C"})

    def close(self) -> None:
        if self._docker is not None:
            self._docker.close()
            self._docker = None


def _short(exc: Any) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
