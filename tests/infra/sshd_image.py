"""A real OpenSSH server for the tests of the host over SSH, built on this machine.

``hardstep-test/sshd:1``: the tools image (Debian bookworm) with Debian's ``openssh-server``
(installed from the Debian mirror during the build: containers reach it, see FACTS) and this
machine's ``/usr/bin/docker`` (Debian's docker.io, the same bookworm release; it links only
libc), which the Docker SDK's SSH transport runs on the remote (``docker system dial-stdio``).
No host keys in the image: each test's server gets its own (tests/fixtures_ssh.py).

Cached like the images in ``tests.infra.images``: the build is skipped when the tag exists with
the current recipe label (Dockerfile, base image id, the docker binary's digest).

Python API: ``ensure_sshd_image(client) -> tag``. Command line: ``python -m tests.infra.sshd_image``.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import docker
from docker.errors import BuildError, ImageNotFound

from tests.infra.images import RECIPE_LABEL, TOOLS_TAG, Log, _build_lock, _ensure_one, _hash, _quiet, ensure_images, run_build

SSHD_TAG = "hardstep-test/sshd:1"
DOCKER_CLI = Path("/usr/bin/docker")


def _dockerfile(recipe: str) -> str:
    return f"""\
# hardstep TEST IMAGE: Debian's real OpenSSH server and the docker CLI, a remote host for the
# tests of hardstep over SSH. Built locally because no image registry is reachable here.
FROM {TOOLS_TAG}
LABEL org.opencontainers.image.title="hardstep test image: Debian openssh-server and the docker CLI" \\
      {RECIPE_LABEL}="{recipe}"
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server \\
 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* \\
 && mkdir -p /run/sshd
COPY docker /usr/bin/docker
EXPOSE 22
CMD ["/usr/sbin/sshd", "-D", "-e"]
"""


def _docker_cli() -> Path:
    if not DOCKER_CLI.is_file():
        raise RuntimeError(f"{DOCKER_CLI} is missing: install Debian's docker.io ('make setup')")
    return DOCKER_CLI


def _recipe(client: docker.DockerClient) -> str:
    try:
        base = client.images.get(TOOLS_TAG).id
    except ImageNotFound:
        base = "missing"
    cli = hashlib.sha256(_docker_cli().read_bytes()).hexdigest()
    return _hash("sshd-v1", base, cli, _dockerfile(""))


def build_sshd(client: docker.DockerClient, tag: str = SSHD_TAG, log: Log = _quiet) -> None:
    recipe = _recipe(client)
    with tempfile.TemporaryDirectory(prefix="hardstep-sshd-", dir="/var/tmp") as ctx:
        (Path(ctx) / "Dockerfile").write_text(_dockerfile(recipe))
        shutil.copy2(_docker_cli(), Path(ctx) / "docker")
        try:
            # Classic builder, local base image: pull=False so nothing is fetched from a registry.
            client.images.build(path=ctx, tag=tag, pull=False, rm=True, forcerm=True)
        except BuildError as exc:
            lines = [str(item.get("stream") or item.get("error") or "").rstrip() for item in exc.build_log]
            raise RuntimeError(f"building {tag} failed: {exc.msg}\n" + "\n".join(lines[-30:])) from None


def ensure_sshd_image(client: docker.DockerClient, log: Log = _quiet) -> str:
    """Build ``SSHD_TAG`` when it is missing or its recipe changed; return the tag."""
    ensure_images(client, log=log)  # the base image (takes the build lock itself)
    with _build_lock():
        _ensure_one(client, "sshd", SSHD_TAG, _recipe(client), build_sshd, log, {})
    return SSHD_TAG


def main() -> int:
    return run_build(ensure_sshd_image)


if __name__ == "__main__":
    sys.exit(main())
