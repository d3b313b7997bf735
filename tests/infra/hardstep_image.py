"""Build hardstep's container image from its wheel: ``make image`` runs this.

``python -m tests.infra.hardstep_image WHEEL [--base IMAGE] [--tag NAME:TAG ...]`` builds
``tests/infra/hardstep.Dockerfile`` on BASE (default ``python:3.11-slim``; any Debian-based image with Python 3.11 and its venv
module) and tags it ``hardstep:<version>`` and ``hardstep:latest`` unless tags are given.

The build needs no package index: the wheels of hardstep's runtime dependencies are downloaded
here, on the build machine, with ``pip download`` (binary wheels for CPython 3.11 on this
machine's architecture) into a wheelhouse under /var/tmp that later builds reuse, then copied
into the build context with hardstep's wheel and installed with ``pip install --no-index``.
The build is skipped when the first tag already carries the recipe label of this build (base
image, Dockerfile, wheel contents, wheelhouse). It uses the Docker SDK and the engine DOCKER_HOST
names (the default socket when unset) and prints the build's progress.

It lives with the test images' builders (whose wheel download it shares) because the repository's
top level is fixed: app/ is the product's core, and a build tool is not part of it.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Callable

import docker
from docker.errors import DockerException, ImageNotFound

DOCKERFILE = Path(__file__).with_name("hardstep.Dockerfile")
DEFAULT_BASE = "python:3.11-slim"
RECIPE_LABEL = "org.hardstep.recipe"
PYTHON_VERSION = "3.11"  # Debian bookworm's python3 and the default base's
WHEELHOUSES = Path("/var/tmp/hardstep-wheels")
# bookworm has glibc 2.36: every manylinux wheel up to that runs there (newest preferred).
GLIBC_MINORS = range(36, 16, -1)

Log = Callable[[str], None]


class ImageBuildError(Exception):
    """The one line ``make image`` prints when the build cannot go on."""


def platforms() -> list[str]:
    """pip's platform tags for a glibc 2.36 Linux on this machine's architecture."""
    arch = platform.machine()
    return [f"manylinux_2_{minor}_{arch}" for minor in GLIBC_MINORS] + [
        f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}", f"linux_{arch}"]


def download_wheels(requirements: list[str], dest: Path, log: Log) -> Path:
    """``dest`` filled once with binary wheels of ``requirements`` and all they need."""
    done = dest / ".complete"
    if done.exists():
        log(f"  wheels reused from {dest}")
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
           *[arg for p in platforms() for arg in ("--platform", p)], "-d", str(dest), *requirements]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines() if "is ignored" not in line)
        raise ImageBuildError(f"pip download of {' '.join(requirements)} failed:\n{tail[-3000:]}")
    done.write_text("\n".join(requirements) + "\n")
    log(f"  downloaded {len(list(dest.glob('*.whl')))} wheels in {time.monotonic() - t0:.0f}s")
    return dest


def wheel_metadata(wheel: Path) -> tuple[str, list[str]]:
    """(version, runtime requirements) from the wheel's METADATA (extras left out)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(zf.read(name).decode("utf-8"))
    return meta["Version"], [r for r in meta.get_all("Requires-Dist", []) if "extra ==" not in r]


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _wheel_digest(wheel: Path) -> str:
    """The wheel's file names and contents, not its zip timestamps (every build has new ones)."""
    with zipfile.ZipFile(wheel) as zf:
        return _digest(*(part for n in sorted(zf.namelist()) for part in (n, zf.read(n))))


def _base_id(client: docker.DockerClient, base: str, log: Log) -> str:
    try:
        return client.images.get(base).id
    except ImageNotFound:
        log(f"  pulling {base}")
    try:
        return client.images.pull(base).id
    except DockerException as exc:
        raise ImageBuildError(f"base image {base} is not on this engine and cannot be pulled "
                              f"({str(exc).splitlines()[0][:160]}); pull it or pass BASE=<a local image>") from None


def build_image(client: docker.DockerClient, wheel: Path, base: str = DEFAULT_BASE,
                tags: list[str] | None = None, log: Log = print) -> str:
    """Build (or reuse) the image; returns its id. ``tags``: default hardstep:<version> and :latest."""
    version, requirements = wheel_metadata(wheel)
    tags = tags or [f"hardstep:{version}", "hardstep:latest"]
    wheels = download_wheels(requirements, WHEELHOUSES / f"{_digest(*requirements, *platforms())}-cp311-"
                             f"{platform.machine()}", log)
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    recipe = _digest(_base_id(client, base, log), dockerfile, _wheel_digest(wheel),
                     *sorted(p.name for p in wheels.glob("*.whl")))
    try:
        image = client.images.get(tags[0])
        if image.labels.get(RECIPE_LABEL) == recipe:
            log(f"  {tags[0]} is up to date (recipe {recipe})")
            return _tag(image, tags)
    except ImageNotFound:
        pass
    log(f"  building {tags[0]} on {base}")
    with tempfile.TemporaryDirectory(prefix="hardstep-image-", dir="/var/tmp") as ctx:
        shutil.copytree(wheels, Path(ctx) / "wheels", ignore=shutil.ignore_patterns(".complete"))
        shutil.copy2(wheel, Path(ctx) / "wheels" / wheel.name)
        (Path(ctx) / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        # Classic builder; pull=False: the base is on this engine (checked above), never re-fetched.
        stream = client.api.build(path=ctx, tag=tags[0], pull=False, rm=True, forcerm=True, decode=True,
                                  buildargs={"BASE": base, "VERSION": version, "RECIPE": recipe})
        for chunk in stream:
            if "error" in chunk:
                raise ImageBuildError(f"building {tags[0]} failed: {chunk['error'].strip()}")
            line = str(chunk.get("stream", "")).rstrip()
            if line.startswith("Step ") or line.startswith("Successfully"):
                log(f"  {line}")
    return _tag(client.images.get(tags[0]), tags)


def _tag(image: "docker.models.images.Image", tags: list[str]) -> str:
    for tag in tags[1:]:
        repo, _, name = tag.rpartition(":")
        image.tag(repo, name)
    return image.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.infra.hardstep_image", description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="hardstep's wheel (make wheel)")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base image (default {DEFAULT_BASE})")
    parser.add_argument("--tag", action="append", help="tag to give (repeatable; default hardstep:<version>, :latest)")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    try:
        client = docker.from_env(timeout=600)
        image_id = build_image(client, args.wheel, args.base, args.tag,
                               log=lambda line: print(line, flush=True))
    except ImageBuildError as exc:
        print(f"image: {exc}", file=sys.stderr)
        return 2
    except (DockerException, OSError) as exc:  # no engine, no wheel: one line, what to do
        print(f"image: {str(exc).splitlines()[0][:200]} (is the engine up? did make wheel run?)", file=sys.stderr)
        return 2
    version = wheel_metadata(args.wheel)[0]
    print(f"image: {', '.join(args.tag or [f'hardstep:{version}', 'hardstep:latest'])} "
          f"({image_id[7:19]}) in {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
