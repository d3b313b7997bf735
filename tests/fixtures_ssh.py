"""A real OpenSSH server as the remote host for the tests of hardstep over SSH.

- ``sshd_image`` (session): ``tests.infra.sshd_image.ensure_sshd_image`` (Debian's openssh-server,
  sudo and the docker CLI on the tools image), built once, then reused by tag.
- ``ssh_server`` (function): a server started for the test by ``tests.infra.ssh_server`` (read its
  docstring: keys made for it, 127.0.0.1 only, the engine's socket, ``pid_mode="host"``), with the
  test's folder ``tmp_path`` mounted at the same path inside.
"""

from __future__ import annotations

import pytest

from tests.infra.ssh_server import ADMIN, ALIAS, RANCHER, SshServer, start_ssh_server

__all__ = ["ADMIN", "ALIAS", "RANCHER", "SshServer", "sshd_image", "ssh_server"]


@pytest.fixture(scope="session")
def sshd_image(docker_client, images) -> str:
    from tests.infra.sshd_image import ensure_sshd_image

    return ensure_sshd_image(docker_client)


@pytest.fixture
def ssh_server(tmp_path, unique, sshd_image, docker_client):
    yield start_ssh_server(docker_client, sshd_image, unique("sshd"), tmp_path)
