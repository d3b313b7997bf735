"""The sandbox's live checks for one container: probes inside it where it has a shell, the
kernel's view of its first process, and the engine's inspect data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from app.shared import inside as probes
from app.shared.apparmor import PROFILE
from app.shared.container_security import DANGEROUS_CAPS, caps, cpus_of, view
from app.steps.sandbox.profile import Sandbox
from app.config.units import format_size

if TYPE_CHECKING:
    from app.host.base import Host

Result = tuple[str, "bool | None", str, dict[str, Any]]  # (check, ok, detail, evidence)
MAX_PROBED_PIDS = 200


def container_checks(host: "Host", container, box: Sandbox, info: dict[str, Any],
                     apparmor_missing: str | None) -> Iterator[Result]:
    """Every check of one running container, named ``<container>: <what>``."""
    name = container.name
    hc = container.attrs.get("HostConfig") or {}
    current = view(container.attrs)
    shell = probes.has_shell(container)
    owner = "left to the socket-proxy step, which owns this container's settings"

    def probe_or(probe, fallback: tuple[bool, str]) -> tuple[bool | None, str, dict[str, Any]]:
        why = "no shell"
        if shell:
            ok, detail, evidence = probe(container)
            if ok is not None:
                return ok, detail, evidence
            why = f"the probe could not run: {detail or 'no answer'}"  # the engine's words, or LOST
        ok, detail = fallback
        return ok, f"{detail} (from the inspect data: {why})", {}

    if box.role.limits_only:
        yield f"{name}: root filesystem read-only", None, f"skipped: {owner}", {}
        yield f"{name}: /tmp writable, not executable", None, f"skipped: {owner}", {}
    else:
        if not box.read_only:
            yield f"{name}: root filesystem read-only", None, f"accepted: {box.notes[0]}", {"accepted": box.notes[0]}
        else:
            ro = bool(hc.get("ReadonlyRootfs"))
            yield (f"{name}: root filesystem read-only",
                   *probe_or(probes.root_read_only, (ro, "ReadonlyRootfs " + ("on" if ro else "off"))))
        tmp = (hc.get("Tmpfs") or {}).get("/tmp", "")
        yield (f"{name}: /tmp writable, not executable",
               *probe_or(probes.tmp_noexec, ("noexec" in tmp, f"tmpfs /tmp: {tmp or 'none'}")))
    dropped = caps(hc.get("CapDrop"))
    no_raw = "NET_RAW" in dropped or "ALL" in dropped
    yield f"{name}: no raw sockets", *probe_or(probes.raw_socket, (no_raw, f"dropped: {', '.join(dropped) or 'none'}"))
    limit = hc.get("PidsLimit") or 0
    probe_limit = limit if limit > 0 else box.pids
    fallback = (limit > 0, f"PidsLimit {limit or 'unset'}")
    if probe_limit > MAX_PROBED_PIDS:  # too many processes to start just to prove a point
        yield f"{name}: process limit holds", fallback[0], f"{fallback[1]} (from the inspect data: too high to probe)", {}
    else:
        yield (f"{name}: process limit holds",
               *probe_or(lambda c: probes.process_limit(c, probe_limit), fallback))
    yield from _limits(name, hc, current, box, info)
    yield from _privileges(host, container, name, hc, current)
    if apparmor_missing:
        yield f"{name}: AppArmor profile", None, f"skipped: {apparmor_missing}", {}
    elif not box.role.limits_only:
        profile = container.attrs.get("AppArmorProfile") or "none"
        yield f"{name}: AppArmor profile", profile == PROFILE, f"profile {profile}", {"profile": profile}
    if box.isolate_on:
        networks = current["networks"]
        yield (f"{name}: only on {box.isolate_on}", networks == box.isolate_on, f"attached to {networks}",
               {"networks": networks})


def _limits(name: str, hc: dict, current: dict[str, str], box: Sandbox, info: dict) -> Iterator[Result]:
    memory = format_size(box.memory)
    yield (f"{name}: memory limit {memory}", current["memory"] == memory, f"memory {current['memory']}",
           {"memory": hc.get("Memory")})
    if info.get("SwapLimit") is False:
        yield f"{name}: no swap", None, "skipped: this kernel has no swap accounting (swapaccount=1)", {}
    else:
        swap_ok = bool(hc.get("Memory")) and hc.get("MemorySwap") == hc.get("Memory")
        yield (f"{name}: no swap", swap_ok, f"memory+swap {current['memory+swap']}, memory {current['memory']}",
               {"memory_swap": hc.get("MemorySwap")})
    cpus = f"{box.cpus:g}"
    yield f"{name}: CPU limit {cpus}", cpus_of(hc) == cpus, f"CPUs {current['cpus']}", {"nano_cpus": hc.get("NanoCpus")}
    yield (f"{name}: PIDs limit {box.pids}", hc.get("PidsLimit") == box.pids, f"PIDs limit {current['pids limit']}",
           {"pids_limit": hc.get("PidsLimit")})


def _privileges(host: "Host", container, name: str, hc: dict, current: dict[str, str]) -> Iterator[Result]:
    status = probes.process_status(host, container) or {}
    nnp = current["no-new-privileges"] == "yes"
    if "NoNewPrivs" in status:
        live = status["NoNewPrivs"] == "1"
        yield (f"{name}: no-new-privileges", live, f"NoNewPrivs: {status['NoNewPrivs']} in its first process "
               f"(security option {'set' if nnp else 'not set'})", {"NoNewPrivs": status["NoNewPrivs"]})
    else:
        yield f"{name}: no-new-privileges", nnp, f"security option {'set' if nnp else 'not set'}", {}
    profile = current["seccomp"]
    confined = profile != "unconfined" and not hc.get("Privileged")
    if "Seccomp" in status:
        confined = confined and status["Seccomp"] == "2"
        detail = f"{profile}; Seccomp: {status['Seccomp']} in its first process"
    else:
        detail = profile
    yield f"{name}: seccomp not unconfined", confined, detail, {"profile": profile, "Seccomp": status.get("Seccomp")}
    added = caps(hc.get("CapAdd"))
    bad = sorted(set(added) & DANGEROUS_CAPS)
    yield (f"{name}: no dangerous capabilities added", not bad,
           f"added: {', '.join(bad)}" if bad else f"added: {', '.join(added) or 'none'}", {"cap_add": added})
    privileged = bool(hc.get("Privileged"))
    yield f"{name}: not privileged", not privileged, "privileged" if privileged else "not privileged", {}
