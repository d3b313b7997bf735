"""Locally built test images for hardstep's tests (no registry is reachable from CI).

Every image is made on this machine with the Docker SDK and cached by tag: a build is
skipped when the tag exists (and carries the recipe label of the current recipe, so a
changed recipe below is rebuilt instead of silently reused).

- ``hardstep-test/busybox:1``: the "probe image". Debian's static ``/bin/busybox``
  (package busybox-static) with a symlink under ``/bin`` for every applet it lists
  (sh, wget, nc, ...), a minimal ``/etc/passwd``, ``/etc/group`` and ``/tmp``; imported
  from a tar stream with ``client.api.import_image``. About 1 s.
- ``hardstep-test/tools:bookworm-2``: a Debian bookworm ``debootstrap --variant=minbase``
  root with haproxy, curl, openssl, ca-certificates, coturn (the real TURN server the
  coturn-tls tests run), lego and pebble (a real ACME client and test CA), python3 with venv
  (the Synapse image's base), imported the same way.
  About 35 s plus the import; built only when missing.
- ``hardstep-test/socket-proxy:2`` and ``:1``: STAND-INS for the tecnativa/docker-socket-proxy
  image, used only because no image registry is reachable here. HAProxy from the tools
  image with a configuration that copies the rule structure of Tecnativa's and implements
  its documented environment variables, one image per generation of upstream's rules:
  ``:2`` today's ``haproxy.cfg.template`` (``ALLOW_EXEC``, ``ALLOW_KILL``, ``ALLOW_ATTACH``,
  ``ALLOW_ARCHIVE``, ``ALLOW_EXPORT``, ``ALLOW_LOGS``, ``ALLOW_PAUSE``, ``ALLOW_UNPAUSE`` and
  the methods ``DELETE``, ``PUT``, ``PATCH``, all off by default), ``:1`` the older
  ``haproxy.cfg``, where ``CONTAINERS=1`` opens all of ``/containers`` (``/archive`` and
  ``/export`` read any container's files: upstream issue #182) and ``POST=1`` every method.
  See ``SOCKET_PROXY_ENV``, ``NEWER_SWITCHES`` and ``GENERATIONS``. They are not Tecnativa's
  image and not a product artefact.

Python API: ``ensure_images(client) -> {"busybox": ..., "tools": ..., "socket_proxy": <:2>,
"socket_proxy_old": <:1>}``.
Command line: ``python -m tests.infra.images`` builds what is missing and says what it did.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import docker
from docker.errors import BuildError, ImageNotFound

BUSYBOX_TAG = "hardstep-test/busybox:1"
TOOLS_TAG = "hardstep-test/tools:bookworm-2"
SOCKET_PROXY_TAG = "hardstep-test/socket-proxy:2"  # today's upstream rules
SOCKET_PROXY_OLD_TAG = "hardstep-test/socket-proxy:1"  # the rules from before upstream issue #182

RECIPE_LABEL = "org.hardstep.test.recipe"

DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SUITE = "bookworm"
# python3-venv: the Synapse image builds its virtualenv on this base without an apt-get of its own.
TOOLS_PACKAGES = ("haproxy", "curl", "openssl", "ca-certificates", "coturn", "lego", "pebble",
                  "python3", "python3-venv")

Log = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def _hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Socket proxy stand-in: environment defaults, HAProxy config, entrypoint, Dockerfile
# --------------------------------------------------------------------------------------

# Tecnativa's documented defaults: EVENTS, PING and VERSION on; every other section off.
SOCKET_PROXY_ENV: dict[str, str] = {
    "EVENTS": "1",
    "PING": "1",
    "VERSION": "1",
    **{
        name: "0"
        for name in (
            "AUTH SECRETS POST BUILD COMMIT CONFIGS CONTAINERS ALLOW_START ALLOW_STOP "
            "ALLOW_RESTARTS DISTRIBUTION EXEC GRPC IMAGES INFO NETWORKS NODES PLUGINS "
            "SERVICES SESSION SWARM SYSTEM TASKS VOLUMES"
        ).split()
    },
    "DISABLE_IPV6": "0",
    "LOG_LEVEL": "info",
    "SOCKET_PATH": "/var/run/docker.sock",
}

# (section path as in the URL, environment variable), in Tecnativa's order.
_SECTIONS: tuple[tuple[str, str], ...] = (
    ("auth", "AUTH"),
    ("build", "BUILD"),
    ("commit", "COMMIT"),
    ("configs", "CONFIGS"),
    ("containers", "CONTAINERS"),
    ("distribution", "DISTRIBUTION"),
    ("events", "EVENTS"),
    ("exec", "EXEC"),
    ("grpc", "GRPC"),
    ("images", "IMAGES"),
    ("info", "INFO"),
    ("networks", "NETWORKS"),
    ("nodes", "NODES"),
    ("_ping", "PING"),
    ("plugins", "PLUGINS"),
    ("secrets", "SECRETS"),
    ("services", "SERVICES"),
    ("session", "SESSION"),
    ("swarm", "SWARM"),
    ("system", "SYSTEM"),
    ("tasks", "TASKS"),
    ("version", "VERSION"),
    ("volumes", "VOLUMES"),
)

_PREFIX = r"^(/v[\d\.]+)?(/\w+)?"


# Container lifecycle endpoints (URL tail, variable), checked before the section rules.
_LIFECYCLE = (("((stop)|(restart)|(kill))", "ALLOW_RESTARTS"), ("start", "ALLOW_START"), ("stop", "ALLOW_STOP"))
# The newer template's: pause and unpause are allowed by their own switches too ...
_NEWER_LIFECYCLE = _LIFECYCLE + (("pause", "ALLOW_PAUSE"), ("unpause", "ALLOW_UNPAUSE"))
# ... and these container endpoints are denied, even with CONTAINERS=1, unless their switch is on.
_NEWER_GATED = (("exec", "ALLOW_EXEC"), ("kill", "ALLOW_KILL"), ("attach", "ALLOW_ATTACH"),
                ("archive", "ALLOW_ARCHIVE"), ("export", "ALLOW_EXPORT"), ("logs", "ALLOW_LOGS"))
_NEWER_METHODS = ("POST", "DELETE", "PUT", "PATCH")  # each needs its own switch; GET and HEAD never
NEWER_SWITCHES = tuple(var for _, var in _NEWER_GATED + _NEWER_LIFECYCLE[3:]) + _NEWER_METHODS[1:]


def _allow_lines(lifecycle: tuple[tuple[str, str], ...] = _LIFECYCLE) -> str:
    lines = [
        f"    http-request allow if {{ path,url_dec -m reg -i {_PREFIX}/containers/[a-zA-Z0-9_.-]+/{tail} }} {{ env({var}) -m bool }}"
        for tail, var in lifecycle
    ]
    for section, var in _SECTIONS:
        lines.append(
            f"    http-request allow if {{ path,url_dec -m reg -i {_PREFIX}/{section} }} {{ env({var}) -m bool }}"
        )
    return "\n".join(lines)


_OLDER_HEADER = """\
# hardstep TEST STAND-IN for tecnativa/docker-socket-proxy.
#
# Used only because no image registry is reachable from hardstep's test machines, so the
# real image cannot be pulled. The frontend rules copy the structure of Tecnativa's
# haproxy.cfg: every non-GET/HEAD request is denied first unless POST=1, then a request is
# allowed when its URL-decoded path matches ^(/v<version>)?/<section> case-insensitively
# and that section's environment variable is true; everything else gets HAProxy's 403.
# The entrypoint replaces __BIND__ (IPv4+IPv6, or IPv4 only with DISABLE_IPV6=1) and
# writes the result to a writable runtime directory (/run, else /tmp).
"""

_NEWER_HEADER = """\
# hardstep TEST STAND-IN for tecnativa/docker-socket-proxy, newer generation.
#
# Used only because no image registry is reachable from hardstep's test machines, so the
# real image cannot be pulled. The frontend rules copy the structure of Tecnativa's
# haproxy.cfg.template after upstream issue #182: POST, DELETE, PUT and PATCH each need their
# own switch; the container endpoints exec, kill, attach, archive, export and logs are denied
# unless ALLOW_<NAME>=1, even with CONTAINERS=1; pause and unpause have switches as start and
# stop do; then a request is allowed when its URL-decoded path matches
# ^(/v<version>)?/<section> case-insensitively and that section's environment variable is
# true; everything else gets HAProxy's 403. The entrypoint replaces __BIND__ (IPv4+IPv6, or
# IPv4 only with DISABLE_IPV6=1) and writes the result to a writable runtime directory
# (/run, else /tmp).
"""


def _haproxy_cfg(header: str, rules: str) -> str:
    return header + """\
