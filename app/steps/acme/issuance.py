"""The first certificate: without it coTURN has nothing to serve until cron first runs the renewal
at 03:MM, so the acme step runs the renewal script once itself, as the reference's procedure does
by hand, when ``[turn] cert`` is missing or does not cover ``[turn] domain``.

A CA counts failed validations against the account (Let's Encrypt: a few per hour), and Traefik
learns a new acme container's labels from Docker events a moment after it starts (and a recreated
Traefik needs a moment to start), so the script only runs once Traefik passes the TURN name
through, or after a while with the reason it does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.engine.actions import Action, ApplyContext, FileBackup, RestoreFile, Undo, back_up, sh
from app.errors import ApplyError, HardstepError
from app.containers.commands import run_shell
from app.steps.acme.setup import SCRIPT_PATH, running_container

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

ROUTE_WAIT = 30  # seconds for Traefik to pass the TURN name through to a new acme container


@dataclass(frozen=True)
class Coverage:
    ok: bool
    detail: str
    evidence: dict


def coverage(host: "Host", config: "Config") -> Coverage:
    """Whether ``[turn] cert`` holds a certificate for ``[turn] domain`` with its key beside it."""
    from app.net.tls import describe, pem_certificates

    cert, key, domain = config.turn.cert, config.turn.key, config.turn.domain
    try:
        pem, key_there = host.read_bytes(cert), host.exists(key)
    except HardstepError as exc:
        return Coverage(False, str(exc), {})
    chain = pem_certificates(pem) if pem else []
    if not chain:
        return Coverage(False, f"{cert} " + ("holds no PEM certificate" if pem else "does not exist") + ": "
                        "the acme step gets the first one", {})
    info = describe(chain[0])
    evidence = {"names": list(info.names), "issuer": info.issuer, "not_after": info.not_after.isoformat()}
    if not info.covers(domain):
        return Coverage(False, f"{cert} is for {', '.join(info.names) or '(no names)'}, not {domain}: the acme "
                        "step gets one for it", evidence)
    if not key_there:
        return Coverage(False, f"{cert} covers {domain} but its key {key} is missing", evidence)
    return Coverage(True, f"{cert} covers {domain}, issued by {info.issuer!r}, valid until "
                    f"{info.not_after:%Y-%m-%d}; key {key}", evidence)


@dataclass
class IssueFirstCertificate(Action):
    """Run the renewal script once; its undo puts ``[turn] cert`` and ``key`` back as they were
    (removed when there were none)."""

    config: "Config" = field(repr=False)

    def __post_init__(self) -> None:
        self.summary = "Get the first certificate now (runs the renewal script once)"

    @property
    def container(self) -> str:
        return self.config.acme.container

    def command(self) -> str:
        return sh("docker", "exec", self.container, SCRIPT_PATH)

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        # Backed up now, so a process killed while the CA answers still leaves rollback the files.
        self._prepared = []
        for path in (self.config.turn.cert, self.config.turn.key):
            saved = back_up(host, path, ctx.backup_dir)
            self._prepared.append(FileBackup(path, str(saved) if saved else None))
        return list(self._prepared)

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        records, self._prepared = getattr(self, "_prepared", None) or self.prepare(host, ctx), None
        container = running_container(host, self.container)
        domain = self.config.turn.domain
        try:
            self._wait_for_route(host, ctx)
            code, output = run_shell(container, SCRIPT_PATH)
            lines = [line for line in output.splitlines() if line.strip()]
            for line in lines:
                ctx.log(line)
            if code is not None and code != 0:  # None: the engine could not run it; the certificate tells
                raise ApplyError(f"the renewal script in {self.container} failed (exit {code}): "
                                 + " | ".join(lines[-3:] or ["no output"])
                                 + f". Check that {domain} resolves to this host and Traefik passes it through "
                                 "(hardstep check acme), then apply the acme step again")
            now = coverage(host, self.config)
            if not now.ok:
                raise ApplyError(f"the renewal script ran, but {now.detail}; see the log above")
        except Exception:
            for record in records:  # the step applies whole or not at all
                if record.backup or host.exists(record.path):
                    RestoreFile(record.path, record.backup).apply(host, ctx)
            raise
        ctx.log(now.detail)
        return records

    def _wait_for_route(self, host: "Host", ctx: ApplyContext) -> None:
        from app.steps.acme.passthrough import check_passthrough

        deadline, said = time.monotonic() + ROUTE_WAIT, False
        while True:
            verdict = check_passthrough(host, self.config)
            if verdict.ok is not False:  # passes through, or cannot be tried from here (the CA tries)
                return
            if time.monotonic() > deadline:
                raise ApplyError(f"{verdict.detail}; the certificate was not requested (a CA counts failed "
                                 "validations). Fix the route, then apply the acme step again")
            if not said:
                ctx.log(f"waiting up to {ROUTE_WAIT} s for Traefik to pass {self.config.turn.domain} through "
                        f"to {self.container} (it learns new containers from Docker events)")
                said = True
            time.sleep(1)
