"""``make bench``'s SSH figure: ``hardstep check`` of a host over SSH against the same check run
on the host itself.

The host is this machine as a real OpenSSH server (``tests.infra.ssh_server``) shows it: the
same engine, the same /proc (``pid_mode="host"``) and a folder that has the same path on both
sides. The folder holds the practice lab's unhardened homeserver.yaml, turnserver.conf and
traefik.toml and an empty daemon.json; the settings name them, pin every public name to
127.0.0.1 (so no probe leaves this machine) and name a private network and a socket proxy, which
are applied first so the checks' probe containers run. Both commands then read the same files
and ask the same engine: one with this machine's files and socket, the other through one SSH
connection (SFTP, exec channels, the Docker API over ``docker system dial-stdio``). Runs
alternate (local, SSH, local, ...) after one uncounted run of each; the ratio printed is the
median of each pair's SSH / local.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"synapse": "bench.test", "matrix": "matrix.bench.test", "turn": "turn.bench.test"}


@dataclass
class SshFigures:
    local: list[float]
    ssh: list[float]
    codes: tuple[int, int]  # the exit codes of the last local and SSH run

    @property
    def ratio(self) -> float:
        import statistics

        return statistics.median(s / l for s, l in zip(self.ssh, self.local))


def host_settings(folder: Path, prefix: str, images: dict[str, str]) -> Path:
    """The bench host's files in ``folder`` and the settings naming them; returns the settings."""
    from app.config.settings import Config, save_config
    from tests.fixtures_core import docker_values

    lab = ROOT / "assets" / "lab"
    files = {"synapse/homeserver.yaml": lab / "homeserver.yaml", "coturn/turnserver.conf": lab / "turnserver.conf",
             "traefik/traefik.toml": lab / "traefik.toml"}
    for name, source in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)
    (folder / "docker").mkdir()
    (folder / "docker" / "daemon.json").write_text("{}\n")
    values = docker_values(lambda name: f"{prefix}-{name}", images)  # the tests' Docker names and images
    values["docker"] |= {"daemon_config": str(folder / "docker" / "daemon.json"),
                         "seccomp_profile": str(folder / "docker" / "seccomp-hardstep.json")}
    values["traefik"]["config"] = str(folder / "traefik" / "traefik.toml")
    values |= {
        "synapse": {"config": str(folder / "synapse" / "homeserver.yaml"), "server_name": NAMES["synapse"],
                    "url": f"https://{NAMES['matrix']}"},
        "turn": {"config": str(folder / "coturn" / "turnserver.conf"), "domain": NAMES["turn"],
                 "certs_dir": str(folder / "certs"), "cert": str(folder / "certs" / "fullchain.pem"),
                 "key": str(folder / "certs" / "privkey.pem")},
        "checks": {"resolve": [f"{name}=127.0.0.1" for name in NAMES.values()]},
    }
    settings = folder / "config.toml"
    save_config(Config(values), settings)
    return settings


def ssh_vs_local(runs: int, env: dict[str, str]) -> SshFigures:
    """Wall seconds of ``hardstep check``, run by run, on this machine and over SSH to it."""
    import docker

    from app.cli import make_engine
    from tests.infra.images import ensure_images
    from tests.infra.ssh_server import ALIAS, start_ssh_server
    from tests.infra.sshd_image import ensure_sshd_image

    client = docker.from_env()
    images, image = ensure_images(client), ensure_sshd_image(client)
    prefix = f"hardstep-bench-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="hardstep-bench-ssh-", dir="/var/tmp") as tmp:
        folder = Path(tmp)
        server = start_ssh_server(client, image, f"{prefix}-sshd", folder)
        settings = host_settings(folder, prefix, images)
        home = folder / "home"  # the ssh config the SSH run reads as ~/.ssh/config
        (home / ".ssh").mkdir(parents=True)
        shutil.copyfile(server.config, home / ".ssh" / "config")
        engine = make_engine(None, settings, folder / "state-local")
        try:
            for step in ("private-network", "socket-proxy"):
                engine.apply(step)
            base = [sys.executable, "-m", "app", "--config", str(settings)]
            local = ([*base, "--state-dir", str(folder / "state-local"), "check"], env)
            over_ssh = ([*base, "--host", ALIAS, "--state-dir", str(folder / "state-ssh"), "check"],
                        {**env, "HOME": str(home)})
            for argv, child_env in (local, over_ssh):  # warm-up, not counted
                timed(argv, child_env)
            figures = SshFigures([], [], (0, 0))
            for _ in range(runs):
                (seconds, local_code), (ssh_seconds, ssh_code) = timed(*local), timed(*over_ssh)
                figures.local.append(seconds)
                figures.ssh.append(ssh_seconds)
                figures.codes = (local_code, ssh_code)
            return figures
        finally:
            for step in ("socket-proxy", "private-network"):
                engine.rollback(step)
            engine.host.close()
            server.container.remove(force=True)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.time()
    code = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True).returncode
    return time.time() - started, code
