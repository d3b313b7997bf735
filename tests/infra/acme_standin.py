"""Test images for the acme road: the acme container's Alpine image (``[acme] image``) played by
STAND-INS, and the real pebble CA (``tests.infra.pebble``) they get certificates from.

alpine:latest cannot be pulled here, and acme.sh is packaged neither by Debian nor by PyPI, so:

- ``hardstep-test/acme-base:3``: the tools image (Debian, openssl, lego, curl) plus busybox's
  ``crond`` and ``crontab`` (what Alpine's image runs); no ``apk`` and no acme.sh, so the step's
  install action must fail with its clear message;
- ``hardstep-test/acme-standin:3``: the same plus ``/usr/local/bin/acme.sh``, a STAND-IN for acme.sh
  that accepts exactly the arguments hardstep's renewal script uses. ``--issue --server URL`` (an
  https:// ACME directory) drives Debian's ``lego`` against it (TLS-ALPN-01 on port 443 for
  ``--alpn``, HTTP-01 on port 80 for ``--standalone --httpport 80``), trusting the "hardstep lab
  ACME API CA" baked at ``/etc/acme-standin/api-ca.pem``; a CA name (``letsencrypt``...) is refused
  (no internet here); without ``--server`` it "issues" a self-signed certificate with openssl, so
  the renewal script runs for real without any CA.
- ``hardstep-test/pebble:1``: the REAL pebble (see ``tests.infra.pebble``).

The API CA is made once per build (trustme) and both pebble and the stand-in are built from it:
when either is missing or out of date, both are rebuilt with a new CA (its fingerprint is a label
on both). Not acme.sh, not Alpine: for tests and the lab only.

Python API: ``ensure_acme_images(client) -> {"base": ..., "standin": ..., "pebble": ...}``.
Command line: ``python -m tests.infra.acme_standin`` (``make images``) builds what is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from docker.errors import ImageNotFound

from tests.infra import pebble
from tests.infra.images import (RECIPE_LABEL, TOOLS_TAG, Log, _build_lock, _busybox_path, _hash, _quiet,
                                ensure_images, run_build)

# :3 since the stand-in takes --server and trusts the lab's API CA (another worktree may use :2).
BASE_TAG = "hardstep-test/acme-base:3"
STANDIN_TAG = "hardstep-test/acme-standin:3"
CA_LABEL = "org.hardstep.test.api-ca"  # the API CA's SHA-256, the same on pebble and the stand-in
STANDIN_CA_PATH = "/etc/acme-standin/api-ca.pem"

ACME_SH_STANDIN = r"""#!/bin/sh
# hardstep TEST STAND-IN for acme.sh: only the arguments hardstep's renewal script uses.
home=/root/.acme-standin
mkdir -p "$home"
cmd=""; domain=""; email=""; server=""; fullchain=""; keyfile=""; challenge="--tls --tls.port :443"
while [ $# -gt 0 ]; do
    case $1 in
        --register-account|--issue|--install-cert) cmd=$1 ;;
        -m) email=$2; shift ;;
        -d) domain=$2; shift ;;
        --server) server=$2; shift ;;
        --alpn) challenge="--tls --tls.port :443" ;;
        --standalone) challenge="--http --http.port :80" ;;
        --httpport) challenge="--http --http.port :$2"; shift ;;
        --fullchain-file) fullchain=$2; shift ;;
        --key-file) keyfile=$2; shift ;;
        *) echo "acme.sh stand-in: unsupported argument $1" >&2; exit 64 ;;
    esac
    shift
done
echo "acme.sh stand-in: $cmd $domain${server:+ from $server}"
case $server in
    ""|https://*) ;;
    *) echo "acme.sh stand-in: only an https:// directory can be reached here, not the CA $server" >&2; exit 1 ;;
esac
case $cmd in
    --register-account)
        echo "$email" > "$home/account" ;;
    --issue)
        [ -s "$home/account" ] || { echo "acme.sh stand-in: no account registered" >&2; exit 1; }
        if [ -s "$home/$domain.crt" ]; then echo "Skip, not due for renewal"; exit 2; fi
        if [ -n "$server" ]; then
            LEGO_CA_CERTIFICATES=/etc/acme-standin/api-ca.pem lego --server "$server" \
                --accept-tos --email "$(cat "$home/account")" --domains "$domain" $challenge \
                --path "$home/lego" run || exit 1
            cp "$home/lego/certificates/$domain.crt" "$home/$domain.crt"
            cp "$home/lego/certificates/$domain.key" "$home/$domain.key"
        else
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
                -keyout "$home/$domain.key" -out "$home/$domain.crt" -subj "/CN=$domain" \
                -addext "subjectAltName=DNS:$domain" 2>/dev/null || exit 1
        fi ;;
    --install-cert)
        cp "$home/$domain.crt" "$fullchain" && cp "$home/$domain.key" "$keyfile" ;;
    *) echo "acme.sh stand-in: nothing to do" >&2; exit 64 ;;
