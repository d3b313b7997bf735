#!/bin/sh
# hardstep: issue or renew the TURN certificate, hand it to coTURN, make coTURN reload it.
# Written into the acme container from assets/acme/renew-cert.sh; cron runs it daily.
# Safe to run again at any time: acme.sh only renews a certificate close to its expiry.
# The values below were checked by hardstep (host name, e-mail, absolute paths, Docker names,
# the CA's directory) before they were written here.
set -u

DOMAIN=@DOMAIN@
EMAIL=@EMAIL@
CERT=@CERT@
KEY=@KEY@
PROXY=@PROXY@
COTURN=@COTURN@
# The CA ([acme] server): a directory URL or a name acme.sh knows; empty: acme.sh's default CA.
SERVER=@SERVER@

log() { echo "hardstep-renew $(date -u +%Y-%m-%dT%H:%M:%SZ): $*"; }

# The arguments that name the CA, for both commands below (none: acme.sh's default).
set --
[ -n "$SERVER" ] && set -- --server "$SERVER"

# acme.sh's default CA (ZeroSSL since v3.0) needs a registered account; "already registered"
# is not an error.
if [ -n "$EMAIL" ]; then
    acme.sh --register-account -m "$EMAIL" "$@" || { log "registering the account $EMAIL failed"; exit 1; }
fi

# hardstep chose the challenge from Traefik's configuration and version:
# --alpn: TLS-ALPN-01, answered on port 443 of this container, which Traefik passes through
#   untouched for $DOMAIN (the HostSNI passthrough route);
# --standalone --httpport 80: HTTP-01, answered on port 80 of this container, which Traefik
#   routes to for $DOMAIN/.well-known/acme-challenge/ (a Traefik with its own tlsChallenge
#   resolver and no allowACMEByPass takes every TLS-ALPN-01 connection itself).
acme.sh --issue @CHALLENGE@ -d "$DOMAIN" "$@"
issued=$?
case $issued in
    0) log "new certificate for $DOMAIN" ;;
    2) log "the certificate for $DOMAIN is not due for renewal" ;;
    *) log "issuing the certificate for $DOMAIN failed (acme.sh exit $issued)"; exit 1 ;;
esac
if [ "$issued" = 2 ] && [ -s "$CERT" ] && [ -s "$KEY" ]; then
    exit 0
fi

# Keep the owner of an existing key (a coTURN running as another user needs to read it).
owner=""
[ -e "$KEY" ] && owner=$(stat -c %u:%g "$KEY")
umask 077
acme.sh --install-cert -d "$DOMAIN" --fullchain-file "$CERT" --key-file "$KEY" \
    || { log "copying the certificate to $CERT failed"; exit 1; }
chmod 600 "$KEY" && chmod 644 "$CERT" || exit 1
[ -n "$owner" ] && chown "$owner" "$KEY"
log "installed $CERT and $KEY (mode 0600)"

# SIGUSR2 makes coTURN reload its certificate without dropping calls. The narrow socket
# proxy allows exactly this kind of call (kill, restart, stop) and no container creation.
# To restart coTURN instead, replace kill?signal=SIGUSR2 with restart.
url="http://$PROXY:2375/containers/$COTURN/kill?signal=SIGUSR2"
if command -v curl >/dev/null 2>&1; then
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
else
    status=$(wget -S -O /dev/null --post-data '' "$url" 2>&1 | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
fi
case $status in
    204) log "asked coTURN ($COTURN) to reload its certificate" ;;
    403) log "the socket proxy $PROXY refused to signal $COTURN (are ALLOW_RESTARTS=1 and ALLOW_KILL=1 set?)"; exit 1 ;;
    404) log "no container named $COTURN: coTURN was not reloaded"; exit 1 ;;
    409) log "$COTURN is not running: it reads the new certificate when it starts" ;;
    *) log "signalling $COTURN through $PROXY failed (HTTP ${status:-no answer})"; exit 1 ;;
esac
