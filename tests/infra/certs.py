"""Test certificates made with trustme: a CA, and leaf certificates written the way the acme
renewal script writes them (``fullchain.pem`` leaf first, ``privkey.pem`` mode 0600)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import trustme


def write_pair(folder: Path, ca: trustme.CA, *names: str, days: float = 90, expired: bool = False,
               key_mode: int = 0o600) -> Path:
    """Issue a certificate for ``names`` and write fullchain.pem and privkey.pem into ``folder``."""
    now = datetime.now(timezone.utc)
    if expired:
        not_before, not_after = now - timedelta(days=100), now - timedelta(days=10)
    else:
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=days)
    leaf = ca.issue_cert(*names, not_before=not_before, not_after=not_after)
    folder.mkdir(parents=True, exist_ok=True)
    chain = folder / "fullchain.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    key = folder / "privkey.pem"
    key.write_bytes(leaf.private_key_pem.bytes())
    key.chmod(key_mode)
    chain.chmod(0o644)
    return chain


def write_ca(path: Path, ca: trustme.CA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ca.cert_pem.bytes())
    return path
