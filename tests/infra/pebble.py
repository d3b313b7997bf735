"""A real ACME server for the tests: Debian's ``pebble`` (Let's Encrypt's test CA) in a container.

Its API listens on ``https://<name>:14000/dir`` with a certificate from a CA made here (trustme);
its validation authority checks TLS-ALPN-01 challenges on port 443 of the name being issued,
resolved by Docker's DNS on ``network``, so the challenge takes the same road a real CA's
would: through the Traefik stand-in's SNI passthrough to the acme container.
"""

from __future__ import annotations

import json
import time

from app.steps.acme.setup import archive


def start_pebble(client, image: str, name: str, network: str, http_port: int = 5002) -> tuple[object, str, bytes]:
    """Start pebble (its HTTP-01 validation dials ``http_port``); returns (container, ACME directory URL, PEM of the CA its API certificate is from)."""
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert(name)
    config = {"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
                         "certificate": "/etc/pebble/cert.pem", "privateKey": "/etc/pebble/key.pem",
                         "httpPort": http_port, "tlsPort": 443, "ocspResponderURL": "",
                         "externalAccountBindingRequired": False}}
    files = {"config.json": json.dumps(config).encode(), "cert.pem": leaf.cert_chain_pems[0].bytes(),
             "key.pem": leaf.private_key_pem.bytes()}
    container = client.containers.create(
        image, ["pebble", "-config", "/etc/pebble/config.json"], name=name, network=network,
        environment={"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"},
        labels={"io.hardstep.test": "pebble"})
    container.put_archive("/etc", archive([("pebble", None, 0o755)]
                                          + [(f"pebble/{n}", data, 0o644) for n, data in files.items()]))
    container.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if b"Listening on: 0.0.0.0:14000" in container.logs():
            return container, f"https://{name}:14000/dir", ca.cert_pem.bytes()
        container.reload()
        if container.status != "running":
            break
        time.sleep(0.2)
    raise RuntimeError(f"pebble did not start: {container.logs().decode()[-500:]}")
