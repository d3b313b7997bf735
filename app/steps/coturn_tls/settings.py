"""The settings the coturn-tls step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("turn", "domain", "turn.matrix.example.com", "hostname", "Public name of the TURN server."),
    Field("turn", "container", "coturn", "name", "Name of the coTURN container."),
    Field("turn", "config", "/opt/coturn/turnserver.conf", "abspath", "coTURN's turnserver.conf."),
    Field("turn", "certs_dir", "/opt/certs", "abspath", "Folder shared by the acme container and coTURN."),
    Field("turn", "tls_port", 5349, "port", "The port clients use for TURNS (TLS, and DTLS on UDP)."),
    Field("turn", "cert", "/opt/certs/fullchain.pem", "abspath",
          "Certificate chain the renewal script writes and coTURN reads (leaf first)."),
    Field("turn", "key", "/opt/certs/privkey.pem", "abspath", "Private key beside it (mode 0600)."),
    Field("turn", "ca_file", "", "optional-abspath",
          "CA the TURNS checks trust instead of the system store; empty: the system store and [checks] ca_file."),
    Field("turn", "tls_address", "", "optional-address",
          "host:port the TURNS checks connect to; empty: <TURN domain>:<tls port>."),
    Field("turn", "dtls", True, "bool", "Also serve DTLS on UDP and announce turns:...?transport=udp."),
    Field("turn", "keep_plain_uris", False, "bool", "Plan item: keep the plain turn: URIs as a fallback."),
    Field("turn", "no_tcp_relay", False, "bool", "Plan item: no-tcp-relay (calls relay over UDP only)."),
    Field("turn", "no_multicast_peers", False, "bool", "Plan item: no-multicast-peers."),
    Field("turn", "deny_private_peers", False, "bool",
          "Plan item: denied-peer-ip for private and loopback ranges (no relaying into your LAN)."),
    Field("turn", "no_cli", False, "bool", "Plan item: no-cli (turn off coTURN's telnet admin console)."),
)
