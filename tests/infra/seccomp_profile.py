"""Regenerate ``assets/seccomp/hardstep.json``, hardstep's seccomp profile.

    .venv/bin/python -m tests.infra.seccomp_profile            # rewrite the asset
    .venv/bin/python -m tests.infra.seccomp_profile --check    # exit 1 when it is stale

The allow-list starts like the engine's default: every system call of the kernel's x86_64
table (``asm/unistd_64.h`` from Debian's linux-libc-dev), minus the calls Docker's documented
default profile blocks (kernel modules, kexec, keyrings, clocks, NUMA, handles, namespaces...),
with the engine's argument rules for ``clone`` (no new namespaces), ``clone3`` (ENOSYS, so the
C library falls back to ``clone``) and ``personality``. hardstep then blocks more, as the
sandbox reference asks: tracing (``ptrace``, ``process_vm_*``, ``perf_event_open``, ``kcmp``,
``pidfd_getfd``), every mount call including the new mount API, ``io_uring`` and
``userfaultfd``; ``socket()`` is allowed for AF_UNIX, for AF_INET/AF_INET6 only with
SOCK_STREAM or SOCK_DGRAM, and for AF_NETLINK only with NETLINK_ROUTE, so raw sockets and other
families (packet, the other netlink families: netfilter, xfrm, audit...) fail with EPERM.
NETLINK_ROUTE is what the C library's ``getifaddrs`` asks: without it coTURN finds no listener
address and exits ("Cannot configure any meaningful IP listener address", seen in the lab once
the daemon step made this profile the engine's default); changing routes or links through it
needs CAP_NET_ADMIN, which containers do not have. Only the native 64-bit ABI is listed: 32-bit x86 calls (and ``socketcall``) are refused.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HEADER = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
ASSET = Path(__file__).resolve().parents[2] / "assets" / "seccomp" / "hardstep.json"

# Blocked by the engine's default profile (Docker's documentation lists them).
ENGINE_BLOCKED = """
acct add_key bpf clock_adjtime clock_settime create_module delete_module fanotify_init finit_module
get_kernel_syms get_mempolicy init_module ioperm iopl kexec_file_load kexec_load keyctl
lookup_dcookie mbind migrate_pages move_pages name_to_handle_at nfsservctl open_by_handle_at
pivot_root query_module quotactl quotactl_fd reboot request_key set_mempolicy
set_mempolicy_home_node setns settimeofday swapon swapoff sysfs _sysctl syslog umount2 unshare
uselib ustat vhangup afs_syscall tuxcall security vserver getpmsg putpmsg epoll_ctl_old
epoll_wait_old modify_ldt
""".split()
# Blocked on top by hardstep: tracing, mounting, and two big kernel attack surfaces.
HARDSTEP_BLOCKED = """
ptrace process_vm_readv process_vm_writev perf_event_open kcmp pidfd_getfd
mount umount2 open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr
io_uring_setup io_uring_enter io_uring_register userfaultfd
""".split()
# Allowed only with the argument rules below.
RULED = {"clone", "clone3", "personality", "socket"}

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
NETLINK_ROUTE = 0
SOCK_STREAM, SOCK_DGRAM, SOCK_TYPE_MASK = 1, 2, 0xF
# CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP, as in the engine's profile.
CLONE_NAMESPACE_FLAGS = 0x7E020000
ENOSYS = 38


def syscall_names(header: Path = HEADER) -> list[str]:
    return re.findall(r"^#define __NR_(\w+)\s+\d+", header.read_text(), re.MULTILINE)


def arg(index: int, value: int, op: str = "SCMP_CMP_EQ", value_two: int = 0) -> dict:
    return {"index": index, "value": value, "valueTwo": value_two, "op": op}


def profile(names: list[str]) -> dict:
    blocked = set(ENGINE_BLOCKED) | set(HARDSTEP_BLOCKED) | RULED
    allowed = sorted(n for n in names if n not in blocked)
    rules: list[dict] = [{"names": allowed, "action": "SCMP_ACT_ALLOW"}]
    rules.append({"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                  "args": [arg(0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ", 0)]})
    rules.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    for persona in (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF):
        rules.append({"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [arg(0, persona)]})
    rules.append({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [arg(0, AF_UNIX)]})
    rules.append({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [arg(0, AF_NETLINK), arg(2, NETLINK_ROUTE)]})
    for family in (AF_INET, AF_INET6):
        for kind in (SOCK_STREAM, SOCK_DGRAM):
            rules.append({"names": ["socket"], "action": "SCMP_ACT_ALLOW",
                          "args": [arg(0, family), arg(1, SOCK_TYPE_MASK, "SCMP_CMP_MASKED_EQ", kind)]})
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": []}],
        "syscalls": rules,
    }


def render(names: list[str]) -> str:
    return json.dumps(profile(names), indent=1) + "\n"


def main(argv: list[str]) -> int:
    text = render(syscall_names())
    if "--check" in argv:
        stale = ASSET.read_text() != text
        print(f"{ASSET} is {'stale' if stale else 'up to date'}")
        return int(stale)
    ASSET.parent.mkdir(parents=True, exist_ok=True)
    ASSET.write_text(text)
    print(f"wrote {ASSET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
