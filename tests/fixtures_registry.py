"""A real image registry on loopback (Debian's ``docker-registry``), so image pulls are tested for
real on a machine that reaches no public registry. The engine trusts 127.0.0.1 registries over
plain HTTP by default."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import tarfile
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory):
    """``127.0.0.1:PORT`` of a running registry; stopped at the end of the session."""
    binary = shutil.which("docker-registry")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("docker-registry is not installed; run 'make setup'", pytrace=False)
        pytest.skip("docker-registry is not installed; run 'make setup'")
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    log = open(folder / "registry.log", "wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"docker-registry did not start: {(folder / 'registry.log').read_text()[-500:]}")
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


def push_fresh_image(client, registry: str, name: str, size: int = 3 << 20) -> str:
    """Push an image whose only layer exists nowhere else, then delete it locally: pulling it
    back downloads every byte, with progress."""
    payload = os.urandom(size)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("blob.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    reference = f"{registry}/hardstep-test/{name}:1"
    client.api.import_image_from_data(buffer.getvalue(), repository=f"{registry}/hardstep-test/{name}", tag="1")
    for event in client.images.push(f"{registry}/hardstep-test/{name}", tag="1", stream=True, decode=True):
        assert "error" not in event, event
    client.images.remove(reference, force=True)
    return reference
