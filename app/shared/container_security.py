"""How the security settings of an inspected container read, for the steps that judge them:
the sandbox step (plans and checks) and the CIS audit."""

from __future__ import annotations

from typing import Any

from app.config.units import format_size
from app.shared import seccomp

# Capabilities that let a container reach past its walls (CIS 5.4); the sandbox removes them.
DANGEROUS_CAPS = frozenset("ALL SYS_ADMIN NET_ADMIN NET_RAW SYS_PTRACE SYS_MODULE SYS_RAWIO SYS_BOOT SYS_TIME "
                           "DAC_READ_SEARCH MAC_ADMIN MAC_OVERRIDE BPF PERFMON SYSLOG LINUX_IMMUTABLE "
                           "AUDIT_CONTROL".split())

def caps(values: list[str] | None) -> list[str]:
    """``CAP_NET_RAW`` and ``net_raw`` both mean ``NET_RAW``."""
    return sorted({v.upper().removeprefix("CAP_") for v in values or []})


def view(attrs: dict[str, Any]) -> dict[str, str]:
    """The sandbox-relevant settings of an inspected container, comparable and readable."""
    hc = attrs.get("HostConfig") or {}
    options = hc.get("SecurityOpt") or []
    names = [seccomp.option_name(o) for o in options]
    nnp_off = any(o.endswith(("=false", ":false")) for o in options if seccomp.option_name(o) == "no-new-privileges")
    apparmor = next((o.split("=", 1)[-1].split(":", 1)[-1] for o in options
                     if seccomp.option_name(o) == "apparmor"), "engine default")
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return {
        "memory": format_size(hc.get("Memory")),
        "memory+swap": _swap(hc),
        "cpus": cpus_of(hc),
        "pids limit": str(hc["PidsLimit"]) if (hc.get("PidsLimit") or 0) > 0 else "unlimited",
        "read-only root": "yes" if hc.get("ReadonlyRootfs") else "no",
        "tmpfs": ", ".join(f"{p} ({o})" for p, o in sorted((hc.get("Tmpfs") or {}).items())) or "(none)",
        "dropped capabilities": ", ".join(caps(hc.get("CapDrop"))) or "(none)",
        "added capabilities": ", ".join(caps(hc.get("CapAdd"))) or "(none)",
        "privileged": "yes" if hc.get("Privileged") else "no",
        "no-new-privileges": "yes" if "no-new-privileges" in names and not nnp_off else "no",
        "seccomp": seccomp.describe(options),
        "apparmor": apparmor,
        "networks": ", ".join(sorted(networks)) or "(none)",
    }


def cpus_of(hc: dict[str, Any]) -> str:
    if hc.get("NanoCpus"):
        return f"{hc['NanoCpus'] / 1e9:g}"
    if hc.get("CpuQuota", 0) > 0 and hc.get("CpuPeriod"):
        return f"{hc['CpuQuota'] / hc['CpuPeriod']:g}"
    return "unlimited"


def _swap(hc: dict[str, Any]) -> str:
    swap = hc.get("MemorySwap") or 0
    if swap < 0 or (swap == 0 and not hc.get("Memory")):
        return "unlimited"
    return format_size(swap) if swap else "default (twice the memory)"
