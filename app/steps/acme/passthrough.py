"""Proof that Traefik passes TLS for the TURN domain through to the acme container untouched.

Inside the acme container ``openssl s_server`` serves a throw-away self-signed certificate made
for this check only; from this machine we connect to Traefik's TLS entrypoint with SNI = the TURN
domain and compare the fingerprint we are shown with the throw-away one. Only a byte-for-byte
pass-through can show us that certificate: a proxy that terminates TLS shows its own.
(The reference's ``-nocert -cipher aNULL`` test fails on OpenSSL 3 whatever the route does.)

A second handshake offers ALPN ``acme-tls/1``, as a CA validating TLS-ALPN-01 does: a Traefik with
a ``tlsChallenge`` resolver answers those itself, passthrough or not (``app.steps.acme.challenge``).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.containers.commands import attached, read_text, read_until
from app.net.tcp import resolves
from app.net.tls import TlsError, describe, fetch_certificate, fingerprint, parse_address

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
SERVE_SECONDS = 30  # s_server's own limit, in case hardstep dies before it stops it
ALPN = "acme-tls/1"  # the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737)


@dataclass
class Verdict:
    ok: bool | None
    detail: str
    evidence: dict


def https_address(config: "Config") -> tuple[str, int]:
    return parse_address(config.traefik.https_address or f"{config.turn.domain}:443", 443)


def throwaway_certificate(domain: str) -> tuple[bytes, bytes, bytes]:
    """(cert PEM, key PEM, cert DER) of a fresh self-signed certificate valid for one day."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from app.engine.model import utcnow

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hardstep passthrough probe {secrets.token_hex(4)}")])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, cert.public_bytes(serialization.Encoding.DER)


def check_passthrough(host: "Host", config: "Config", choice=None) -> Verdict:
    from app.containers.actions import find_container, not_running
    from app.steps.acme.challenge import choose

    domain, name = config.turn.domain, config.acme.container
    address = config.traefik.https_address or f"{domain}:443"
    connect_host, port = https_address(config)
    evidence = {"address": address, "server_name": domain}
    if connect_host.lower().rstrip(".").endswith(EXAMPLE_DOMAINS):
        return Verdict(None, f"skipped: {connect_host} is an example name; set [turn] domain "
                       "(or [traefik] https_address)", evidence)
    container = find_container(host, name)
    if container is None:
        return Verdict(None, f"skipped: there is no acme container {name}", evidence)
    if container.status != "running":
        return Verdict(None, f"skipped: the acme container {name} {not_running(container)}", evidence)
    if not resolves(connect_host, port):
        return Verdict(None, f"skipped: {connect_host} does not resolve from here; "
                       "set [traefik] https_address to where Traefik's TLS entrypoint answers", evidence)
    cert_pem, key_pem, der = throwaway_certificate(domain)
    expected = fingerprint(der)
    evidence["expected"] = expected
    with ThrowawayServer(container, cert_pem, key_pem) as server:
        if not server.listening:
            busy = "in use" in server.output.lower() or "bind" in server.output.lower()
            why = ("port 443 is busy inside the container (a renewal may be answering a challenge "
                   "right now; run the check again)") if busy else f"openssl s_server did not start: {server.last_line}"
            return Verdict(None if busy else False, f"skipped: {why}" if busy else why, evidence)
        try:
            seen = fetch_certificate(connect_host, port, domain)
        except TlsError as exc:
            return Verdict(False, f"{exc}: Traefik does not pass {domain} through to {name}", evidence)
        try:
            alpn, alpn_error = fetch_certificate(connect_host, port, domain, alpn=[ALPN]), None
        except TlsError as exc:
            alpn, alpn_error = None, str(exc)
    evidence["seen"] = fingerprint(seen)
    if evidence["seen"] == expected:
        evidence["seen_alpn"] = fingerprint(alpn) if alpn else None
        plain = f"{address} with SNI {domain} showed the throw-away certificate served inside {name}"
        if alpn and evidence["seen_alpn"] == expected:
            return Verdict(True, f"{plain}, with and without ALPN {ALPN}: TLS passes through untouched", evidence)
        return _alpn_taken(host, config, choice or choose(host, config), container, plain, alpn, alpn_error,
                           evidence)
    info = describe(seen)
    evidence.update(subject=info.subject, issuer=info.issuer)
    return Verdict(False, f"Traefik terminates TLS for {domain}: {address} showed subject {info.subject!r}, "
                   f"issuer {info.issuer!r}, not the throw-away certificate served inside {name}", evidence)


