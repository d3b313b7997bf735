"""``parse_target``: the forms ``--host`` accepts, and a one-line refusal naming them otherwise."""

from __future__ import annotations

import pytest

from app.errors import HardstepError
from app.host.target import SshTarget, parse_target


@pytest.mark.parametrize("text, target, label, shown", [
    ("ssh://admin@matrix.example.org:2222", SshTarget("matrix.example.org", "admin", 2222),
     "admin@matrix.example.org_2222", "ssh://admin@matrix.example.org:2222"),
    ("ssh://matrix.example.org", SshTarget("matrix.example.org"), "matrix.example.org", "ssh://matrix.example.org"),
    ("root@10.0.0.7", SshTarget("10.0.0.7", "root"), "root@10.0.0.7", "ssh://root@10.0.0.7"),
    ("my_box", SshTarget("my_box"), "my_box", "ssh://my_box"),
    ("SSH://host-1:22/", SshTarget("host-1", None, 22), "host-1_22", "ssh://host-1:22"),
    ("ssh://root@[2001:db8::7]:2222", SshTarget("2001:db8::7", "root", 2222), "root@ipv6-2001-db8--7_2222",
     "ssh://root@[2001:db8::7]:2222"),
    ("[::1]", SshTarget("::1"), "ipv6---1", "ssh://[::1]"),
])
def test_accepted_forms(text, target, label, shown):
    assert parse_target(text) == target
    assert target.label == label and str(target) == shown
    assert parse_target(str(target)) == target, "the ssh:// form reads back as the same target"


@pytest.mark.parametrize("text, why", [
    ("http://host", "only ssh:// is supported"),
    ("ssh://host:0", "port must be a number from 1 to 65535"),
    ("ssh://host:65536", "port must be a number from 1 to 65535"),
    ("host:ssh", "port must be a number from 1 to 65535"),
    ("ssh://", "is not a valid host name"),
    ("ho st", "is not a valid host name"),
    ("host;rm -rf /", "is not a valid host name"),
    ("-oProxyCommand=x", "is not a valid host name"),
    ("../etc", "is not a valid host name"),
    ("bad user@host", "is not a valid user name"),
    ("@host", "is not a valid user name"),
    ("2001:db8::7", "put an IPv6 address in brackets, [2001:db8::7]"),
    ("root@::1", "put an IPv6 address in brackets, [::1]"),
    ("[::1", "is not an IPv6 address in brackets"),
    ("[::1]x", "is not an IPv6 address in brackets"),
    ("[::1]:ssh", "port must be a number from 1 to 65535"),
    ("[fe80::1%eth0]", "is not an IPv6 address in brackets"),
    ("[10.0.0.7]", "is not an IPv6 address in brackets"),
])
def test_refusals_say_what_is_wrong_and_the_accepted_forms(text, why):
    with pytest.raises(HardstepError) as refused:
        parse_target(text)
    message = str(refused.value)
    assert why in message and "ssh://[user@]host[:port]" in message and "\n" not in message
    assert refused.value.exit_code == 2


def test_the_label_is_a_safe_file_name():
    import re

    for text in ("ssh://a.b-c_d@x.example.org:65535", "x", "u@1.2.3.4", "[::1]:22", "u@[2001:db8::7]"):
        assert re.fullmatch(r"[A-Za-z0-9._@-]+", parse_target(text).label)


def test_every_host_says_what_to_call_it():
    from app.host import LocalHost
    from app.host.ssh import SshHost

    assert (LocalHost().label, LocalHost().remote) == ("this machine", False)
    remote = SshHost(parse_target("admin@matrix.example.org:2222"))  # connects on first use only
    assert (remote.label, remote.remote, remote.root.as_posix()) == ("ssh://admin@matrix.example.org:2222", True, "/")


NOT_SSH = """
import socket, sys, threading
from app.host.ssh import SshHost
from app.host.target import parse_target
server = socket.create_server(("127.0.0.1", 0))
def answer():
    while True:
        peer, _ = server.accept()
        peer.sendall(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n")
        peer.close()
threading.Thread(target=answer, daemon=True).start()
SshHost(parse_target(f"127.0.0.1:{server.getsockname()[1]}"), connect_timeout=5).read_text("/etc/hostname")
"""


def test_a_port_that_is_not_ssh_is_one_line_and_no_traceback(tmp_path):
    """paramiko's transport thread logs the failed handshake with a traceback: not on stderr."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", NOT_SSH], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert "SshError: ssh://127.0.0.1:" in done.stderr and "Error reading SSH protocol banner" in done.stderr
    assert done.stderr.count("Traceback") == 1, "only the one of the uncaught error itself:\n" + done.stderr
