"""TLS as a client sees it: fetch the certificate a server presents for a name, read it, trust it.

Shared by the acme step (is the certificate behind ``<TURN domain>:443`` the one the acme
container serves, or the proxy's own?) and the coturn-tls step (names, trust, expiry, key pair).
The certificate is fetched without verification first, so a check can say *what* is wrong
(another name, expired, unknown issuer) instead of only "handshake failed".
"""

from __future__ import annotations

import hashlib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from app.errors import HardstepError
from app.net import pins

if TYPE_CHECKING:  # cryptography is imported where a certificate is parsed, not at start-up
    from cryptography.x509 import Certificate


class TlsError(HardstepError):
    """No TLS handshake: refused, timed out, not TLS, or the server rejected us."""


def parse_address(address: str, default_port: int) -> tuple[str, int]:
    """``host[:port]`` or ``[v6]:port`` -> (host, port)."""
    host, port = address.strip(), default_port
    if host.startswith("["):
        inner, _, rest = host[1:].partition("]")
        host, port = inner, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else port
    elif host.count(":") == 1:
        host, _, tail = host.partition(":")
        if not tail.isdigit():
            raise HardstepError(f"{address!r} is not host:port")
        port = int(tail)
    if not host or not 0 < port < 65536:
        raise HardstepError(f"{address!r} is not host:port")
    return host, port


def fetch_certificate(host: str, port: int, server_name: str, timeout: float = 10,
                      alpn: list[str] | None = None) -> bytes:
    """The DER certificate the server presents for SNI ``server_name`` (not verified), offering
    the ALPN protocols ``alpn`` when given (``["acme-tls/1"]``: what a TLS-ALPN-01 validator sends)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(alpn)
    try:
        with _connect(host, port, timeout) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"no TLS handshake with {pins.shown(host, port)} for {server_name}: {_reason(exc)}") from None
    if not der:
        raise TlsError(f"{pins.shown(host, port)} presented no certificate for {server_name}")
    return der


def verify_chain(host: str, port: int, server_name: str, ca_file: str | None = None,
                 timeout: float = 10, ca_pem: str | None = None) -> str | None:
    """None when a verifying handshake (name check included) succeeds, else why not. Trusts the
    CA in the local ``ca_file`` or in the PEM text ``ca_pem`` when one is given, else
    ``client_context``'s: the trust store and ``[checks] ca_file``."""
    try:
        context = client_context(ca_file, ca_pem)
        with _connect(host, port, timeout) as raw:
            with context.wrap_socket(raw, server_hostname=server_name):
                return None
    except pins.CaFileError as exc:
        return str(exc)
    except ssl.SSLCertVerificationError as exc:
        return _untrusted(exc, host, port, server_name, timeout)
    except (OSError, ssl.SSLError) as exc:
        return _reason(exc)


def client_context(ca_file: str | None = None, ca_pem: str | None = None) -> ssl.SSLContext:
    """A verifying client context: the CA in the local ``ca_file`` or the PEM text ``ca_pem``
    alone when given; else this machine's trust store plus ``[checks] ca_file`` (CaFileError
    when that is unusable)."""
    if ca_file or ca_pem:
        return ssl.create_default_context(cafile=ca_file or None, cadata=ca_pem or None)
    context = ssl.create_default_context()
    extra = pins.extra_ca()
    if extra:
        try:
            context.load_verify_locations(cadata=extra)
        except ssl.SSLError as exc:
            raise pins.CaFileError(f"[checks] ca_file holds no usable CA certificate ({_reason(exc)})") from None
    return context


# OpenSSL's X509_V_ERR_* codes for "no CA trusted here vouches for it": the issuer is worth naming.
_NO_TRUSTED_ISSUER = {2, 18, 19, 20, 21}


def _untrusted(exc: ssl.SSLCertVerificationError, host: str, port: int, server_name: str, timeout: float) -> str:
    why = exc.verify_message or _reason(exc)
    if exc.verify_code not in _NO_TRUSTED_ISSUER:
        return why
    try:
        issuer = describe(fetch_certificate(host, port, server_name, timeout)).issuer
    except TlsError:
        return why
    return f"{why} (issued by {issuer})"


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to ``host``, at its ``[checks] resolve`` address when it is pinned."""
    return socket.create_connection((pins.address(host), port), timeout=timeout)


def fingerprint(der: bytes) -> str:
    """SHA-256 fingerprint as openssl prints it: ``AB:CD:...``."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    names: tuple[str, ...]  # DNS subjectAltNames, or the common name when there are none
    not_before: datetime
    not_after: datetime
    fingerprint: str

    def covers(self, name: str) -> bool:
        """RFC 6125 matching: exact, or a left-most ``*`` label standing for exactly one label."""
        name = name.lower().rstrip(".")
        for pattern in (n.lower().rstrip(".") for n in self.names):
            if pattern == name:
                return True
            if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
                return True
        return False

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400


def load_der(der: bytes) -> "Certificate":
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def describe(der: bytes) -> CertInfo:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = load_der(der)
    try:
        names = tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                      .value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), names,
                    cert.not_valid_before_utc, cert.not_valid_after_utc, fingerprint(der))


def pem_certificates(pem: bytes) -> list[bytes]:
    """DER of every certificate in a PEM file (a fullchain holds the leaf first)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        return [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]
    except ValueError:
        return []


def key_matches(cert_der: bytes, key_pem: bytes) -> bool:
    """True when the private key in ``key_pem`` belongs to the certificate."""
    from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                              load_pem_private_key)

    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        return False
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return key.public_key().public_bytes(*spki) == load_der(cert_der).public_key().public_bytes(*spki)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    if isinstance(exc, socket.timeout):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