def _alpn_taken(host, config, choice, container, plain: str, alpn: bytes | None, error: str | None,
                evidence: dict) -> Verdict:
    """Plain TLS passes through, the TLS-ALPN-01 handshake does not: fine only when renewals use HTTP-01."""
    from app.steps.acme.setup import SCRIPT_PATH, script_mode

    if alpn is not None:
        info = describe(alpn)
        evidence.update(alpn_subject=info.subject, alpn_issuer=info.issuer)
        saw = f"answered with subject {info.subject!r}, fingerprint {evidence['seen_alpn']}"
    else:
        saw = f"ended the handshake itself ({error.rsplit(': ', 1)[-1]})"
    evidence["resolvers"] = list(choice.resolvers)
    taken = f"{plain}, but offering ALPN {ALPN} (what the CA's TLS-ALPN-01 validation sends) Traefik {saw}"
    if choice.mode == "http" and script_mode(read_text(container, SCRIPT_PATH)) == "http":
        return Verdict(True, f"{taken}; renewals use HTTP-01 through the web entrypoint instead, so that "
                       "challenge is not needed: TLS passes through untouched", evidence)
    why = (f"Traefik has a tlsChallenge certificate resolver ({', '.join(choice.resolvers)}) and takes every "
           f"{ALPN} connection itself" if choice.resolvers else
           f"no tlsChallenge resolver is in {config.traefik.config}, yet Traefik {choice.version_text} takes "
           f"{ALPN} connections itself (before 3.1.3 it does so without one)")
    fix = choice.fix(config.traefik.config) or ("give Traefik allowACMEByPass = true on its TLS entrypoint "
                                                "(Traefik 3.1.3 and later), or renew with HTTP-01")
    return Verdict(False, f"{taken}. {why}, so issuing the certificate for {config.turn.domain} fails; "
                   f"applying the step: {fix}", evidence)


class ThrowawayServer:
    """``openssl s_server`` on port 443 of the container, stdin held open by an attached exec
    (it exits on stdin EOF), bounded by ``timeout`` and always killed on exit."""

    def __init__(self, container, cert_pem: bytes, key_pem: bytes):
        self.container, self.cert_pem, self.key_pem = container, cert_pem, key_pem
        self.folder = f"/tmp/hardstep-passthrough-{secrets.token_hex(4)}"
        self.listening, self.output, self.pid = False, "", ""
        self._attached = self._exec = None

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else "no output"

    def __enter__(self) -> "ThrowawayServer":
        self._put()
        api = self.container.client.api
        # The shell prints its PID, then becomes timeout (or s_server): that PID is what we kill.
        argv = ["sh", "-c", 'echo "pid $$"; exec timeout "$1" openssl s_server -accept 443 -cert "$2" -key "$3" -alpn "$4"',
                "sh", str(SERVE_SECONDS), f"{self.folder}/cert.pem", f"{self.folder}/key.pem", ALPN]
        self._exec = api.exec_create(self.container.id, argv, stdin=True)["Id"]
        self._attached = attached(self.container, self._exec)
        # The stream ends early when s_server exits (bind failure, missing openssl).
        self.output = read_until(self._attached.__enter__(), "ACCEPT", timeout=10)
        for line in self.output.splitlines():
            if "pid " in line:
                self.pid = line.split("pid ", 1)[1].strip()
        self.listening = "ACCEPT" in self.output
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pid.isdigit():
            self.container.exec_run(["sh", "-c", 'kill "$1" 2>/dev/null', "sh", self.pid])
        if self._attached is not None:
            self._attached.__exit__(None, None, None)  # its stdin ends: s_server with it
        deadline = time.monotonic() + 5
        while self._exec and time.monotonic() < deadline:
            if not self.container.client.api.exec_inspect(self._exec).get("Running"):
                break
            time.sleep(0.1)
        self.container.exec_run(["rm", "-rf", self.folder])

    def _put(self) -> None:
        from app.steps.acme.setup import archive

        base = self.folder.rsplit("/", 1)[1]
        self.container.put_archive("/tmp", archive([(base, None, 0o700), (f"{base}/cert.pem", self.cert_pem, 0o600),
                                                    (f"{base}/key.pem", self.key_pem, 0o600)]))
