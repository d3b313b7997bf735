"""app/tls.py against a real TLS server on loopback (Python's ssl with trustme certificates)."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest
import trustme

from app.errors import HardstepError
from app.net.tls import (TlsError, describe, fetch_certificate, fingerprint, key_matches, parse_address,
                     pem_certificates, verify_chain)


@pytest.fixture
def server():
    """A TLS server on 127.0.0.1 serving a certificate for turn.hs.test; yields (port, ca, leaf)."""
    ca = trustme.CA()
    leaf = ca.issue_cert("turn.hs.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], ca, leaf
    stop.set()
    thread.join(2)
    listener.close()


def test_fetch_describe_and_verify(server, tmp_path):
    port, ca, leaf = server
    der = fetch_certificate("127.0.0.1", port, "turn.hs.test")
    assert der == pem_certificates(leaf.cert_chain_pems[0].bytes())[0]
    info = describe(der)
    assert info.covers("turn.hs.test") and not info.covers("other.hs.test")
    assert info.fingerprint == fingerprint(der) and len(info.fingerprint.split(":")) == 32
    assert verify_chain("127.0.0.1", port, "turn.hs.test") is not None  # not in the system store
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    assert verify_chain("127.0.0.1", port, "turn.hs.test", str(ca_file)) is None
    assert "mismatch" in verify_chain("127.0.0.1", port, "other.hs.test", str(ca_file)).lower()
    assert key_matches(der, leaf.private_key_pem.bytes())
    assert not key_matches(der, ca.issue_cert("turn.hs.test").private_key_pem.bytes())
    assert not key_matches(der, b"not a key")


def test_no_listener_is_a_tls_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TlsError, match=f"no TLS handshake with 127.0.0.1:{port}"):
        fetch_certificate("127.0.0.1", port, "turn.hs.test", timeout=2)


def test_wildcards_match_one_label_only():
    leaf = trustme.CA().issue_cert("*.hs.test")
    info = describe(pem_certificates(leaf.cert_chain_pems[0].bytes())[0])
    assert info.covers("turn.hs.test") and not info.covers("a.turn.hs.test") and not info.covers("hs.test")


@pytest.mark.parametrize("text, expected", [("turn.hs.test", ("turn.hs.test", 5349)),
                                            ("127.0.0.1:8443", ("127.0.0.1", 8443)), ("[::1]:5349", ("::1", 5349))])
def test_parse_address(text, expected):
    assert parse_address(text, 5349) == expected


@pytest.mark.parametrize("text", ["host:port", ":443", "h:70000"])
def test_parse_address_refuses(text):
    with pytest.raises(HardstepError):
        parse_address(text, 5349)


def test_verify_chain_takes_the_ca_as_pem_text(server):
    """The coturn-tls check reads [turn] ca_file through the host facade and hands over its text."""
    port, ca, _ = server
    assert verify_chain("127.0.0.1", port, "turn.hs.test", ca_pem=ca.cert_pem.bytes().decode()) is None
