"""DTLS as a client where hardstep runs sees it: the certificate a handshake on UDP presents.

Python's ssl module has no DTLS, so ``openssl s_client -dtls`` runs here, on this machine: a
probe from where hardstep runs, like the TLS and HTTP ones, never a command on the managed host
(in the container image, host commands go into the host's namespaces; this one must not).
"""

from __future__ import annotations

import re
import subprocess

from app.net import pins
from app.net.tls import pem_certificates


def dtls_certificate(address: str, port: int, server_name: str, timeout: float = 8) -> tuple[bytes | None, str]:
    """(DER of the certificate a DTLS handshake on UDP presents, "") or (None, why not).

    Raises FileNotFoundError when openssl is not installed here."""
    target = pins.address(address)  # [checks] resolve holds for openssl's handshake too
    target = f"[{target}]" if ":" in target else target
    argv = ["openssl", "s_client", "-dtls", "-connect", f"{target}:{port}", "-servername", server_name]
    try:  # stdin closed: s_client exits after the handshake
        run = subprocess.run(argv, input="", capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"no DTLS answer on UDP {address}:{port} within {timeout:.0f}s"
    match = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", run.stdout, re.DOTALL)
    found = pem_certificates(match[0].encode()) if match else []
    if run.returncode != 0 or not found:
        said = [line for line in (run.stderr + run.stdout).splitlines() if "error" in line.lower()]
        return None, f"no DTLS handshake on UDP {address}:{port}" + (f" ({said[0].strip()[:160]})" if said else "")
    return found[0], ""
