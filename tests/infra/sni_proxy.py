"""STAND-INS for Traefik's TLS entrypoint, for the acme step's passthrough check.

Real Traefik (``tests/infra/traefik_image.py``, 3.0.4 and 3.7.15) proves the check where Traefik's
own behaviour is the point: ``test_acme_traefik.py`` (a tlsChallenge resolver that takes the ACME
challenge), ``test_acme_issuance.py`` and the lab walk. These HAProxy stand-ins stay only for the
check's edge cases in ``test_passthrough.py`` (a terminating route and whose certificate it showed,
no route, a stopped acme container, port 443 busy), where the behaviour asked of "Traefik" is plain
SNI routing; moving them to real Traefik is left for later. HAProxy (from the tools image) plays
the two behaviours the check must tell apart, both for real on the Docker engine:

- ``start_traefik_passthrough_standin``: TCP mode, reads the SNI of the ClientHello and forwards
  the untouched TLS stream for the TURN domain to ``<backend>:443``, as a Traefik TCP router with
  ``HostSNI(`domain`)`` and ``tls.passthrough=true`` does;
- ``start_traefik_terminating_standin``: terminates TLS itself with its own certificate (as a
  Traefik router without passthrough does, with its default certificate) and forwards plain TCP.

Each joins ``network`` (where the acme container is) and publishes its 443 on
``127.0.0.1:<port>`` only. Not Traefik; for tests only.
"""

from __future__ import annotations

import time

from app.steps.acme.setup import archive


COMMON = """\
# hardstep TEST STAND-IN for Traefik's TLS entrypoint ({kind}). Not Traefik.
global
    log stdout format raw daemon
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
resolvers docker
    nameserver dns 127.0.0.11:53
backend acme
    server acme {backend}:443 resolvers docker init-addr none
"""

PASSTHROUGH = COMMON + """\
frontend websecure
    bind :443
    tcp-request inspect-delay 5s
    tcp-request content accept if {{ req_ssl_hello_type 1 }}
    use_backend acme if {{ req_ssl_sni -i {domain} }}
"""

TERMINATING = COMMON + """\
frontend websecure
    bind :443 ssl crt /etc/hardstep-sni/own.pem
    default_backend acme
"""


def _start(client, image: str, name: str, network: str, port: int, files: dict[str, bytes],
           aliases: tuple[str, ...] = ()):
    endpoint = {network: client.api.create_endpoint_config(aliases=list(aliases))} if aliases else None
    container = client.containers.create(
        image, ["haproxy", "-db", "-f", "/etc/hardstep-sni/haproxy.cfg"], name=name, network=network,
        networking_config=endpoint, ports={"443/tcp": ("127.0.0.1", port)},
        labels={"io.hardstep.test": "traefik-standin"})
    container.put_archive("/etc", archive([("hardstep-sni", None, 0o755)]
                                          + [(f"hardstep-sni/{n}", data, 0o600) for n, data in files.items()]))
    container.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        container.reload()
        if container.status != "running":
            raise RuntimeError(f"HAProxy stand-in exited: {container.logs().decode()[-400:]}")
        code, _ = container.exec_run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/443"])
        if code == 0:  # listening
            return container
        time.sleep(0.2)
    raise RuntimeError(f"HAProxy stand-in does not listen: {container.logs().decode()[-400:]}")


def _own_certificate() -> tuple[bytes, bytes, bytes]:
    """A certificate like Traefik's default one (self-signed, CN "TRAEFIK DEFAULT CERT")."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TRAEFIK DEFAULT CERT")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (cert.public_bytes(serialization.Encoding.PEM), key_pem,
            cert.public_bytes(serialization.Encoding.DER))


def start_traefik_passthrough_standin(client, image: str, name: str, network: str, port: int,
                                      domain: str, backend: str, aliases: tuple[str, ...] = ()):
    """HAProxy forwarding TLS for SNI ``domain`` to ``backend:443`` untouched (Traefik passthrough).
    ``aliases``: names it answers to on ``network`` (a test CA resolves the TURN domain to it)."""
    config = PASSTHROUGH.format(kind="TLS passthrough by SNI", backend=backend, domain=domain)
    return _start(client, image, name, network, port, {"haproxy.cfg": config.encode()}, aliases)


def start_traefik_terminating_standin(client, image: str, name: str, network: str, port: int,
                                      domain: str, backend: str):
    """HAProxy terminating TLS with its own certificate. Returns (container, its certificate DER)."""
    cert_pem, key_pem, der = _own_certificate()
    config = TERMINATING.format(kind="terminating TLS", backend=backend)
    container = _start(client, image, name, network, port,
                       {"haproxy.cfg": config.encode(), "own.pem": cert_pem + key_pem})
    return container, der
