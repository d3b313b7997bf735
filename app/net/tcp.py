"""Raw TCP as seen from where hardstep runs: does a name resolve, and reading a stream socket
(such as an attached ``docker exec``) until a marker shows up."""

from __future__ import annotations

import socket
import time

from app.net import pins


def resolves(host: str, port: int) -> bool:
    """True when ``host`` resolves to an address for a TCP connection to ``port``; a name pinned by
    ``[checks] resolve`` resolves to its pinned address."""
    try:
        socket.getaddrinfo(pins.address(host), port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return True


def read_until(sock: socket.socket, marker: str, timeout: float, poll: float = 0.5) -> str:
    """What ``sock`` sends until ``marker`` is in it, the peer closes, or ``timeout`` seconds
    pass. Each read waits at most ``poll`` seconds, so a quiet peer cannot hold us past it."""
    sock.settimeout(poll)
    deadline = time.monotonic() + timeout
    output = ""
    while time.monotonic() < deadline and marker not in output:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        if not data:
            break  # the peer is gone
        output += data.decode("utf-8", "replace")
    return output
