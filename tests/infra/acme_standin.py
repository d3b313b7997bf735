"""Test images that play the acme container's Alpine image (``[acme] image``) in the tests.

alpine:latest cannot be pulled here, and acme.sh is packaged neither by Debian nor by PyPI, so:

- ``hardstep-test/acme-base:2``: the tools image (Debian, openssl, lego, curl) plus busybox's
  ``crond`` and ``crontab`` (what Alpine's image runs); no ``apk`` and no acme.sh, so the step's
  install action must fail with its clear message;
- ``hardstep-test/acme-standin:2``: the same plus ``/usr/local/bin/acme.sh``, a STAND-IN for acme.sh
  that accepts exactly the arguments hardstep's renewal script uses. ``--issue`` drives Debian's
  ``lego`` (TLS-ALPN-01 on port 443 for ``--alpn``, HTTP-01 on port 80 for ``--standalone --httpport 80``) when ``/etc/acme-standin/server`` names an ACME directory
  (with ``/etc/acme-standin/ca.pem`` trusted for it); otherwise it "issues" a self-signed
  certificate with openssl, so the renewal script runs for real without any CA.

Not acme.sh, not Alpine: for tests only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.infra.images import (RECIPE_LABEL, TOOLS_TAG, _build_lock, _busybox_path, _existing_recipe,
                                _hash)

# :2 since the stand-in also answers HTTP-01 (another worktree may still use :1).
BASE_TAG = "hardstep-test/acme-base:2"
STANDIN_TAG = "hardstep-test/acme-standin:2"

ACME_SH_STANDIN = r"""#!/bin/sh
# hardstep TEST STAND-IN for acme.sh: only the arguments hardstep's renewal script uses.
home=/root/.acme-standin
mkdir -p "$home"
cmd=""; domain=""; email=""; fullchain=""; keyfile=""; challenge="--tls --tls.port :443"
while [ $# -gt 0 ]; do
    case $1 in
        --register-account|--issue|--install-cert) cmd=$1 ;;
        -m) email=$2; shift ;;
        -d) domain=$2; shift ;;
        --alpn) challenge="--tls --tls.port :443" ;;
        --standalone) challenge="--http --http.port :80" ;;
        --httpport) challenge="--http --http.port :$2"; shift ;;
        --fullchain-file) fullchain=$2; shift ;;
        --key-file) keyfile=$2; shift ;;
        *) echo "acme.sh stand-in: unsupported argument $1" >&2; exit 64 ;;
    esac
    shift
done
echo "acme.sh stand-in: $cmd $domain"
case $cmd in
    --register-account)
        echo "$email" > "$home/account" ;;
    --issue)
        [ -s "$home/account" ] || { echo "acme.sh stand-in: no account registered" >&2; exit 1; }
        if [ -s "$home/$domain.crt" ]; then echo "Skip, not due for renewal"; exit 2; fi
        if [ -s /etc/acme-standin/server ]; then
            LEGO_CA_CERTIFICATES=/etc/acme-standin/ca.pem lego --server "$(cat /etc/acme-standin/server)" \
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


def _dockerfile(recipe: str, with_acme_sh: bool) -> str:
    acme = "COPY acme.sh /usr/local/bin/acme.sh\n" if with_acme_sh else ""
    return f"""\
# hardstep TEST STAND-IN for the acme container's image (alpine + acme.sh). Not Alpine.
FROM {TOOLS_TAG}
LABEL {RECIPE_LABEL}="{recipe}"
COPY busybox /usr/local/bin/busybox
RUN ln -s busybox /usr/local/bin/crond && ln -s busybox /usr/local/bin/crontab \\
    && mkdir -p /var/spool/cron/crontabs
{acme}CMD ["crond", "-f", "-L", "/dev/stdout"]
"""


def _recipe(client, with_acme_sh: bool) -> str:
    base = client.images.get(TOOLS_TAG).id
    return _hash("acme-standin-v1", base, _dockerfile("", with_acme_sh), ACME_SH_STANDIN)


def ensure_acme_images(client) -> dict[str, str]:
    """Build what is missing; ``{"base": ..., "standin": ...}``. Needs the tools image."""
    with _build_lock():
        for tag, with_acme_sh in ((BASE_TAG, False), (STANDIN_TAG, True)):
            recipe = _recipe(client, with_acme_sh)
            if _existing_recipe(client, tag) == recipe:
                continue
            with tempfile.TemporaryDirectory(prefix="hardstep-acme-standin-") as ctx:
                folder = Path(ctx)
                (folder / "Dockerfile").write_text(_dockerfile(recipe, with_acme_sh))
                (folder / "busybox").write_bytes(Path(_busybox_path()).read_bytes())
                (folder / "busybox").chmod(0o755)
                (folder / "acme.sh").write_text(ACME_SH_STANDIN)
                (folder / "acme.sh").chmod(0o755)
                client.images.build(path=ctx, tag=tag, pull=False, rm=True, forcerm=True)
    return {"base": BASE_TAG, "standin": STANDIN_TAG}
