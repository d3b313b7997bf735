"""The practice lab's files: the host tree and a config whose Docker names all carry ``hslab-``.

``build_lab`` lays out, under ``<lab>/root/``, the files of the reference host (Traefik, Synapse,
coTURN, os-release, daemon.json) in their unhardened state, writes ``<lab>/config.toml`` naming
only ``hslab-*`` containers and networks and aiming hardstep at the lab's own engine, and
``<lab>/state/``. It starts nothing (``app.lab.start_lab`` does). Running it again only adds what
is missing, so practice edits and recorded state survive. The guard (``app.lab.guard``) makes
the lab refuse a config that names anything without the prefix.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.config import settings as cfg
from app.assets import read_asset
from app.errors import HardstepError
from app.fileops import atomic_write
from app.host.local import LocalHost
from app.lab import stack
from app.lab.engine import LabEngine
from app.lab.guard import LAB_PREFIX, ensure_lab_config, name_fields


# Files of the lab host that come from assets/lab/: path on the host -> (asset name, mode).
# Paths follow the config defaults, so the lab config needs no path overrides.
_ASSET_FILES: dict[str, tuple[str, int]] = {
    cfg.field("traefik", "config").default: ("traefik.toml", 0o644),
    cfg.field("synapse", "config").default: ("homeserver.yaml", 0o644),
    cfg.field("turn", "config").default: ("turnserver.conf", 0o644),
    "/etc/os-release": ("os-release", 0o644),
    f"/opt/matrix/synapse/{stack.SERVER_NAME}.log.config": ("synapse.log.config", 0o644),
    f"{stack.ELEMENT_DIR}/index.html": ("element.html", 0o644),
    stack.DNS_SCRIPT: ("dns.py", 0o644),
}
# Small files written from here. Traefik refuses an acme.json readable by others, hence 0600.
_INLINE_FILES: dict[str, tuple[str, int]] = {
    str(Path(cfg.field("traefik", "config").default).with_name("acme.json")): ("{}\n", 0o600),
    "/etc/docker/daemon.json": ('{\n    "log-driver": "json-file"\n}\n', 0o644),
}
_EMPTY_DIRS: tuple[str, ...] = (cfg.field("turn", "certs_dir").default, str(Path(stack.LAB_CA).parent))
# Synapse's signing key: made for each lab (ed25519, key id a_lab), never shipped.
SIGNING_KEY = f"/opt/matrix/synapse/{stack.SERVER_NAME}.signing.key"

_README = f"""\
hardstep practice lab
=====================

This folder is a practice Matrix host, running, in the state the reference procedure starts
from: nothing hardened yet. `hardstep lab` starts it on the lab's own Docker engine (a second
dockerd in the network namespace engine/, never this machine's engine):

  {LAB_PREFIX}proxy     real Traefik, reading the engine's socket, certificates from the lab CA
  {LAB_PREFIX}synapse   real Synapse behind it, https://{stack.SERVER_NAME} (SQLite, not Postgres)
  {LAB_PREFIX}element   the page Traefik routes for https://{stack.ELEMENT_NAME} (a static stand-in)
  {LAB_PREFIX}coturn    real coTURN with the reference's unhardened turnserver.conf
  {LAB_PREFIX}pebble    the lab's certificate authority (Let's Encrypt's pebble)
  {LAB_PREFIX}dns       the lab's public DNS: its names, all at the lab's address

The names resolve for hardstep's checks through [checks] resolve in config.toml (the lab's
address on this machine); add the same lines to curl with --resolve to look yourself.

  root/         the lab host's files: root/opt/traefik/traefik.toml is the lab's
                /opt/traefik/traefik.toml, and so on. Edit them as much as you like.
  config.toml   hardstep's settings for the lab. Every Docker container and network it
                names starts with "{LAB_PREFIX}".
  state/        what hardstep remembers about the lab: step status, undo records, backups.
  engine/       the lab's Docker engine: its images, containers, socket and log.

The lab only ever creates, changes or removes Docker objects whose names start with
"{LAB_PREFIX}". It refuses to open when config.toml names anything else, so it can never touch
a real stack on this machine.

Running the lab again adds missing files only and starts what is stopped: your edits and the
recorded state are kept. To start over, stop the lab and delete this folder.

To look at the lab's containers yourself, from this folder:
  DOCKER_HOST=unix://$PWD/engine/docker.sock docker ps
"""


@dataclass
class Lab:
    dir: Path
    root: Path
    config: Path
    state: Path


def default_lab_dir() -> Path:
    """``$XDG_DATA_HOME/hardstep/lab``, by default ``~/.local/share/hardstep/lab``."""
    base = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says to ignore relative values.
    if not base or not os.path.isabs(base):
        base = str(Path.home() / ".local" / "share")
    return Path(base) / "hardstep" / "lab"


def lab_engine(lab_dir: Path) -> LabEngine:
    """The lab's engine for the lab in ``lab_dir`` (nothing is started)."""
    return LabEngine(lab_dir, lab_dir / "root", LocalHost("/"))


