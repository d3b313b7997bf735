"""hardstep's settings: a TOML file, hand-editable, written back with comments kept.

Every key has a default from the reference procedures and a kind that says how it is validated.
Invalid values are refused with a message that names the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from app.config import units, validate
from app.errors import ConfigError


@dataclass(frozen=True)
class Field:
    section: str
    key: str
    default: Any
    kind: str
    help: str

    @property
    def name(self) -> str:
        return f"[{self.section}] {self.key}"


FIELDS: tuple[Field, ...] = (
    Field("docker", "private_network", "private", "name",
          "User-defined bridge network shared only by Traefik and the socket proxy."),
    Field("docker", "socket_proxy_container", "dockerproxy", "name",
          "Name of the Docker socket proxy container."),
    Field("docker", "socket_proxy_image", "tecnativa/docker-socket-proxy:latest", "image",
          "Image of the socket proxy."),
    Field("docker", "probe_image", "alpine:latest", "image",
          "Image of the short-lived probe container that runs the live checks (needs wget)."),
    Field("docker", "socket", "/var/run/docker.sock", "abspath",
          "The engine's socket on the host, mounted read-only into the socket proxy."),
    Field("traefik", "container", "proxy", "name", "Name of the Traefik container."),
    Field("traefik", "config", "/opt/traefik/traefik.toml", "abspath", "Traefik's static configuration file."),
    Field("traefik", "web_network", "web", "name", "Network Traefik shares with the services it routes."),
    Field("traefik", "network", "", "optional-name",
          "providers.docker.network to write; empty: the web network."),
    Field("synapse", "container", "synapse", "name", "Name of the Synapse container."),
    Field("synapse", "config", "/opt/matrix/synapse/homeserver.yaml", "abspath", "Synapse's homeserver.yaml."),
    Field("synapse", "server_name", "matrix.example.com", "hostname", "The homeserver's server_name."),
    Field("synapse", "url", "https://matrix.example.com", "url", "Public URL of the homeserver."),
    Field("synapse", "federation_whitelist", [], "hostnames",
          "Servers allowed to federate besides this one; empty: federation off."),
    Field("synapse", "disable_registration", False, "bool", "Plan item: set enable_registration: false."),
    Field("synapse", "disable_guest_access", False, "bool", "Plan item: set allow_guest_access: false."),
    Field("synapse", "disable_turn_guests", False, "bool", "Plan item: set turn_allow_guests: false."),
    Field("synapse", "restart_timeout", 120, "seconds", "How long to wait for Synapse to answer after a restart."),
    Field("turn", "domain", "turn.matrix.example.com", "hostname", "Public name of the TURN server."),
    Field("turn", "container", "coturn", "name", "Name of the coTURN container."),
    Field("turn", "config", "/opt/coturn/turnserver.conf", "abspath", "coTURN's turnserver.conf."),
    Field("turn", "certs_dir", "/opt/certs", "abspath", "Folder shared by the acme container and coTURN."),
    Field("turn", "tls_port", 5349, "port", "The port clients use for TURNS (TLS, and DTLS on UDP)."),
    Field("turn", "cert", "/opt/certs/fullchain.pem", "abspath",
          "Certificate chain the renewal script writes and coTURN reads (leaf first)."),
    Field("turn", "key", "/opt/certs/privkey.pem", "abspath", "Private key beside it (mode 0600)."),
    Field("turn", "ca_file", "", "optional-abspath", "Extra CA the checks trust; empty: the system store."),
    Field("turn", "tls_address", "", "optional-address",
          "host:port the TURNS checks connect to; empty: <TURN domain>:<tls port>."),
    Field("turn", "dtls", True, "bool", "Also serve DTLS on UDP and announce turns:...?transport=udp."),
    Field("turn", "keep_plain_uris", False, "bool", "Plan item: keep the plain turn: URIs as a fallback."),
    Field("turn", "no_tcp_relay", False, "bool", "Plan item: no-tcp-relay (calls relay over UDP only)."),
    Field("turn", "no_multicast_peers", False, "bool", "Plan item: no-multicast-peers."),
    Field("turn", "deny_private_peers", False, "bool",
          "Plan item: denied-peer-ip for private and loopback ranges (no relaying into your LAN)."),
    Field("turn", "no_cli", False, "bool", "Plan item: no-cli (turn off coTURN's telnet admin console)."),
    Field("acme", "container", "acme", "name", "Container that gets coTURN's certificate through Traefik."),
    Field("acme", "image", "alpine:latest", "image", "Image of the acme container (acme.sh is installed with apk)."),
    Field("acme", "email", "", "optional-email", "Account e-mail the certificate authority needs for the first issuance."),
    Field("acme", "proxy_container", "acme-dockerproxy", "name",
          "The acme container's own narrow socket proxy (restart only)."),
    Field("acme", "network", "acme-private", "name", "Network shared only by the acme container and its proxy."),
    Field("traefik", "https_address", "", "optional-address",
          "host:port where Traefik's TLS entrypoint answers; empty: <TURN domain>:443."),
    Field("burmilla", "channel", "https://raw.githubusercontent.com/burmilla/releases/v1.9.x/releases.yml", "url",
          "Release channel for ros config set rancher.upgrade.url."),
    Field("burmilla", "target", "v1.9.6", "optional-version",
          "BurmillaOS version to upgrade to (v1.9.6 stays on 1.9); empty: what the channel calls current (2.x)."),
    Field("sandbox", "containers", [], "names", "Containers that get the sandbox (the picker writes this)."),
    Field("sandbox", "memory", "256m", "memory", "Memory limit of a sandboxed container; swap is set equal (no swap)."),
    Field("sandbox", "pids_limit", 50, "count", "Most processes a sandboxed container may run."),
    Field("sandbox", "cpus", 1.0, "cpus", "CPUs a sandboxed container may use."),
    Field("sandbox", "data_memory", "1g", "memory", "Memory limit instead for a database or Synapse."),
    Field("sandbox", "tmp_size", "64m", "size", "Size of the tmpfs on /tmp (rw,noexec,nosuid)."),
    Field("sandbox", "run_size", "32m", "size", "Size of the tmpfs on /run (rw,noexec,nosuid)."),
    Field("sandbox", "isolated", [], "names",
          "Sandboxed containers that need no peers: moved onto the restricted network alone."),
    Field("sandbox", "restricted_network", "restricted", "name",
          "Network with inter-container traffic off (enable_icc=false) for the isolated containers."),
    Field("docker", "daemon_config", "/etc/docker/daemon.json", "abspath", "The Docker engine's daemon.json."),
    Field("docker", "restart_command", [], "argv",
          "Command that restarts the engine; empty: systemd or BurmillaOS, detected."),
    Field("docker", "restart_timeout", 120, "seconds", "How long to wait for the engine after a restart."),
    Field("docker", "seccomp_profile", "/etc/docker/seccomp-hardstep.json", "abspath",
          "Where the daemon step installs hardstep's seccomp profile for daemon.json."),
    Field("docker", "log_max_size", "10m", "size", "json-file log rotation: size of one log file."),
    Field("docker", "log_max_file", 3, "count", "json-file log rotation: log files kept per container."),
    Field("docker", "userns_remap", False, "bool", "Plan item: userns-remap (read its consequences first)."),
)

_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (validate.is_docker_name, "is not a valid Docker name (letters, digits, '_', '.', '-')"),
    "optional-name": (lambda v: v == "" or validate.is_docker_name(v),
                      "is not a valid Docker name (letters, digits, '_', '.', '-'), nor empty"),
    "hostnames": (lambda v: all(isinstance(h, str) and validate.is_hostname(h) for h in v),
                  "must list host names such as example.org"),
    "bool": (lambda v: True, ""),
    "seconds": (lambda v: 0 < v <= 3600, "must be between 1 and 3600 seconds"),
    "hostname": (validate.is_hostname, "is not a host name such as matrix.example.com"),
    "abspath": (validate.is_abs_path, "is not an absolute path"),
    "image": (validate.is_image_ref, "is not a valid image reference such as alpine:latest"),
    "url": (validate.is_url, "is not an http(s) URL such as https://matrix.example.com"),
    "names": (lambda v: all(validate.is_docker_name(n) for n in v),
              "must list container names (letters, digits, '_', '.', '-')"),
    "size": (lambda v: units.parse_size(v) is not None, "is not a size such as 64m or 1g"),
    "memory": (lambda v: (units.parse_size(v) or 0) >= 6 * 2**20, "is not a size of at least 6m, such as 256m"),
    "count": (lambda v: 0 < v <= 1_000_000, "must be a whole number from 1 to 1000000"),
    "cpus": (lambda v: 0.01 <= v <= 1024, "must be a number of CPUs from 0.01 to 1024"),
    "port": (lambda v: 0 < v < 65536, "must be a port from 1 to 65535"),
    "optional-abspath": (lambda v: v == "" or validate.is_abs_path(v), "is not an absolute path, nor empty"),
    "optional-email": (lambda v: v == "" or validate.is_email(v), "is not an e-mail address such as admin@example.org"),
    "optional-address": (lambda v: v == "" or validate.is_host_port(v),
                         "is not host:port such as turn.example.com:443 or 127.0.0.1:8443, nor empty"),
    "optional-version": (lambda v: v == "" or validate.is_release(v), "is not a release such as v1.9.6, nor empty"),
    "argv": (units.is_argv, "must be a list of command words without control characters, the first a program"),
}

# Kinds whose values are not strings; every other kind is a string.
_TYPES: dict[str, type] = {"hostnames": list, "bool": bool, "seconds": int,
                          "names": list, "count": int, "port": int, "cpus": float, "argv": list}
_TYPE_WORDS = {str: "a string", list: "a list", bool: "true or false", int: "a whole number", float: "a number"}

_BY_KEY = {(f.section, f.key): f for f in FIELDS}


def field(section: str, key: str) -> Field:
    try:
        return _BY_KEY[(section, key)]
    except KeyError:
        raise ConfigError(f"config: unknown key [{section}] {key}") from None


def check_value(section: str, key: str, value: Any) -> Any:
    """Return the value when valid for its key, raise ConfigError naming the key when not."""
    spec = field(section, key)
    expected = _TYPES.get(spec.kind, str)
    if type(value) is int and expected is float:
        value = float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"config: {spec.name} must be {_TYPE_WORDS[expected]}, got {type(value).__name__}")
    ok, why = _CHECKS[spec.kind]
    if not ok(value):
        raise ConfigError(f"config: {spec.name} = {value!r} {why}")
    return value


class Section:
    """Read-only attribute view of one table: ``config.docker.private_network``."""

    def __init__(self, name: str, values: dict[str, Any]):
        self._name = name
        self._values = values

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"[{self._name}] has no key {key!r}") from None


class Config:
    """Validated settings. Immutable: ``with_value`` returns a new Config."""

    def __init__(self, values: dict[str, dict[str, Any]] | None = None, path: Path | None = None,
                 exists: bool = False):
        merged: dict[str, dict[str, Any]] = {}
        for spec in FIELDS:
            merged.setdefault(spec.section, {})[spec.key] = spec.default
        for section, table in (values or {}).items():
            if not isinstance(table, dict):
                raise ConfigError(f"config: [{section}] must be a table")
            for key, value in table.items():
                merged[section][key] = check_value(section, key, _plain(value))
        self._values = merged
        self.path = path
        self.exists = exists

    def __getattr__(self, section: str) -> Section:
        values = self.__dict__.get("_values", {})
        if section in values:
            return Section(section, values[section])
        raise AttributeError(section)

    def value(self, section: str, key: str) -> Any:
        field(section, key)
        return self._values[section][key]

    def with_value(self, section: str, key: str, value: Any) -> "Config":
        values = self.to_dict()
        values[section][key] = check_value(section, key, value)
        return Config(values, self.path, self.exists)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {section: dict(table) for section, table in self._values.items()}


def _plain(value: Any) -> Any:
    """tomlkit items -> plain Python values."""
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if unwrap else value


def default_config_path() -> Path:
    if os.geteuid() == 0:
        return Path("/etc/hardstep/config.toml")
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hardstep" / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file means defaults (first run)."""
    path = Path(path) if path else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path, exists=False)
    except PermissionError:
        raise ConfigError(f"config: permission denied reading {path}; run as root or pass --config") from None
    except IsADirectoryError:
        raise ConfigError(f"config: {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config: {path} is not UTF-8 text") from None
    return Config(parse_toml(text, path), path=path, exists=True)


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """The file's values. Reading keeps no comments, so the standard library's parser does it:
    it loads several times quicker than tomlkit, and the wizard reads the settings before its
    first frame. Only what tomllib refuses goes to tomlkit (which writes, keeping comments):
    a file tomlkit accepts still loads, and a broken file's error reads as it always has."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        pass
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None


def render_config(config: Config, original: str | None = None) -> str:
    """The TOML text for ``config``; with ``original``, only changed values are rewritten."""
    import tomlkit

    document = tomlkit.parse(original) if original else tomlkit.document()
    if not original:
        document.add(tomlkit.comment("hardstep settings. Every key is optional; see README.md."))
    for spec in FIELDS:
        value = config.value(spec.section, spec.key)
        table = document.get(spec.section)
        if table is None:
            table = tomlkit.table()
            document.add(tomlkit.nl())
            document.add(spec.section, table)
        if table.get(spec.key) != value:
            item = tomlkit.item(value)
            if not original:
                item.comment(spec.help)
            table[spec.key] = item
    return tomlkit.dumps(document)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write ``config`` to its file atomically, keeping comments and unknown formatting."""
    from app.host.fileops import atomic_write

    path = Path(path or config.path or default_config_path())
    try:
        original = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        original = None
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, render_config(config, original), default_mode=0o600)
    except OSError as exc:
        raise ConfigError(f"config: cannot write {path}: {exc.strerror}") from None
    return path
