"""A REAL ACME server for the tests and the lab: Debian's ``pebble`` (Let's Encrypt's test CA), not a
stand-in, baked into ``hardstep-test/pebble:1`` on the tools image.

Its API listens on ``https://<name>:14000/dir`` (management on 15000) with a certificate for
``hslab-pebble``, ``pebble``, ``localhost`` and 127.0.0.1 issued by the "hardstep lab ACME API CA",
made when the image is built (``tests.infra.acme_standin.ensure_acme_images`` builds this image and
the acme.sh stand-in from the same CA); the CA's PEM is at ``API_CA_PATH`` in the image. Reach it
by one of those names: a Docker DNS alias ``pebble`` (or ``hslab-pebble``) on its network.

Its validation authority checks TLS-ALPN-01 on port 443 and HTTP-01 on port 80 of the name being
issued, resolved by Docker's DNS on that network, so the challenge takes the road a real CA's
would: through Traefik's passthrough (or its web entrypoint) to the acme container.
"""

from __future__ import annotations

import json
import time

PEBBLE_TAG = "hardstep-test/pebble:1"
API_CA_PATH = "/etc/pebble/api-ca.pem"
# The names its API certificate is for; "hslab-pebble" is the lab's container.
API_NAMES = ("hslab-pebble", "pebble", "localhost", "127.0.0.1")
CONFIG = {"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
                     "certificate": "/etc/pebble/cert.pem", "privateKey": "/etc/pebble/key.pem",
                     "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "",
                     "externalAccountBindingRequired": False}}


def dockerfile(base: str, labels: str) -> str:
    return f"""\
# hardstep TEST IMAGE: the REAL pebble (Debian's package, in {base}), Let's Encrypt's test CA, with
# its configuration and an API certificate from the "hardstep lab ACME API CA" baked in.
FROM {base}
LABEL org.opencontainers.image.title="hardstep test image: pebble, a real ACME test CA" \\
      {labels}
COPY config.json cert.pem key.pem api-ca.pem /etc/pebble/
ENV PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
EXPOSE 14000 15000
CMD ["pebble", "-config", "/etc/pebble/config.json"]
"""


def context_files(ca) -> dict[str, bytes]:
    """The build context's files besides the Dockerfile, for the trustme CA ``ca``."""
    leaf = ca.issue_cert(*API_NAMES, common_name=API_NAMES[0], organization_name="hardstep lab",
                         organization_unit_name="pebble API")
    return {"config.json": json.dumps(CONFIG, indent=2).encode(), "cert.pem": leaf.cert_chain_pems[0].bytes(),
            "key.pem": leaf.private_key_pem.bytes(), "api-ca.pem": ca.cert_pem.bytes()}


def api_ca_pem(client) -> bytes:
    """The PEM of the CA pebble's API certificate is from, read from the image."""
    return client.containers.run(PEBBLE_TAG, ["cat", API_CA_PATH], remove=True)


def start_pebble(client, name: str, network: str, alias: str = "pebble") -> tuple[object, str, bytes]:
    """Start pebble on ``network``, reachable there as ``alias``; returns (container, ACME directory
    URL, PEM of the CA its API certificate is from)."""
    container = client.containers.run(
        PEBBLE_TAG, name=name, detach=True, network=network, labels={"io.hardstep.test": "pebble"},
        networking_config={network: client.api.create_endpoint_config(aliases=[alias])})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if b"Listening on: 0.0.0.0:14000" in container.logs():
            return container, f"https://{alias}:14000/dir", api_ca_pem(client)
        container.reload()
        if container.status != "running":
            break
        time.sleep(0.2)
    raise RuntimeError(f"pebble did not start: {container.logs().decode()[-500:]}")
