"""AppArmor for the sandbox: used only where the kernel and the engine have it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.host.base import Host

PROFILE = "hardstep-sandbox"
PROFILE_PATH = "/etc/apparmor.d/hardstep-sandbox"
ASSET = ("apparmor", "hardstep-sandbox")


def profile_text() -> str:
    from app.assets import read_asset

    return read_asset(*ASSET)


def unavailable(host: "Host") -> str | None:
    """Why AppArmor cannot be used here, or None when it can."""
    if not host.apparmor_enabled():  # the running kernel's flag, never under --root
        return "this kernel has no AppArmor (SELinux hosts and many small distributions do not use it)"
    if not any(o.startswith("name=apparmor") for o in host.docker.info().get("SecurityOptions") or []):
        return "the Docker engine does not report AppArmor support"
    if host.which("apparmor_parser") is None:
        return "apparmor_parser is not installed (Debian: apt-get install apparmor)"
    return None


def loaded(host: "Host") -> bool:
    return PROFILE in host.apparmor_profiles()
