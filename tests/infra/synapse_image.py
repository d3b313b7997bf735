"""A real Synapse for hardstep's tests, built on this machine without any image registry.

``hardstep-test/synapse:<version>-1``: Debian bookworm (``hardstep-test/tools:bookworm-2``, which
has Debian's ``python3`` and ``python3-venv``) and ``matrix-synapse`` from PyPI installed into
``/opt/synapse`` from a wheelhouse. Containers do not reach PyPI (FACTS, "More engine facts"),
so the wheels are downloaded here on the host with ``pip download`` (binary wheels only, for
bookworm's CPython 3.11 on this machine's architecture) while the base image is built, and
copied into the build context; the build installs them with ``pip install --no-index
--find-links``. The wheelhouse is kept under /var/tmp, so a rebuild does not download again.

Cached like the images in ``tests.infra.images``: the build is skipped when the tag exists with
the current recipe label (version, Dockerfile, base image id).

Python API: ``ensure_synapse_image(client) -> tag``. Command line:
``python -m tests.infra.synapse_image`` builds it when missing and says how long it took.
"""

from __future__ import annotations

import platform
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from tests.infra.hardstep_image import PYTHON_VERSION, platforms
from tests.infra.hardstep_image import download_wheels as fetch_wheels
from tests.infra.images import (TOOLS_TAG, Log, _build_lock, _ensure_one, _hash, _quiet, build_local, ensure_images,
                                 run_build)

SYNAPSE_VERSION = "1.163.2"
SYNAPSE_TAG = f"hardstep-test/synapse:{SYNAPSE_VERSION}-1"
WHEELHOUSE = Path("/var/tmp/hardstep-test-wheels") / f"synapse-{SYNAPSE_VERSION}-cp311-{platform.machine()}"


def _dockerfile(recipe: str) -> str:
    return f"""\
# hardstep TEST IMAGE: a real Synapse {SYNAPSE_VERSION} from PyPI wheels, built locally because no
# image registry is reachable from hardstep's test machines. Not the matrixdotorg/synapse image.
FROM {TOOLS_TAG}
LABEL org.opencontainers.image.title="hardstep test image: Synapse {SYNAPSE_VERSION} from PyPI wheels" \\
      org.hardstep.test.recipe="{recipe}"
COPY wheels /tmp/wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/synapse \\
 && /opt/synapse/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheels "matrix-synapse=={SYNAPSE_VERSION}" \\
 && rm -rf /tmp/wheels
ENV PATH=/opt/synapse/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /data
EXPOSE 8008
CMD ["python", "-m", "synapse.app.homeserver", "--config-path", "/data/homeserver.yaml"]
"""


def _recipe(client: docker.DockerClient) -> str:
    try:
        base = client.images.get(TOOLS_TAG).id
    except ImageNotFound:
        base = "missing"
    return _hash("synapse-v1", base, SYNAPSE_VERSION, PYTHON_VERSION, _dockerfile(""), *platforms())


def download_wheels(log: Log = _quiet) -> Path:
    """The wheelhouse for SYNAPSE_VERSION, downloaded once (binary wheels only)."""
    return fetch_wheels([f"matrix-synapse=={SYNAPSE_VERSION}"], WHEELHOUSE, log)


def build_synapse(client: docker.DockerClient, tag: str = SYNAPSE_TAG, log: Log = _quiet) -> None:
    wheels = download_wheels(log)
    recipe = _recipe(client)
    with tempfile.TemporaryDirectory(prefix="hardstep-synapse-", dir="/var/tmp") as ctx:
        ctxp = Path(ctx)
        (ctxp / "Dockerfile").write_text(_dockerfile(recipe))
        shutil.copytree(wheels, ctxp / "wheels", ignore=shutil.ignore_patterns(".complete"))
        build_local(client, ctx, tag)


def ensure_synapse_image(client: docker.DockerClient, log: Log = _quiet) -> str:
    """Build ``SYNAPSE_TAG`` when it is missing or its recipe changed; return the tag."""
    # The wheels download while the base image is debootstrapped: both wait on the network.
    wheels = ThreadPoolExecutor(1).submit(download_wheels, log)
    ensure_images(client, log=log)  # the base image (takes the build lock itself)
    wheels.result()
    report: dict[str, str] = {}
    with _build_lock():
        _ensure_one(client, "synapse", SYNAPSE_TAG, _recipe(client), build_synapse, log, report)
    return SYNAPSE_TAG


def main() -> int:
    return run_build(ensure_synapse_image)


if __name__ == "__main__":
    sys.exit(main())