esac
"""


def _dockerfile(labels: str, with_acme_sh: bool) -> str:
    acme = (f"COPY acme.sh /usr/local/bin/acme.sh\nCOPY api-ca.pem {STANDIN_CA_PATH}\n" if with_acme_sh else "")
    return f"""\
# hardstep TEST STAND-IN for the acme container's image (alpine + acme.sh). Not Alpine.
FROM {TOOLS_TAG}
LABEL {labels}
COPY busybox /usr/local/bin/busybox
RUN ln -s busybox /usr/local/bin/crond && ln -s busybox /usr/local/bin/crontab \\
    && mkdir -p /var/spool/cron/crontabs
{acme}CMD ["crond", "-f", "-L", "/dev/stdout"]
"""


PAIR = (STANDIN_TAG, pebble.PEBBLE_TAG)  # built together, from one API CA


def _recipes(client) -> dict[str, str]:
    base = client.images.get(TOOLS_TAG).id
    return {BASE_TAG: _hash("acme-base-v3", base, _dockerfile("", False)),
            STANDIN_TAG: _hash("acme-standin-v3", base, _dockerfile("", True), ACME_SH_STANDIN),
            pebble.PEBBLE_TAG: _hash("pebble-v1", base, pebble.dockerfile(TOOLS_TAG, ""), repr(pebble.CONFIG),
                                     *pebble.API_NAMES)}


def _labels(client, tag: str) -> dict[str, str]:
    """The labels of the image at ``tag`` ({} when missing)."""
    try:
        return client.images.get(tag).labels or {}
    except ImageNotFound:
        return {}


def _current(client, recipes: dict[str, str], tags: tuple[str, ...]) -> bool:
    """Every image in ``tags`` carries its current recipe, and all carry the same API CA (if any)."""
    labels = [_labels(client, tag) for tag in tags]
    return (all(found.get(RECIPE_LABEL) == recipes[tag] for found, tag in zip(labels, tags))
            and len({found.get(CA_LABEL) for found in labels}) == 1)


def _build(client, tag: str, dockerfile: str, files: dict[str, bytes], log: Log) -> None:
    """Build ``tag`` from ``dockerfile`` and ``files``, dropping the image it replaces when unused."""
    old = client.images.get(tag).id if _labels(client, tag) else None
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hardstep-acme-images-") as ctx:
        for name, data in {"Dockerfile": dockerfile.encode(), **files}.items():
            (Path(ctx) / name).write_bytes(data)
            (Path(ctx) / name).chmod(0o755 if name in ("busybox", "acme.sh") else 0o644)
        # Classic builder, local base image: pull=False so nothing is fetched from a registry.
        client.images.build(path=ctx, tag=tag, pull=False, rm=True, forcerm=True)
    if old and old != client.images.get(tag).id:
        with contextlib.suppress(Exception):  # still used by a container: it stays, untagged
            client.images.remove(old)
    log(f"built   {tag} in {time.monotonic() - t0:.1f}s")


def ensure_acme_images(client, log: Log = _quiet) -> dict[str, str]:
    """Build what is missing or out of date; ``{"base": ..., "standin": ..., "pebble": ...}``.
    Needs the tools image."""
    import trustme

    with _build_lock():
        recipes = _recipes(client)
        busybox = {"busybox": Path(_busybox_path()).read_bytes()}
        if _current(client, recipes, (BASE_TAG,)):
            log(f"reused  {BASE_TAG}")
        else:
            _build(client, BASE_TAG, _dockerfile(f'{RECIPE_LABEL}="{recipes[BASE_TAG]}"', False), busybox, log)
        if _current(client, recipes, PAIR) and _labels(client, STANDIN_TAG).get(CA_LABEL):
            log(f"reused  {' and '.join(PAIR)} (one API CA)")
        else:
            # Both from one new CA, whose key lives only as long as this build.
            ca = trustme.CA(organization_name="hardstep lab", organization_unit_name="hardstep lab ACME API CA")
            ca_pem = ca.cert_pem.bytes()
            labels = {tag: f'{RECIPE_LABEL}="{recipes[tag]}" {CA_LABEL}="{hashlib.sha256(ca_pem).hexdigest()}"'
                      for tag in PAIR}
            _build(client, pebble.PEBBLE_TAG, pebble.dockerfile(TOOLS_TAG, labels[pebble.PEBBLE_TAG]),
                   pebble.context_files(ca), log)
            _build(client, STANDIN_TAG, _dockerfile(labels[STANDIN_TAG], True),
                   {**busybox, "acme.sh": ACME_SH_STANDIN.encode(), "api-ca.pem": ca_pem}, log)
    return {"base": BASE_TAG, "standin": STANDIN_TAG, "pebble": pebble.PEBBLE_TAG}


def main() -> int:
    def ensure(client, log: Log = _quiet) -> dict[str, str]:
        ensure_images(client, log=log)  # the tools image they are built on (takes the build lock itself)
        return ensure_acme_images(client, log=log)

    return run_build(ensure)


if __name__ == "__main__":
    sys.exit(main())
