"""Start and stop a built lab: its engine, its images, its stack, its CA files.

``start_lab`` brings a built lab up and waits until Traefik serves Synapse with a certificate
from the lab CA. Everything is idempotent: a rerun starts what is stopped and keeps the rest.
"""

from __future__ import annotations

import os
import time
from typing import Callable

from app.errors import HardstepError
from app.fileops import atomic_write
from app.lab import stack
from app.lab.files import Lab, lab_engine

READY_TIMEOUT = 180


def start_lab(lab: Lab, log: Callable[[str], None] = print) -> None:
    """Start the lab's engine and stack (offline, from the images ``make images`` built)."""
    if os.geteuid() != 0:
        raise HardstepError("lab: the lab runs its own Docker engine in a network namespace, which needs "
                            "root; run 'hardstep lab' as root (the lab never touches this machine's engine)")
    started = time.monotonic()
    engine = lab_engine(lab.dir)
    engine.start(log)
    try:
        services = stack.Stack(engine.client, engine.machine, str(lab.root), str(engine.socket), engine.address)
        services.load_images(log)
        services.start_ca(log)
        _write_ca_files(lab, services)
        services.start_services(log)
        log("lab: waiting for Traefik to get its certificate from the lab CA and for Synapse")
        services.wait_ready(engine.address, (lab.root / stack.LAB_CA.lstrip("/")).read_text(), READY_TIMEOUT)
    finally:
        engine.close()
        engine.machine.close()
    log(f"lab: running, ready in {time.monotonic() - started:.0f} s; its names answer at {engine.address}")


def stop_lab(lab: Lab) -> None:
    """Stop the lab's engine (its containers stop with it) and remove its namespace; files stay."""
    lab_engine(lab.dir).stop()


def _write_ca_files(lab: Lab, services: stack.Stack) -> None:
    """Traefik's trust for pebble's API, and the roots the checks trust. pebble makes a new root
    each time it starts, so roots are added, never replaced: certificates from before still verify."""
    traefik_ca = lab.root / stack.TRAEFIK_CA.lstrip("/")
    api_ca = services.pebble_api_ca()
    if not traefik_ca.exists() or traefik_ca.read_text() != api_ca:
        atomic_write(traefik_ca, api_ca)
    bundle = lab.root / stack.LAB_CA.lstrip("/")
    known = bundle.read_text() if bundle.exists() else ""
    root = services.pebble_root()
    if root.strip() not in known:
        atomic_write(bundle, known + ("" if not known or known.endswith("\n") else "\n") + root)