global
    log stdout format raw daemon "${LOG_LEVEL}"
    maxconn 4000

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option http-server-close
    option redispatch
    retries 3
    timeout http-request 10s
    timeout queue 1m
    timeout connect 10s
    timeout client 10m
    timeout server 10m
    timeout http-keep-alive 10s
    timeout check 10s
    maxconn 3000

backend dockerbackend
    server dockersocket $SOCKET_PATH

backend docker-events
    server dockersocket $SOCKET_PATH
    timeout server 0

frontend dockerfrontend
    bind __BIND__
""" + rules + """
    http-request deny
    default_backend dockerbackend

    use_backend docker-events if { path,url_dec -m reg -i ^(/v[\\d\\.]+)?(/\\w+)?/events }
"""


def _newer_rules() -> str:
    methods = " || ".join(f"{{ method {m} }} {{ env({m}) -m bool }}" for m in _NEWER_METHODS)
    gated = [f"    http-request deny if {{ path,url_dec -m reg -i {_PREFIX}/containers/[a-zA-Z0-9_.-]+/{tail} }} "
             f"!{{ env({var}) -m bool }}" for tail, var in _NEWER_GATED]
    return "\n".join([f"    http-request deny unless METH_GET || {methods}", *gated, _allow_lines(_NEWER_LIFECYCLE)])


HAPROXY_CFG_TEMPLATE = _haproxy_cfg(
    _OLDER_HEADER, "    http-request deny unless METH_GET || { env(POST) -m bool }\n" + _allow_lines())
HAPROXY_CFG_TEMPLATE_NEWER = _haproxy_cfg(_NEWER_HEADER, _newer_rules())

ENTRYPOINT_SH = """\
#!/bin/sh
# hardstep TEST STAND-IN for tecnativa/docker-socket-proxy: chooses the listen address,
# writes the HAProxy config to a writable runtime directory and runs HAProxy in the
# foreground (master-worker, -db). Works with cap_drop=ALL, no-new-privileges, a
# read-only socket mount and tmpfs /run (the config then lives on the tmpfs).
set -e

