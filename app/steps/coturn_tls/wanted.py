"""What the coturn-tls step wants in ``turnserver.conf`` and in Synapse's ``turn_uris``: used by the
plan that writes it and by the checks that read it back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.config.settings import Config

# Private and special-purpose ranges from Synapse's TURN howto: no relaying into the LAN.
PRIVATE_PEERS = [
    "0.0.0.0-0.255.255.255", "10.0.0.0-10.255.255.255", "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "172.16.0.0-172.31.255.255",
    "192.0.0.0-192.0.0.255", "192.0.2.0-192.0.2.255", "192.88.99.0-192.88.99.255",
    "192.168.0.0-192.168.255.255", "198.18.0.0-198.19.255.255", "198.51.100.0-198.51.100.255",
    "203.0.113.0-203.0.113.255", "240.0.0.0-255.255.255.255", "::1", "64:ff9b::-64:ff9b::ffff:ffff",
    "::ffff:0.0.0.0-::ffff:255.255.255.255", "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
]
# Plan item ([turn] setting) -> the turnserver.conf flag it writes.
FLAG_OPTIONS = {"no_tcp_relay": "no-tcp-relay", "no_multicast_peers": "no-multicast-peers", "no_cli": "no-cli"}
TURNS_DEFAULT_PORT, TURN_DEFAULT_PORT = 5349, 3478

def turn_uris(config: "Config", listening_port: int = TURN_DEFAULT_PORT) -> list[str]:
    domain, port = config.turn.domain, config.turn.tls_port
    secure = f"turns:{domain}" + (f":{port}" if port != TURNS_DEFAULT_PORT else "")
    plain = f"turn:{domain}" + (f":{listening_port}" if listening_port != TURN_DEFAULT_PORT else "")
    uris = [f"{secure}?transport=tcp"] + ([f"{secure}?transport=udp"] if config.turn.dtls else [])
    if config.turn.keep_plain_uris:
        uris += [f"{plain}?transport=udp", f"{plain}?transport=tcp"]
    return uris


def wanted_conf(config: "Config", flags: dict[str, bool]) -> dict[str, Any]:
    wanted: dict[str, Any] = {"cert": config.turn.cert, "pkey": config.turn.key,
                              "tls-listening-port": str(config.turn.tls_port), **flags}
    for option, flag in FLAG_OPTIONS.items():
        if config.value("turn", option):
            wanted[flag] = True
    if config.turn.deny_private_peers:
        wanted["denied-peer-ip"] = list(PRIVATE_PEERS)
    return wanted


def plain_port(conf: str) -> int:
    from app.editors.turnserver import values

    ports = [v for v in values(conf).get("listening-port", []) if v and v.isdigit()]
    return int(ports[-1]) if ports else TURN_DEFAULT_PORT
