"""hardstep's settings: a TOML file, hand-editable, written back with comments kept.

Every key has a default from the reference procedures and a kind that says how it is validated.
Invalid values are refused with a message that names the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from app.config import units, validate
from app.config.field import Field
from app.net import settings as checks
from app.steps.acme import settings as acme
from app.steps.burmilla import settings as burmilla
from app.steps.coturn_tls import settings as coturn_tls
from app.steps.daemon import settings as daemon
from app.steps.private_network import settings as private_network
from app.steps.sandbox import settings as sandbox
from app.steps.socket_proxy import settings as socket_proxy
from app.steps.synapse import settings as synapse
from app.steps.traefik import settings as traefik
from app.errors import ConfigError


# Every step declares the settings it reads next to itself (``app/steps/<step>/settings.py``);
# the few that many steps read are here. The order is the settings form's and config.toml's.
COMMON_FIELDS: tuple[Field, ...] = (
    Field("docker", "probe_image", "alpine:latest", "image",
          "Image of the short-lived probe container that runs the live checks (needs wget)."),
    Field("docker", "socket", "/var/run/docker.sock", "abspath",
          "The engine's socket on the host, mounted read-only into the socket proxy."),
    Field("docker", "endpoint", "", "optional-docker-endpoint",
          "The Docker API hardstep talks to (unix:///path/docker.sock or tcp://host:port); empty: DOCKER_HOST, "
          "else the local socket."),
)
FIELDS: tuple[Field, ...] = (private_network.FIELDS + socket_proxy.FIELDS + COMMON_FIELDS + traefik.FIELDS
                             + synapse.FIELDS + coturn_tls.FIELDS + acme.FIELDS + burmilla.FIELDS
                             + sandbox.FIELDS + daemon.FIELDS + checks.FIELDS)

# Per kind: the check, and what the error says after the value (text, or made from the value).
_CHECKS: dict[str, tuple[Callable[[Any], bool], str | Callable[[Any], str]]] = {
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
    "optional-docker-endpoint": (lambda v: v == "" or validate.is_docker_endpoint(v),
                                 "is not unix:///absolute/path or tcp://host:port, nor empty"),
    "acme-server": (acme.is_server, acme.SERVER_HELP),
    "argv": (units.is_argv, "must be a list of command words without control characters, the first a program"),
    # Says which entry is wrong and why: a list of pins is easy to get one entry of wrong.
    "pins": (lambda v: not validate.pin_problem(v), validate.pin_problem),
}

# Kinds whose values are not strings; every other kind is a string.
_TYPES: dict[str, type] = {"hostnames": list, "bool": bool, "seconds": int,
                          "names": list, "count": int, "port": int, "cpus": float, "argv": list, "pins": list}
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
        raise ConfigError(f"config: {spec.name} = {value!r} {why(value) if callable(why) else why}")
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
    if os.environ.get("HARDSTEP_CONFIG"):  # the container image: the host's /etc under /host
        return Path(os.environ["HARDSTEP_CONFIG"])
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
    from tomlkit.exceptions import TOMLKitError

    from app.editors.toml_text import problem

    try:
        return tomlkit.parse(text).unwrap()
    except TOMLKitError as exc:  # a repeated key too: tomlkit raises KeyAlreadyPresent, no ParseError
        raise ConfigError(f"config: {path} is not valid TOML ({problem(text, exc)}); fix that line "
                          "and run hardstep again") from None


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
    from app.fileops import atomic_write

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
