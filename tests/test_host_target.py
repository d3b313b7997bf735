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
])
def test_refusals_say_what_is_wrong_and_the_accepted_forms(text, why):
    with pytest.raises(HardstepError) as refused:
        parse_target(text)
    message = str(refused.value)
    assert why in message and "ssh://[user@]host[:port]" in message and "\n" not in message
    assert refused.value.exit_code == 2


def test_the_label_is_a_safe_file_name():
    import re

    for text in ("ssh://a.b-c_d@x.example.org:65535", "x", "u@1.2.3.4"):
        assert re.fullmatch(r"[A-Za-z0-9._@-]+", parse_target(text).label)
