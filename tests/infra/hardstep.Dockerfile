# hardstep's container image, for hosts without Python (BurmillaOS). Built by `make image`
# (tests/infra/hardstep_image.py) from the wheel and a wheelhouse of its dependencies downloaded on the build
# machine, so the build itself needs no package index. See README, "Harden your own host".
# BASE: any Debian-based image with Python 3.11 and its venv module (python:3.11-slim).
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG VERSION
ARG RECIPE
LABEL org.opencontainers.image.title="hardstep" \
      org.opencontainers.image.description="Harden a Docker host running a Matrix stack" \
      org.opencontainers.image.version="${VERSION}" \
      org.hardstep.recipe="${RECIPE}"
COPY wheels /tmp/wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# nsenter (util-linux, essential in Debian) runs the host's own programs in the host's namespaces.
RUN python3 -m venv /opt/hardstep \
 && /opt/hardstep/bin/pip install --no-index --no-cache-dir --find-links /tmp/wheels "hardstep==${VERSION}" \
 && rm -rf /tmp/wheels \
 && command -v nsenter
# Run with the host's / at /host, the engine's socket and --pid host: files, config and state are
# the host's, and commands enter the namespaces of the host's init (PID 1).
ENV PATH=/opt/hardstep/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HARDSTEP_ROOT=/host \
    HARDSTEP_CONFIG=/host/etc/hardstep/config.toml \
    HARDSTEP_STATE_DIR=/host/var/lib/hardstep \
    HARDSTEP_HOST_NAMESPACES=1
ENTRYPOINT ["hardstep"]
