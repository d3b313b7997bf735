#!/bin/sh
# hardstep: install acme.sh (and the openssl and socat it needs for TLS-ALPN) in the acme
# container. Run through the Docker API with no arguments; does nothing when already there.
if command -v acme.sh >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    echo "acme.sh and openssl are already installed"
    exit 0
fi
if ! command -v apk >/dev/null 2>&1; then
    echo "this image has no apk: hardstep installs acme.sh with Alpine's package manager; use an Alpine image for [acme] image, or install acme.sh and openssl in it yourself" >&2
    exit 3
fi
apk add --no-cache acme.sh openssl socat curl