case "$(echo "${DISABLE_IPV6:-0}" | tr '[:upper:]' '[:lower:]')" in
  1|true|yes) BIND=":2375" ;;
  *)
    # Like upstream: [::]:2375 v4v6. A kernel without IPv6 gets plain IPv4 instead of a
    # failure (IPv4 is all hardstep's tests need).
    if [ -e /proc/net/if_inet6 ]; then BIND="[::]:2375 v4v6"; else BIND=":2375"; fi ;;
esac

CFG=""
for dir in /run /tmp; do
  if sed "s/__BIND__/$BIND/" /usr/local/etc/haproxy/haproxy.cfg.template > "$dir/haproxy.cfg" 2>/dev/null; then
    CFG="$dir/haproxy.cfg"
    break
  fi
done
if [ -z "$CFG" ]; then
  echo "socket-proxy stand-in: neither /run nor /tmp is writable (mount a tmpfs on /run)" >&2
  exit 1
fi

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = "haproxy" ]; then
  shift
  set -- haproxy -W -db -f "$CFG" "$@"
fi
exec "$@"
"""


@dataclass(frozen=True)
class Generation:
    """One generation of upstream's rules, one stand-in image."""

    tag: str
    recipe: str  # the recipe's version word
    cfg: str
    env: dict[str, str]


