"""Raw TCP as seen from where hardstep runs: does a name resolve (pins honoured)."""

from __future__ import annotations

import socket

from app.net import pins


def resolves(host: str, port: int) -> bool:
    """True when ``host`` resolves to an address for a TCP connection to ``port``; a name pinned by
    ``[checks] resolve`` resolves to its pinned address."""
    try:
        socket.getaddrinfo(pins.address(host), port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return True
