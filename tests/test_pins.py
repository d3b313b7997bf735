"""``[checks] resolve`` and ``[checks] ca_file`` (app/net/pins.py) against a real HTTPS server on
loopback, with a trustme certificate for names that do not resolve (``*.hslab.test``): without the
pin nothing connects; with it every probe (TCP, TLS, HTTP, the CLI's checks) reaches the server,
and the name stays the SNI, the Host header and the name the certificate is checked against."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from app.config.settings import Config, save_config
from app.engine.runner import Engine
from app.engine.state import StateStore
from app.errors import ConfigError
from app.host import LocalHost
from app.net import http, pins, tcp
from app.net.tls import TlsError, describe, fetch_certificate, pem_certificates, verify_chain

NAME = "matrix.hslab.test"
ROOT = Path(__file__).resolve().parent.parent


class Server:
    """An HTTPS server on ``address``: what it saw (SNI, Host headers), its CA and port."""

    def __init__(self, address: str = "127.0.0.1"):
        self.ca = trustme.CA()
        self.leaf = self.ca.issue_cert(NAME, "element.hslab.test")
        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.leaf.configure_cert(context)
        context.sni_callback = lambda conn, name, ctx: self.sni.append(name)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hosts.append(self.headers["Host"])
                if self.path == "/moved":  # an absolute redirect to the pinned name: pinned again
                    self.send_response(302)
                    self.send_header("Location", f"https://{NAME}:{server.port}/_matrix/client/v3/publicRooms")
                    body = b""
                else:
                    self.send_response(401)
                    body = json.dumps({"errcode": "M_MISSING_TOKEN"}).encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.http = type("Server", (ThreadingHTTPServer,), {"address_family": family})((address, 0), Handler)
        self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def write_ca(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.ca.cert_pem.write_to_path(str(path))
        return path


@pytest.fixture
def server():
    served = Server()
    served.thread.start()
    yield served
    served.http.shutdown()
    served.http.server_close()


@pytest.fixture(autouse=True)
def unpinned():
    """Pins are the process's: every test starts and ends without any."""
    pins.configure([])
    yield
    pins.configure([])


def engine_with(tmp_path: Path, **checks) -> Engine:
    return Engine(LocalHost(tmp_path / "root"), Config({"checks": checks}), StateStore(tmp_path / "state"))


def test_without_the_pin_the_name_does_not_resolve(server):
    assert not tcp.resolves(NAME, server.port)
    with pytest.raises(TlsError, match=f"no TLS handshake with {NAME}:{server.port}"):
        fetch_certificate(NAME, server.port, NAME, timeout=3)
    answer = http.get(f"https://{NAME}:{server.port}/", timeout=3)
    assert answer.status is None and answer.failure == "ConnectError"
    assert server.sni == []  # nothing reached the server


def test_the_engine_pins_the_name_and_the_handshake_keeps_it(server, tmp_path):
    engine_with(tmp_path, resolve=[f"{NAME.upper()}=127.0.0.1"])
    assert tcp.resolves(NAME, server.port)
    der = fetch_certificate(NAME, server.port, NAME)
    assert der == pem_certificates(server.leaf.cert_chain_pems[0].bytes())[0]
    assert server.sni == [NAME]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(TlsError, match=rf"{NAME}:{closed} \(at 127\.0\.0\.1, \[checks\] resolve\) for {NAME}: Connection refused"):
        fetch_certificate(NAME, closed, NAME, timeout=3)
    # Pinned, but nothing vouches for the lab's CA: the failure names the issuer to trust.
    problem = verify_chain(NAME, server.port, NAME)
    issuer = describe(pem_certificates(server.ca.cert_pem.bytes())[0]).subject
    assert "unable to get local issuer certificate" in problem and f"issued by {issuer}" in problem


def test_checks_ca_file_is_read_on_the_host_and_trusted_besides_the_store(server, tmp_path):
    server.write_ca(tmp_path / "root/etc/lab/ca.pem")
    engine_with(tmp_path, resolve=[f"{NAME}=127.0.0.1", "other.hslab.test=127.0.0.1"], ca_file="/etc/lab/ca.pem")
    assert verify_chain(NAME, server.port, NAME) is None
    assert "mismatch" in verify_chain("other.hslab.test", server.port, "other.hslab.test").lower()
    # The system store is still there: a CA outside it and the extra file is not trusted.
    assert "issued by" in verify_chain(NAME, server.port, NAME, ca_pem=trustme.CA().cert_pem.bytes().decode())


def test_http_get_connects_to_the_pin_with_the_name_as_host_and_sni(server, tmp_path):
    server.write_ca(tmp_path / "root/etc/lab/ca.pem")
    engine_with(tmp_path, resolve=[f"{NAME}=127.0.0.1"], ca_file="/etc/lab/ca.pem")
    answer = http.get(f"https://{NAME}:{server.port}/_matrix/client/v3/publicRooms")
    assert (answer.status, answer.json) == (401, {"errcode": "M_MISSING_TOKEN"})
    assert server.hosts == [f"{NAME}:{server.port}"] and server.sni == [NAME]
    assert http.get(f"https://{NAME}:{server.port}/moved", follow_redirects=True).status == 401
    assert server.hosts[1:] == [f"{NAME}:{server.port}"] * 2 and server.sni[1:] == [NAME] * 2


def test_http_get_without_the_ca_fails_verification(server, tmp_path):
    engine_with(tmp_path, resolve=[f"{NAME}=127.0.0.1"])
    answer = http.get(f"https://{NAME}:{server.port}/")
    assert answer.status is None and "CERTIFICATE_VERIFY_FAILED" in answer.message
    assert http.get(f"https://{NAME}:{server.port}/", verify=False).status == 401  # "is it up?" polls


