"""The lab's own Docker engine: a dockerd in its own network namespace, so the lab is a whole
host (its engine settings, its containers, its restarts) and never the machine's engine.

Layout, all derived from the lab folder so two labs never share anything:

- network namespace ``hslab-<id>``, joined to this machine by a veth pair whose two ends get the
  link-local addresses ``address`` (the lab's side, where its published ports answer) and
  ``peer_address`` (this machine's side). The checks reach the lab's names at ``address``
  through ``[checks] resolve``; nothing is added to /etc/hosts or to any other interface.
- dockerd with ``--config-file <root>/etc/docker/daemon.json`` (the lab host's daemon.json, the
  file the daemon step edits), its data root under the lab folder (images survive a rerun),
  its exec root and pidfile, its socket ``<lab>/engine/docker.sock``, and ``--dns`` at the lab's
  own DNS (``app.lab.stack``). Those are flags, not daemon.json keys, so the lab's daemon.json
  reads like a real host's.
- ``restart.sh``: stops this dockerd (its pidfile) and starts it again in the namespace. The
  daemon step gets it as ``[docker] restart_command``, so it restarts the lab's engine only.

``ip netns exec`` is not used: it remounts /sys, and dockerd then fails with "Devices cgroup
isn't mounted" (FACTS); ``nsenter --net`` is. Every command goes through the machine's host
facade as an argument list.
"""

from __future__ import annotations

import hashlib
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from app.errors import HardstepError

if TYPE_CHECKING:
    import docker

    from app.host.base import Host

START_TIMEOUT = 90
Log = Callable[[str], None]


class LabEngine:
    def __init__(self, lab_dir: Path, root: Path, machine: "Host"):
        ident = hashlib.sha256(str(lab_dir).encode()).hexdigest()[:8]
        number = int(ident, 16)
        self.machine = machine
        self.dir = lab_dir / "engine"
        self.netns = f"hslab-{ident}"
        self.veth_peer, self.veth_lab = f"hsl{ident}p", f"hsl{ident}l"  # at most 15 characters
        subnet = f"169.254.{1 + number % 254}.{(number >> 8) % 64 * 4}"
        base = subnet.rsplit(".", 1)[0]
        last = int(subnet.rsplit(".", 1)[1])
        self.peer_address, self.address = f"{base}.{last + 1}", f"{base}.{last + 2}"
        self.config_file = root / "etc/docker/daemon.json"
        self.socket = self.dir / "docker.sock"
        self.pidfile = self.dir / "docker.pid"
        self.log = self.dir / "dockerd.log"
        self.exec_root = f"/run/hslab-{ident}"  # short: containerd's socket paths are limited to 108 bytes
        self.restart_script = self.dir / "restart.sh"
        self._client: "docker.DockerClient | None" = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def restart_argv(self) -> list[str]:
        return ["/bin/sh", str(self.restart_script)]

    # --- life cycle ----------------------------------------------------------------------------
    def start(self, log: Log) -> None:
        """Make sure the namespace, the veth pair and dockerd are up; idempotent."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_restart_script()
        self._ensure_namespace(log)
        if self.answers():
            return
        log(f"lab: starting the lab's Docker engine (network namespace {self.netns})")
        self._run(self.restart_argv(), "start the lab's dockerd")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.answers():
                return
            time.sleep(0.3)
        tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else "(no log)"
        raise HardstepError(f"lab: the lab's dockerd did not answer within {START_TIMEOUT} s; "
                            f"its log ({self.log}) ends with:\n{tail}")

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(self.client.ping())
        except Exception:  # not up yet, or a stale socket: the caller waits or starts it
            self.close()
            return False

    @property
    def client(self) -> "docker.DockerClient":
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=self.url, timeout=120)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def stop(self) -> None:
        """Stop dockerd and remove the namespace and veth pair; the lab folder stays."""
        self.close()
        pid = self.machine.pid_from_file(str(self.pidfile))
        if pid is not None and self._is_ours(pid):
            self.machine.run(["kill", "-TERM", str(pid)])
            deadline = time.monotonic() + 30
            while self._is_ours(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
        # dockerd makes its data root a mount of its own and may leave it behind: detach it (lazily,
        # with whatever is still under it) so the lab folder can be deleted.
        self.machine.run(["umount", "--lazy", str(self.dir / "data")])
        self.machine.run(["ip", "link", "delete", self.veth_peer])
        self.machine.run(["ip", "netns", "delete", self.netns])

    def _is_ours(self, pid: int) -> bool:
        """The lab's dockerd, not a process that took its number after a crash left the pidfile."""
        return str(self.config_file) in (self.machine.process_argv(pid) or [])

    # --- plumbing ------------------------------------------------------------------------------
    def _ensure_namespace(self, log: Log) -> None:
        if not self.machine.exists(f"/var/run/netns/{self.netns}"):
            log(f"lab: creating the network namespace {self.netns} ({self.address} from this machine)")
            self._run(["ip", "netns", "add", self.netns], "create the lab's network namespace")
            self._in_netns(["ip", "link", "set", "lo", "up"])
        if self.machine.run(["ip", "link", "show", self.veth_peer]).returncode != 0:
            self._run(["ip", "link", "add", self.veth_peer, "type", "veth", "peer", "name", self.veth_lab,
                       "netns", self.netns], "join the lab's namespace to this machine (veth)")
            self._run(["ip", "address", "add", f"{self.peer_address}/30", "dev", self.veth_peer], "address the veth")
            self._run(["ip", "link", "set", self.veth_peer, "up"], "bring the veth up")
            self._in_netns(["ip", "address", "add", f"{self.address}/30", "dev", self.veth_lab])
            self._in_netns(["ip", "link", "set", self.veth_lab, "up"])

    def _in_netns(self, argv: list[str]) -> None:
        self._run(["nsenter", f"--net=/var/run/netns/{self.netns}", *argv], "configure the lab's namespace")

    def _run(self, argv: list[str], what: str) -> None:
        result = self.machine.run(argv, timeout=60)
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            raise HardstepError(f"lab: could not {what} ({' '.join(argv[:3])}...: "
                                f"{reason[-1] if reason else f'exit {result.returncode}'}); "
                                "the lab needs root, iproute2 and nsenter (make setup installs them)")

    def _write_restart_script(self) -> None:
        q = shlex.quote
        flags = " ".join(q(str(part)) for part in (
            "--config-file", self.config_file, "--data-root", self.dir / "data", "--exec-root", self.exec_root,
            "--pidfile", self.pidfile, "-H", self.url, "--dns", self.address))
        text = f"""#!/bin/sh
# hardstep practice lab: restart the lab's own dockerd (network namespace {self.netns}).
# It never touches this machine's Docker engine. The daemon step runs it as restart_command.
pid=$(cat {q(str(self.pidfile))} 2>/dev/null || true)
# Only the lab's own dockerd (its config file among its arguments): after a crash the pidfile can
# name a process that has taken that number since.
if [ -n "$pid" ] && tr '\\0' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- {q(str(self.config_file))}; then
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
fi
setsid nohup nsenter --net=/var/run/netns/{self.netns} dockerd {flags} </dev/null >>{q(str(self.log))} 2>&1 &
"""
        if not self.restart_script.exists() or self.restart_script.read_text() != text:
            self.restart_script.write_text(text)
            self.restart_script.chmod(0o700)