def lab_values(lab_dir: Path, socket_proxy_image: str | None = None, probe_image: str | None = None) -> dict:
    """The lab config's values: every name is the default with the prefix; hardstep talks to the
    lab's engine, restarts only it, reaches the lab's names at its address and trusts its CA."""
    engine = lab_engine(lab_dir)
    values: dict[str, dict] = {}
    for spec in name_fields():
        values.setdefault(spec.section, {})[spec.key] = LAB_PREFIX + spec.default
    values["docker"] |= {"endpoint": engine.url, "socket": str(engine.socket),
                         "restart_command": engine.restart_argv(), "restart_timeout": 90,
                         "socket_proxy_image": socket_proxy_image or stack.IMAGES["socket_proxy"],
                         "probe_image": probe_image or stack.IMAGES["busybox"]}
    values["synapse"] |= {"server_name": stack.SERVER_NAME, "url": f"https://{stack.SERVER_NAME}"}
    values["turn"] |= {"domain": stack.TURN_NAME}
    values["acme"] |= {"image": stack.IMAGES["acme"], "email": "admin@hslab.test", "server": stack.ACME_DIRECTORY}
    values["checks"] = {"resolve": [f"{name}={engine.address}" for name in stack.PUBLIC_NAMES],
                        "ca_file": stack.LAB_CA}
    return values


def build_lab(directory: Path | None = None, *, socket_proxy_image: str | None = None,
              probe_image: str | None = None) -> Lab:
    """Create (or complete) the lab in ``directory`` and return its paths.

    Only missing files are written, so re-running keeps practice edits and state. An existing
    config is checked by the guard before anything else is touched; image overrides given here
    replace just those two keys in it.
    """
    base = Path(directory) if directory is not None else default_lab_dir()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    base = base.resolve()
    lab = Lab(dir=base, root=base / "root", config=base / "config.toml", state=base / "state")

    _prepare_config(lab.config, lab_values(base, socket_proxy_image, probe_image), socket_proxy_image, probe_image)
    _populate_root(lab.root)
    lab.state.mkdir(exist_ok=True, mode=0o700)
    _write_readme(base / "README.txt")
    return lab


def _prepare_config(path: Path, values: dict, socket_proxy_image: str | None,
                    probe_image: str | None) -> cfg.Config:
    if not path.exists():
        # Values are validated by Config before anything is written.
        config = cfg.Config(values, path=path)
        cfg.save_config(config, path)
        return cfg.load_config(path)
    config = ensure_lab_config(_with_missing_values(cfg.load_config(path), path, values))
    changed = config
    for key, image in (("socket_proxy_image", socket_proxy_image), ("probe_image", probe_image)):
        if image is not None and changed.value("docker", key) != image:
            changed = changed.with_value("docker", key, image)
    if changed is not config:
        cfg.save_config(changed, path)
    return changed


def _with_missing_values(config: cfg.Config, path: Path, values: dict) -> cfg.Config:
    """A lab made by an older hardstep lacks keys added since (names, the lab engine, the lab's
    names and CA): give them the lab's values and save. Keys the file does state are kept, and
    its names are left to the guard."""
    import tomlkit

    stated = tomlkit.parse(path.read_text(encoding="utf-8")).unwrap()
    filled = config
    for section, keys in values.items():
        for key, value in keys.items():
            if key not in stated.get(section, {}):
                filled = filled.with_value(section, key, value)
    if filled is not config:
        cfg.save_config(filled, path)
    return filled


def _populate_root(root: Path) -> None:
    root.mkdir(exist_ok=True, mode=0o755)
    if not root.resolve().is_relative_to(root.parent):
        raise HardstepError(f"lab: {root} leads outside the lab folder (a symlink?); "
                            f"the lab only writes inside its own folder")
    for host_dir in _EMPTY_DIRS:
        _inside(root, host_dir).mkdir(parents=True, exist_ok=True)
    for host_path, (content, mode) in _INLINE_FILES.items():
        _create_if_missing(_inside(root, host_path), content, mode)
    for host_path, (asset, mode) in _ASSET_FILES.items():
        target = _inside(root, host_path)
        if target.exists() or target.is_symlink():
            continue
        try:
            text = read_asset("lab", asset)
        except OSError as exc:
            raise HardstepError(f"lab: cannot read the bundled file assets/lab/{asset}: "
                                f"{exc.strerror}; reinstall hardstep") from None
        _create_if_missing(target, text, mode)
    # Unpadded base64 of a 32-byte ed25519 seed: the format Synapse's --generate-keys writes.
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    _create_if_missing(_inside(root, SIGNING_KEY), f"ed25519 a_lab {seed}\n", 0o600)


def _inside(root: Path, host_path: str) -> Path:
    """``root`` + absolute ``host_path``, its folders created one by one, refusing any symlink
    that leads out of the lab root (checked before anything is created through it)."""
    real_root = root.resolve()
    target = root / host_path.lstrip("/")
    folder = root
    for part in target.parent.relative_to(root).parts:
        folder = folder / part
        if not folder.resolve().is_relative_to(real_root):
            raise HardstepError(f"lab: {folder} leads outside the lab folder {root} "
                                f"(a symlink?); the lab only writes inside its own folder")
        folder.mkdir(exist_ok=True)
    return target


def _create_if_missing(target: Path, content: str, mode: int) -> bool:
    """Write ``target`` only if it does not exist; atomic, never overwrites. True when written."""
    if target.exists() or target.is_symlink():
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".hslab-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        # link() fails when the target appeared meanwhile: a concurrent edit is never replaced.
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create instead
            return _create_exclusive(target, content, mode)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _create_exclusive(target: Path, content: str, mode: int) -> bool:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), mode)  # the umask may have narrowed it
        handle.write(content)
    return True


def _write_readme(path: Path) -> None:
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current != _README:
        atomic_write(path, _README)