GENERATIONS = {
    "socket_proxy": Generation(SOCKET_PROXY_TAG, "socket-proxy-v2", HAPROXY_CFG_TEMPLATE_NEWER,
                               {**SOCKET_PROXY_ENV, **{name: "0" for name in NEWER_SWITCHES}}),
    "socket_proxy_old": Generation(SOCKET_PROXY_OLD_TAG, "socket-proxy-v1", HAPROXY_CFG_TEMPLATE, SOCKET_PROXY_ENV),
}


def _socket_proxy_dockerfile(recipe: str, environment: dict[str, str] = SOCKET_PROXY_ENV) -> str:
    env = " \\\n    ".join(f"{k}={v}" for k, v in environment.items())
    return f"""\
# hardstep TEST STAND-IN for tecnativa/docker-socket-proxy.
# Built locally from {TOOLS_TAG} (Debian bookworm + haproxy) because no image registry is
# reachable from hardstep's test machines. Not Tecnativa's image; for tests and the lab only.
FROM {TOOLS_TAG}
LABEL org.opencontainers.image.title="hardstep test stand-in for tecnativa/docker-socket-proxy" \\
      {RECIPE_LABEL}="{recipe}"
EXPOSE 2375
ENV {env}
COPY haproxy.cfg.template /usr/local/etc/haproxy/haproxy.cfg.template
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["haproxy"]
"""


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds between processes sharing this engine (several clones, pytest + make)."""
    path = Path(tempfile.gettempdir()) / "hardstep-test-images.lock"
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_local(client: docker.DockerClient, ctx: str, tag: str) -> None:
    """Build the Dockerfile in ``ctx`` as ``tag`` with the classic builder from a local base image
    (pull=False: nothing is fetched from a registry); a failure says the build log's last lines."""
    try:
        client.images.build(path=ctx, tag=tag, pull=False, rm=True, forcerm=True)
    except BuildError as exc:
        lines = [str(item.get("stream") or item.get("error") or "").rstrip() for item in exc.build_log]
        raise RuntimeError(f"building {tag} failed: {exc.msg}\n" + "\n".join(lines[-30:])) from None


def _existing_recipe(client: docker.DockerClient, tag: str) -> str | None:
    """The recipe label of the image at ``tag``; "" when unlabelled; None when missing."""
    try:
        image = client.images.get(tag)
    except ImageNotFound:
        return None
    return (image.labels or {}).get(RECIPE_LABEL, "")


def _check_import_result(result: str, tag: str) -> None:
    for line in (result or "").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and (msg.get("error") or msg.get("errorDetail")):
            raise RuntimeError(f"importing {tag} failed: {msg.get('error') or msg.get('errorDetail')}")


def _split_tag(tag: str) -> tuple[str, str]:
    repo, _, version = tag.rpartition(":")
    return repo, version


def _is_static_elf(path: str) -> bool:
    """True when ``path`` is an ELF executable without a program interpreter (static)."""
    with open(path, "rb") as fh:
        data = fh.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only (amd64/arm64 here)
        return False
    endian = "little" if data[5] == 1 else "big"
    phoff = int.from_bytes(data[0x20:0x28], endian)
    phentsize = int.from_bytes(data[0x36:0x38], endian)
    phnum = int.from_bytes(data[0x38:0x3A], endian)
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off : off + 4], endian) == 3:  # PT_INTERP
            return False
    return True


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


def _busybox_path() -> str:
    for cand in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(cand):
            return cand
    found = shutil.which("busybox")
    if found:
        return found
    raise RuntimeError("busybox not found: install Debian's busybox-static ('make setup')")


