"""What the acme step puts inside the acme container: acme.sh, the renewal script, the crontab line.

Everything runs through the Docker API (``exec`` with argument lists, ``put_archive`` for files).
The renewal script is rendered from ``assets/acme/renew-cert.sh`` with values that were validated
first and are shell-quoted anyway; the install script is a fixed file that takes no values.
"""

from __future__ import annotations

import hashlib
import io
import shlex
import tarfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers.commands import LOST, ask_shell, run_shell
from app.engine.actions import Action, ApplyContext, Undo, sh, unified_diff
from app.assets import read_asset
from app.errors import ApplyError, HardstepError
from app.config.validate import is_abs_path, is_docker_name, is_email, is_hostname
from app.steps.acme.settings import is_server

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

SCRIPT_PATH = "/usr/local/bin/hardstep-renew-cert"
CRON_MARK = SCRIPT_PATH  # the crontab line hardstep owns is the one that runs this script


# How acme.sh answers the CA: TLS-ALPN-01 on 443 (through the passthrough) or HTTP-01 on 80.
CHALLENGE_ARGS = {"alpn": "--alpn", "http": "--standalone --httpport 80"}


def renewal_script(config: "Config", mode: str = "alpn") -> str:
    """The renewal script for these settings and challenge ``mode`` (see ``app.steps.acme.challenge``);
    refuses any value that is not what it claims."""
    values = {"DOMAIN": config.turn.domain, "EMAIL": config.acme.email, "CERT": config.turn.cert,
              "KEY": config.turn.key, "PROXY": config.acme.proxy_container, "COTURN": config.turn.container,
              "SERVER": config.acme.server}
    checks = {"DOMAIN": is_hostname, "EMAIL": lambda v: v == "" or is_email(v), "CERT": is_abs_path,
              "KEY": is_abs_path, "PROXY": is_docker_name, "COTURN": is_docker_name, "SERVER": is_server}
    text = read_asset("acme", "renew-cert.sh")
    for key, value in values.items():
        if not checks[key](value):
            raise HardstepError(f"refusing to write {value!r} as {key} into the renewal script")
        text = text.replace(f"@{key}@", shlex.quote(value) if value else "''")
    return text.replace("@CHALLENGE@", CHALLENGE_ARGS[mode])


def script_mode(text: str | None) -> str | None:
    """The challenge mode an installed renewal script uses (None: no script, or not ours)."""
    for mode, args in CHALLENGE_ARGS.items():
        if text and f"acme.sh --issue {args} " in text:
            return mode
    return None


def crontab_line(config: "Config") -> str:
    """Daily at 03:MM, the minute spread by the domain so hosts do not all ask the CA at once."""
    minute = int(hashlib.sha256(config.turn.domain.encode()).hexdigest(), 16) % 60
    return read_asset("acme", "crontab").replace("@MINUTE@", str(minute)).strip()


def with_cron_line(current: str, line: str) -> str:
    """The crontab ``current`` with hardstep's line in place of any older one of ours."""
    kept = [row for row in current.splitlines() if CRON_MARK not in row]
    return "\n".join(kept + [line]) + "\n"


# --- reading the container (through app.containers.commands, which does not trust a lost answer) --
def has_programs(container, *programs: str) -> bool:
    """True when every program is on the container's PATH (``command -v`` of its shell)."""
    listed = " ".join(shlex.quote(p) for p in programs)
    return ask_shell(container, f'for p in {listed}; do command -v "$p" >/dev/null || exit 1; done').ok


def read_crontab(container) -> str | None:
    """The container's crontab ("" when it has none); None when its answer never came back."""
    answer = ask_shell(container, "crontab -l")
    if answer.code is None:
        return None
    return answer.output if answer.ok else ""  # "no crontab for root" is an empty crontab


def archive(entries: list[tuple[str, bytes | None, int]]) -> bytes:
    """A tar of ``(name, data, mode)`` entries (data None: a folder), owner root: what the API's
    ``put_archive`` unpacks into a container."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = mode, int(time.time())
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def put_file(container, path: str, text: str, mode: int) -> None:
    """Write one file into the container (owner root) through the API."""
    directory, _, name = path.rpartition("/")
    if not container.put_archive(directory or "/", archive([(name, text.encode("utf-8"), mode)])):
        raise ApplyError(f"could not write {path} into {container.name}")


def running_container(host: "Host", name: str):
    from app.containers.actions import find_container

    container = find_container(host, name)
    if container is None or container.status != "running":
        raise ApplyError(f"the container {name} is not running")
    return container


# --- actions --------------------------------------------------------------------------------
@dataclass
class InstallAcmeSh(Action):
    container: str

    def __post_init__(self) -> None:
        self.summary = f"Install acme.sh, openssl and socat in {self.container} (apk add)"

    def command(self) -> str:
        return sh("docker", "exec", self.container, "apk", "add", "--no-cache", "acme.sh", "openssl", "socat", "curl")

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = running_container(host, self.container)
        # install.sh does nothing when acme.sh is there: asked again when its answer is lost.
        code, output = ask_shell(container, read_asset("acme", "install.sh"))
        if code != 0:
            lines = [line for line in output.strip().splitlines() if line.strip()]
            raise ApplyError(f"installing acme.sh in {self.container} failed: "
                             + (lines[-1] if lines else f"exit {code}"))
        ctx.log(output.strip().splitlines()[-1] if output.strip() else f"installed acme.sh in {self.container}")
        return []  # lives and dies with the container, which rollback removes


@dataclass
class WriteRenewalScript(Action):
    container: str
    before: str | None
    after: str

    def __post_init__(self) -> None:
        self.summary = f"Write the renewal script {SCRIPT_PATH} in {self.container}"

    def command(self) -> str:
        return sh("docker", "cp", "renew-cert.sh", f"{self.container}:{SCRIPT_PATH}") + "  # as in the diff"

    def diff(self) -> str:
        return unified_diff(f"/[{self.container}]{SCRIPT_PATH}", self.before or "", self.after)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = running_container(host, self.container)
        put_file(container, SCRIPT_PATH, self.after, 0o700)
        ctx.log(f"wrote {SCRIPT_PATH} in {self.container}")
        return []


@dataclass
class InstallCrontab(Action):
    container: str
    line: str

    def __post_init__(self) -> None:
        self.summary = f"Run the renewal daily from the crontab of {self.container}"

    def command(self) -> str:
        return f"docker exec -i {shlex.quote(self.container)} crontab -  # existing lines plus: {self.line}"

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        container = running_container(host, self.container)
        staged = "/tmp/hardstep-crontab"
        current = read_crontab(container)
        if current is None:  # never write a crontab built on an answer that did not come back
            raise ApplyError(f"could not read the crontab of {self.container}: {LOST}, then apply again")
        put_file(container, staged, with_cron_line(current, self.line), 0o600)
        code, output = run_shell(container, f"crontab {staged}; status=$?; rm -f {staged}; exit $status")
        if code != 0:
            said = f"exit {code}" if output == LOST or not output.strip() else output.strip()
            raise ApplyError(f"crontab in {self.container} failed: {said}")
        ctx.log(f"crontab of {self.container}: {self.line}")
        return []
