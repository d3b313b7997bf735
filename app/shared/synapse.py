"""What the steps that edit ``homeserver.yaml`` (synapse, coturn-tls) know about Synapse: how to
restart it and wait until it answers, and which URLs are the unedited example."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.containers.actions import RestartContainer
from app.errors import ApplyError

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.engine.actions import Action

# Reserved example domains (RFC 2606): a URL there is the unedited default, never probed.
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")


def is_example_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS) or host.endswith((".example", ".invalid"))


def restart_synapse(config: "Config", why: str) -> RestartContainer:
    """Restart Synapse and wait for its ``/health`` at the configured public URL."""
    url = config.synapse.url.rstrip("/") + "/health"
    return RestartContainer(config.synapse.container, wait_url=url, timeout=config.synapse.restart_timeout, why=why)


def refuse_example_url(config: "Config", actions: list["Action"]) -> None:
    """Before a run that edits homeserver.yaml: hardstep waits for Synapse at [synapse] url after
    the restart, so an example URL there would fail the run half-way. Refuse first."""
    if is_example_url(config.synapse.url) and any(getattr(a, "path", None) == config.synapse.config
                                                  for a in actions):
        raise ApplyError(f"[synapse] url is {config.synapse.url}, an example address: set it to your "
                         "homeserver's URL first (hardstep waits there for Synapse after the restart); "
                         "nothing was written")
