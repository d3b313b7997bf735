"""A second, throw-away Docker engine for tests that must restart an engine.

It runs in its own network namespace, so its iptables rules and bridges never touch the engine
the other tests use, with its own config file, data root, exec root, pidfile and socket (all in
the config file, so a restart needs nothing but ``--config-file``). ``ip netns exec`` does not
work here (it remounts /sys and dockerd then fails with "Devices cgroup isn't mounted"), so
dockerd is started with ``nsenter --net=/var/run/netns/NS``. The netns starts with ``lo`` down:
it is brought up so ports published on 127.0.0.1 work.

    with SecondEngine(config_file) as engine, engine.aimed():   # started, busybox loaded
        engine.client.containers.run(...)           # hardstep's own client goes there too
        restart = engine.restart_argv()             # restarts THIS dockerd only
        engine.stop(); engine.restart()             # gone (as if it crashed), then back

Leaves nothing behind: containers removed, dockerd stopped, mounts under its folder unmounted,
the netns deleted, the folder removed, also when the test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import docker

START_TIMEOUT = 60


class SecondEngine:
    def __init__(self, config_file: Path, images: tuple[str, ...] = ()):
        self.config_file = Path(config_file)
        self.images = images
        # Short paths: containerd's sockets live under the exec root (unix socket paths max 108 bytes).
        # /var/tmp, not /tmp: on disk, where overlay2 works.
        self.dir = Path(tempfile.mkdtemp(prefix="hst-eng-", dir="/var/tmp"))
        self.netns = f"hst-{secrets.token_hex(4)}"
        self.socket = self.dir / "docker.sock"
        self.pidfile = self.dir / "docker.pid"
        self.log = self.dir / "dockerd.log"
        self.client: docker.DockerClient | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def base_config(self) -> dict:
        return {"data-root": str(self.dir / "data"), "exec-root": str(self.dir / "exec"),
                "pidfile": str(self.pidfile), "hosts": [self.docker_host]}

    # --- life cycle ----------------------------------------------------------------------
    def __enter__(self) -> "SecondEngine":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if not self.config_file.exists():
            self.config_file.parent.mkdir(parents=True, exist_ok=True)
            self.config_file.write_text(json.dumps(self.base_config(), indent=4) + "\n")
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        subprocess.run(["nsenter", f"--net=/var/run/netns/{self.netns}", "ip", "link", "set", "lo", "up"], check=True)
        self.script().chmod(0o755)
        subprocess.run(["/bin/sh", str(self.script())], check=True, timeout=START_TIMEOUT)
        self.wait()
        main = docker.from_env()
        try:
            for tag in self.images:  # save/load through the SDK: no registry needed
                self.client.images.load(b"".join(main.api.get_image(tag)))
        finally:
            main.close()

    def wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.client = self.client or docker.DockerClient(base_url=self.docker_host, timeout=60)
                if self.client.ping():
                    return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"the second dockerd did not answer; its log:\n{self.log.read_text()[-3000:]}")

    def script(self) -> Path:
        """The restart script: stop THIS dockerd (its pidfile), wait until it is gone, start it again
        in the background with its output in a log (so a caller capturing output is not held)."""
        path = self.dir / "restart.sh"
        path.write_text(f"""#!/bin/sh
# hardstep test: restart the throw-away dockerd in netns {self.netns} (never the main engine)
pid=$(cat {self.pidfile} 2>/dev/null || true)
# only this dockerd: a pidfile a crash left behind may name a process that took the number since
if [ -n "$pid" ] && tr '\\0' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- {self.config_file}; then
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
setsid nohup nsenter --net=/var/run/netns/{self.netns} dockerd --config-file {self.config_file} \\
  </dev/null >>{self.log} 2>&1 &
""")
        return path

    def restart_argv(self) -> list[str]:
        return ["/bin/sh", str(self.script())]

    def restart(self) -> None:
        """Restart (or start again) this dockerd and wait until it answers."""
        subprocess.run(self.restart_argv(), check=True, timeout=START_TIMEOUT)
        self.wait()

    def stop(self) -> None:
        """Stop this dockerd (SIGTERM, waited for): the engine is gone until ``restart``."""
        self._stop_dockerd()

    def wait_gone(self, said: str = "") -> None:
        """Wait until no dockerd of this engine runs, after its log says ``said`` (a dockerd that
        refuses its config file says why, then exits)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            logged = said in (self.log.read_text() if self.log.exists() else "")
            if logged and not any(_alive(pid) for pid in self._pids()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the second dockerd is still running or never said {said!r}")

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:
            return False

    @contextlib.contextmanager
    def aimed(self) -> Iterator["SecondEngine"]:
        """DOCKER_HOST at this engine while the block runs, so hardstep's client uses it; fixtures
        made before (``docker_client``, ``unique``'s cleanup) keep the main engine."""
        saved = os.environ.get("DOCKER_HOST")
        os.environ["DOCKER_HOST"] = self.docker_host
        try:
            yield self
        finally:
            if saved is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = saved

    def close(self) -> None:
        if self.client is not None:
            try:
                for container in self.client.containers.list(all=True):
                    container.remove(force=True, v=True)
            except Exception:
                pass
            self.client.close()
        self._stop_dockerd()
        self._unmount()
        subprocess.run(["ip", "netns", "delete", self.netns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _pids(self) -> set[int]:
        """This engine's dockerd: the pid in its pidfile, and any dockerd started with its config
        file (one that has not written its pidfile yet)."""
        pids = set()
        mine = f"dockerd\0--config-file\0{self.config_file}\0".encode()
        try:
            pid = int(self.pidfile.read_text().strip())
            if str(self.config_file).encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                pids.add(pid)  # not a process that took the number of one that crashed
        except (OSError, ValueError):
            pass
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == mine:
                    pids.add(int(pid))
            except OSError:
                continue
        return pids

    def _stop_dockerd(self) -> None:
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)

    def _unmount(self) -> None:
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for target in sorted((m for m in mounts if m.startswith(str(self.dir))), reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
