"""hardstep's seccomp and AppArmor profiles: the engine accepts the seccomp profile and enforces
it (raw sockets, netlink families but the routing one, mount refused even with the default
capabilities; TCP, threads and reading the interfaces still work); the AppArmor profile parses."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from app.assets import asset_path
from app.shared import seccomp
from tests.infra import seccomp_profile

PROBE = ("ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 && echo ping=ok || echo ping=refused; "
         "ip addr >/dev/null 2>&1 && echo netlink=ok || echo netlink=refused; "
         "mount -t tmpfs none /tmp 2>/dev/null && echo mount=ok || echo mount=refused; "
         "(nc -l -p 5000 >/dev/null &) ; sleep 0.3; echo hi | nc 127.0.0.1 5000 && echo tcp=ok || echo tcp=refused")


def run(client, image, script, security_opt=None, **extra) -> str:
    return client.containers.run(image, ["sh", "-c", script], remove=True, security_opt=security_opt,
                                 **extra).decode()


def test_the_asset_is_what_the_generator_makes():
    if not seccomp_profile.HEADER.exists():
        pytest.skip(f"{seccomp_profile.HEADER} missing (Debian's linux-libc-dev)")
    assert asset_path("seccomp", "hardstep.json").read_text() == seccomp_profile.render(seccomp_profile.syscall_names())
    allowed = seccomp.profile()["syscalls"][0]["names"]
    for blocked in ("ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "fsopen", "unshare"):
        assert blocked not in allowed


@pytest.mark.docker
def test_the_engine_enforces_the_profile(docker_client, images):
    # CAP_SYS_ADMIN on purpose: the profile itself must refuse mount, not the missing capability.
    default = run(docker_client, images["busybox"], PROBE, cap_add=["SYS_ADMIN"])
    assert default.split() == ["ping=ok", "netlink=ok", "mount=ok", "tcp=ok"]
    hardened = run(docker_client, images["busybox"], PROBE, [seccomp.security_opt()], cap_add=["SYS_ADMIN"])
    # ip addr reads the interfaces over NETLINK_ROUTE, which stays open (see the next test).
    assert hardened.split() == ["ping=refused", "netlink=ok", "mount=refused", "tcp=ok"]


NETLINK = ("import socket\n"
           "for name, protocol in (('route', 0), ('netfilter', 12), ('xfrm', 6), ('audit', 9)):\n"
           "    try:\n"
           "        socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol).close(); print(name + '=ok')\n"
           "    except OSError:\n"
           "        print(name + '=refused')\n")


@pytest.mark.docker
def test_coturn_finds_its_listener_addresses_and_only_routing_netlink_is_open(docker_client, images):
    """coTURN lists its addresses with getifaddrs (NETLINK_ROUTE): with netlink closed it exits,
    which the lab showed once the daemon step made the profile the engine's default."""
    found = run(docker_client, images["tools"], "timeout 3 turnserver -c /dev/null --no-cli --log-file=stdout 2>&1 | "
                "grep -c 'Listener address to use' || true", [seccomp.security_opt()])
    assert int(found.strip()) >= 1
    families = run(docker_client, images["tools"], f"python3 -c \"{NETLINK}\"", [seccomp.security_opt()])
    assert families.split() == ["route=ok", "netfilter=refused", "xfrm=refused", "audit=refused"]


@pytest.mark.docker
def test_glibc_programs_with_threads_still_run(docker_client, images):
    # glibc 2.36 creates threads with clone3; the profile answers ENOSYS so glibc falls back to clone.
    out = run(docker_client, images["tools"], "seq 1 100000 | sort --parallel=4 -S 1M -rn | head -1",
              [seccomp.security_opt()])
    assert out.strip() == "100000"


def test_the_apparmor_profile_parses():
    parser = shutil.which("apparmor_parser")
    if parser is None:
        pytest.skip("apparmor_parser is not installed (Debian: apparmor)")
    done = subprocess.run([parser, "-Q", "-K", str(asset_path("apparmor", "hardstep-sandbox"))],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
