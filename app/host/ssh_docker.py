"""The Docker API over an ``SshHost``'s own SSH connection.

The SDK's SSH transport (docker/transport/sshconn.py) opens one channel per HTTP connection and
runs ``docker system dial-stdio`` in it, which pipes the remote engine's socket; but its adapter
makes a paramiko client of its own (a second login, its own reading of ~/.ssh/config, and
paramiko's own host-key rules). Here the adapter is built with ``shell_out=True``, which makes no
client, and then handed the host's client: every channel goes over the one connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from app.errors import DockerUnavailable, short_reason

if TYPE_CHECKING:
    import docker
    import paramiko


def docker_over_ssh(connect: Callable[[], "paramiko.SSHClient"], where: str, timeout: int) -> "docker.DockerClient":
    """A client of the remote engine whose channels go over ``connect()``'s connection."""
    import docker
    from docker.constants import MINIMUM_DOCKER_API_VERSION
    from docker.errors import DockerException
    from docker.transport.basehttpadapter import BaseHTTPAdapter
    from docker.transport.sshconn import SSHHTTPAdapter

    class SharedConnectionAdapter(SSHHTTPAdapter):
        def __init__(self) -> None:
            super().__init__("ssh://hardstep", timeout, shell_out=True)  # shell_out: no client of its own
            self.ssh_client = connect()

        def get_connection(self, url, proxies=None):  # type: ignore[no-untyped-def]
            # The SDK keeps a pool (one channel) per request URL, up to 9, and sshd allows 10 sessions
            # (MaxSessions) on a connection that also carries SFTP and commands: one pool for all.
            return super().get_connection("http+docker://ssh", proxies)

        def _connect(self) -> None:  # the SDK's reconnect after the transport went away
            self.ssh_client = connect()

        def close(self) -> None:  # the pools only: the connection is the host's, closed by it
            BaseHTTPAdapter.close(self)

    class SharedConnectionAPI(docker.APIClient):
        def __init__(self) -> None:
            # A fixed version so the constructor asks nothing before the adapter is swapped in.
            super().__init__(base_url="ssh://hardstep", version=MINIMUM_DOCKER_API_VERSION, timeout=timeout,
                             use_ssh_client=True)
            self._custom_adapter = SharedConnectionAdapter()
            self.mount("http+docker://ssh", self._custom_adapter)
            self._version = self._retrieve_server_version()

    class SharedConnectionClient(docker.DockerClient):
        def __init__(self) -> None:  # DockerClient's own only builds an APIClient
            self.api = SharedConnectionAPI()

    try:
        client = SharedConnectionClient()
        client.ping()
    except DockerException as exc:
        raise DockerUnavailable(f"the Docker engine on {where} does not answer over SSH ({short_reason(exc)}); start it "
                                "there (systemctl start docker) and check `docker version` works for the SSH user"
                                ) from None
    return client