def test_a_missing_ca_file_does_not_stop_the_engine_and_the_checks_name_it(server, tmp_path):
    (tmp_path / "root").mkdir()
    engine = engine_with(tmp_path, resolve=[f"{NAME}=127.0.0.1"], ca_file="/etc/lab/missing.pem")
    assert engine.config.checks.ca_file == "/etc/lab/missing.pem"
    assert verify_chain(NAME, server.port, NAME) == "/etc/lab/missing.pem does not exist; fix [checks] ca_file"
    answer = http.get(f"https://{NAME}:{server.port}/")
    assert answer.failure == "CaFileError" and "/etc/lab/missing.pem does not exist" in answer.message
    (tmp_path / "root/etc/lab").mkdir(parents=True)
    (tmp_path / "root/etc/lab/missing.pem").write_text("not a certificate\n")
    engine.config = engine.config  # new settings (the wizard's form) read the file again
    assert "holds no PEM certificate" in verify_chain(NAME, server.port, NAME)
    (tmp_path / "root/etc/lab/missing.pem").write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    engine.config = engine.config
    assert verify_chain(NAME, server.port, NAME).startswith("[checks] ca_file holds no usable CA certificate")


def test_an_ipv6_pin():
    try:
        served = Server("::1")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    served.thread.start()
    try:
        pins.configure([f"{NAME}=::1"], "/ca.pem", lambda path: served.ca.cert_pem.bytes().decode())
        assert http.get(f"https://{NAME}:{served.port}/").status == 401
        assert served.hosts == [f"{NAME}:{served.port}"] and served.sni == [NAME]
    finally:
        served.http.shutdown()
        served.http.server_close()


@pytest.mark.parametrize("entry, why", [
    ("no-equals", "entry 'no-equals' without '='"),
    ("name=not-an-ip", "whose name 'name' is not a host name"),
    ("matrix.example.com=not-an-ip", "whose address 'not-an-ip' is not an IPv4 or IPv6 address"),
    ("bad_name=1.2.3.4", "whose name 'bad_name' is not a host name"),
    ("matrix.example.com=[::1]", "whose address '[::1]' is not"),
])
def test_bad_entries_are_refused_naming_the_key_and_the_entry(entry, why):
    with pytest.raises(ConfigError, match=r"\[checks\] resolve .*") as caught:
        Config({"checks": {"resolve": ["turn.example.com=203.0.113.7", entry]}})
    assert why in str(caught.value) and "NAME=ADDRESS such as matrix.example.com=203.0.113.7" in str(caught.value)
    with pytest.raises(ConfigError, match=r"\[checks\] ca_file = 'relative/ca.pem' is not an absolute path"):
        Config({"checks": {"ca_file": "relative/ca.pem"}})


def test_the_cli_checks_honour_the_pin(server, tmp_path, docker_client):
    """``hardstep check synapse`` probes the room directory at the pinned name, trusting the CA."""
    root = tmp_path / "root"
    (root / "opt/matrix/synapse").mkdir(parents=True)
    (root / "opt/matrix/synapse/homeserver.yaml").write_text(f"server_name: {NAME}\n")
    server.write_ca(root / "etc/lab/ca.pem")
    config = tmp_path / "config.toml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def room_directory(**checks) -> dict:
        save_config(Config({"synapse": {"server_name": NAME, "url": f"https://{NAME}:{server.port}"},
                            "checks": checks}), config)
        done = subprocess.run([sys.executable, "-m", "app", "--config", str(config), "--root", str(root),
                               "--state-dir", str(tmp_path / "state"), "check", "synapse", "--json"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode in (0, 1), done.stderr
        return {r["check"]: r for r in json.loads(done.stdout)}["publicRooms -> 401"]

    unpinned = room_directory()
    assert unpinned["ok"] is False and "ConnectError" in unpinned["detail"]
    pinned = room_directory(resolve=[f"{NAME}=127.0.0.1"], ca_file="/etc/lab/ca.pem")
    assert pinned["ok"] is True, pinned["detail"]
    assert server.hosts == [f"{NAME}:{server.port}"] and server.sni == [NAME]


def test_the_route_check_fails_naming_an_unusable_ca_file(server, tmp_path):
    """A broken [checks] ca_file is a setting to fix: the traefik route check fails, not skips."""
    from app.shared.traefik import _route_check

    (tmp_path / "root").mkdir()
    engine = engine_with(tmp_path, resolve=[f"{NAME}=127.0.0.1"], ca_file="/etc/lab/missing.pem")
    engine.config = engine.config.with_value("synapse", "url", f"https://{NAME}:{server.port}")
    route = _route_check(engine.step("traefik"), engine.config)
    assert route.ok is False and "/etc/lab/missing.pem does not exist; fix [checks] ca_file" in route.detail


def test_the_dtls_handshake_connects_to_the_pin(tmp_path):
    """The DTLS check runs openssl from here: a pinned name is handed over as its address."""
    from app.net.dtls import dtls_certificate

    leaf = trustme.CA().issue_cert(NAME)
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = subprocess.Popen(["openssl", "s_server", "-dtls", "-accept", f"127.0.0.1:{port}", "-cert",
                               str(tmp_path / "cert.pem"), "-key", str(tmp_path / "key.pem")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert any("ACCEPT" in served.stdout.readline() for _ in range(5))  # after a DH note
        der, why = dtls_certificate(NAME, port, NAME, timeout=5)
        assert der is None and f"no DTLS handshake on UDP {NAME}:{port}" in why
        pins.configure([f"{NAME}=127.0.0.1"])
        der, why = dtls_certificate(NAME, port, NAME, timeout=5)
        assert der == pem_certificates(leaf.cert_chain_pems[0].bytes())[0], why
    finally:
        served.kill()
        served.wait(5)
