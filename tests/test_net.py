"""app/net/http.py and app/net/tcp.py against real servers and sockets on loopback."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.net import http, tcp


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/matrix")
            body = b""
        elif self.path == "/matrix":
            self.send_response(401)
            body = json.dumps({"errcode": "M_MISSING_TOKEN"}).encode()
        else:
            self.send_response(200)
            body = b"plain text, not JSON"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_get_gives_status_and_json_body(base_url):
    answer = http.get(base_url + "/matrix")
    assert (answer.status, answer.json, answer.error) == (401, {"errcode": "M_MISSING_TOKEN"}, "")
    assert http.get(base_url + "/text") == http.Answer(200, None)


def test_redirects_are_followed_only_when_asked(base_url):
    assert http.get(base_url + "/moved").status == 302
    assert http.get(base_url + "/moved", follow_redirects=True).status == 401


def test_no_answer_says_why():
    port = _closed_port()
    answer = http.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert answer.status is None and answer.failure == "ConnectError"
    assert answer.error.startswith("ConnectError: ") and answer.message


def test_resolves():
    assert tcp.resolves("localhost", 443)
    assert not tcp.resolves("hardstep-test.invalid", 443)