def _busybox_recipe(busybox: str) -> str:
    with open(busybox, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return _hash("busybox-v1", digest, PASSWD, GROUP)


def build_busybox(client: docker.DockerClient, tag: str = BUSYBOX_TAG, log: Log = _quiet) -> None:
    busybox = _busybox_path()
    if not _is_static_elf(os.path.realpath(busybox)):
        raise RuntimeError(
            f"{busybox} is not statically linked: install Debian's busybox-static, not busybox"
        )
    applets = subprocess.run(
        [busybox, "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    recipe = _busybox_recipe(busybox)

    buf = io.BytesIO()
    now = int(time.time())

    def add_dir(tf: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
        ti = tarfile.TarInfo(name)
        ti.type = tarfile.DIRTYPE
        ti.mode = mode
        ti.mtime = now
        tf.addfile(ti)

    def add_file(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = mode
        ti.mtime = now
        tf.addfile(ti, io.BytesIO(data))

    with tarfile.open(fileobj=buf, mode="w") as tf:
        for d in ("bin", "etc", "root", "proc", "sys", "dev"):
            add_dir(tf, d, 0o700 if d == "root" else 0o755)
        add_dir(tf, "tmp", 0o1777)
        with open(busybox, "rb") as fh:
            add_file(tf, "bin/busybox", fh.read(), 0o755)
        for applet in sorted(set(applets)):
            if applet == "busybox" or "/" in applet:
                continue
            ti = tarfile.TarInfo(f"bin/{applet}")
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            ti.mode = 0o777
            ti.mtime = now
            tf.addfile(ti)
        add_file(tf, "etc/passwd", PASSWD.encode())
        add_file(tf, "etc/group", GROUP.encode())

    repo, version = _split_tag(tag)
    result = client.api.import_image(
        src=buf.getvalue(),
        repository=repo,
        tag=version,
        changes=[
            'CMD ["sh"]',
            "ENV PATH=/bin",
            f"LABEL {RECIPE_LABEL}={recipe}",
        ],
    )
    _check_import_result(result, tag)
    log(f"  {len(applets)} busybox applets linked under /bin")


def _tools_recipe() -> str:
    return _hash("tools-v1", DEBIAN_SUITE, "minbase", ",".join(TOOLS_PACKAGES), DEBIAN_MIRROR)


def _tar_rootfs(root: Path, out: Path) -> None:
    """Tar a debootstrapped root for ``docker import``, without device nodes and API mounts."""
    skip_contents = {"dev", "proc", "sys", "run", "tmp"}

    def flt(ti: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = ti.name[2:] if ti.name.startswith("./") else ti.name
        top, _, rest = name.partition("/")
        if top in skip_contents and rest:
            return None
        if ti.ischr() or ti.isblk() or ti.isfifo():
            return None
        if name.startswith("var/cache/apt/archives/") and name.endswith(".deb"):
            return None
        if name.startswith("var/lib/apt/lists/") and ti.isfile():
            return None
        return ti

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        tf.add(str(root), arcname=".", recursive=True, filter=flt)


def build_tools(client: docker.DockerClient, tag: str = TOOLS_TAG, log: Log = _quiet) -> None:
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not os.path.exists(debootstrap):
        raise RuntimeError("debootstrap not found: run 'make setup'")
    if os.geteuid() != 0:
        raise RuntimeError(f"building {tag} needs root (debootstrap)")
    # /var/tmp: on disk (not a small tmpfs) and not mounted noexec on Debian.
    work = Path(tempfile.mkdtemp(prefix="hardstep-tools-", dir="/var/tmp"))
    try:
        root = work / "root"
        cmd = [
            debootstrap,
            "--variant=minbase",
            "--include=" + ",".join(TOOLS_PACKAGES),
            DEBIAN_SUITE,
            str(root),
            DEBIAN_MIRROR,
        ]
        log("  " + " ".join(cmd))
        t0 = time.monotonic()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-30:])
            debootstrap_log = root / "debootstrap" / "debootstrap.log"
            if debootstrap_log.exists():
                tail += "\n--- debootstrap.log ---\n" + "\n".join(
                    debootstrap_log.read_text(errors="replace").splitlines()[-30:]
                )
            raise RuntimeError(f"debootstrap failed ({proc.returncode}):\n{tail}")
        log(f"  debootstrap done in {time.monotonic() - t0:.0f}s; importing")
        tar_path = work / "rootfs.tar"
        _tar_rootfs(root, tar_path)
        repo, version = _split_tag(tag)
        result = client.api.import_image(
            src=str(tar_path),
            repository=repo,
            tag=version,
            changes=[
                'CMD ["bash"]',
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"LABEL {RECIPE_LABEL}={_tools_recipe()}",
            ],
        )
        _check_import_result(result, tag)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _generation(tag: str) -> Generation:
    return next(g for g in GENERATIONS.values() if g.tag == tag)


def _socket_proxy_recipe(client: docker.DockerClient, tag: str = SOCKET_PROXY_TAG) -> str:
    # The base image's id is part of the recipe: a rebuilt tools image rebuilds the proxy.
    try:
        base = client.images.get(TOOLS_TAG).id
    except ImageNotFound:
        base = "missing"
    generation = _generation(tag)
    return _hash(
        generation.recipe,
        base,
        generation.cfg,
        ENTRYPOINT_SH,
        json.dumps(generation.env, sort_keys=True),
        _socket_proxy_dockerfile("", generation.env),
    )


def build_socket_proxy(
    client: docker.DockerClient, tag: str = SOCKET_PROXY_TAG, log: Log = _quiet
) -> None:
    recipe, generation = _socket_proxy_recipe(client, tag), _generation(tag)
    with tempfile.TemporaryDirectory(prefix="hardstep-socket-proxy-") as ctx:
        ctxp = Path(ctx)
        (ctxp / "Dockerfile").write_text(_socket_proxy_dockerfile(recipe, generation.env))
        (ctxp / "haproxy.cfg.template").write_text(generation.cfg)
        ep = ctxp / "docker-entrypoint.sh"
        ep.write_text(ENTRYPOINT_SH)
        ep.chmod(0o755)
        # Classic builder, local base image: pull=False so nothing is fetched.
        client.images.build(path=ctx, tag=tag, pull=False, rm=True, forcerm=True)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _ensure_one(
    client: docker.DockerClient,
    key: str,
    tag: str,
    recipe: str,
    build: Callable[..., None],
    log: Log,
    report: dict[str, str],
) -> None:
    have = _existing_recipe(client, tag)
    old_id = client.images.get(tag).id if have is not None else None
    if have == recipe:
        log(f"reused  {tag}")
        report[key] = "reused"
        return
    why = "missing" if have is None else "recipe changed"
    log(f"build   {tag} ({why})")
    t0 = time.monotonic()
    build(client, tag=tag, log=log)
    if _existing_recipe(client, tag) != recipe:
        raise RuntimeError(f"built {tag} but it does not carry recipe {recipe}")
    took = time.monotonic() - t0
    if old_id and old_id != client.images.get(tag).id:
        # Drop the superseded image unless something still uses it (then it stays, untagged).
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(old_id)
    log(f"built   {tag} in {took:.1f}s")
    report[key] = f"built in {took:.1f}s"


def ensure_images(client: docker.DockerClient, log: Log = _quiet) -> dict[str, str]:
    """Build the test images that are missing (or whose recipe changed); return their tags.

    Returns ``{"busybox": "hardstep-test/busybox:1", "tools": "hardstep-test/tools:bookworm-2",
    "socket_proxy": "hardstep-test/socket-proxy:2", "socket_proxy_old": "hardstep-test/socket-proxy:1"}``.
    """
    report: dict[str, str] = {}
    with _build_lock():
        _ensure_one(
            client, "busybox", BUSYBOX_TAG, _busybox_recipe(_busybox_path()), build_busybox, log, report
        )
        _ensure_one(client, "tools", TOOLS_TAG, _tools_recipe(), build_tools, log, report)
        for key, generation in GENERATIONS.items():
            _ensure_one(client, key, generation.tag, _socket_proxy_recipe(client, generation.tag),
                        build_socket_proxy, log, report)
    return {"busybox": BUSYBOX_TAG, "tools": TOOLS_TAG, **{key: g.tag for key, g in GENERATIONS.items()}}


def run_build(ensure: Callable[..., "dict[str, str] | str"]) -> int:
    """What ``make images`` runs for each image module: build with progress, then say the tags."""
    def log(msg: str) -> None:
        print(f"images: {msg}", flush=True)

    t0 = time.monotonic()
    tags = ensure(docker.from_env(), log=log)
    shown = tags if isinstance(tags, str) else ", ".join(tags.values())
    log(f"ready in {time.monotonic() - t0:.1f}s: {shown}")
    return 0


def main() -> int:
    return run_build(ensure_images)


if __name__ == "__main__":
    sys.exit(main())
