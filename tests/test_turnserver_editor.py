"""turnserver.conf edits: only the options asked for change; comments, CRLF endings and the
final-newline state stay; applying twice equals once. Files are written here, by the tests."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.assets import read_asset
from app.editors.turnserver import parse, set_options, values

WANTED = {"cert": "/opt/certs/fullchain.pem", "pkey": "/opt/certs/privkey.pem", "tls-listening-port": "5349",
          "no-cli": True, "denied-peer-ip": ["10.0.0.0-10.255.255.255", "::1"]}
UNSET = ["no-tls", "no-dtls"]


def changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line.startswith(("- ", "+ "))]


def others(text: str) -> list[tuple[str, str | None]]:
    return [(o.key, o.value) for o in parse(text) if o.key not in WANTED and o.key not in UNSET]


def test_all_commented_file_gets_each_option_below_its_example():
    text = ("# TURN server\n#\n#tls-listening-port=5349\n\n# Certificate\n#cert=/usr/local/etc/cert.pem\n"
            "#pkey=/usr/local/etc/pkey.pem\n\n# Turn OFF the CLI\n#no-cli\n")
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "pkey": "/opt/certs/privkey.pem",
                               "tls-listening-port": "5349", "no-cli": True})
    assert after == ("# TURN server\n#\n#tls-listening-port=5349\ntls-listening-port=5349\n\n# Certificate\n"
                     "#cert=/usr/local/etc/cert.pem\ncert=/opt/certs/fullchain.pem\n"
                     "#pkey=/usr/local/etc/pkey.pem\npkey=/opt/certs/privkey.pem\n\n# Turn OFF the CLI\n#no-cli\nno-cli\n")


def test_repeated_commented_examples_the_new_line_follows_the_last_one():
    text = ("#cert=/usr/local/etc/turn_server_cert.pem\n#pkey=/usr/local/etc/turn_server_pkey.pem\n\n"
            "# For Let's Encrypt certificates, use `fullchain.pem` here.\n#cert=/opt/turn/fullchain.cer\n"
            "# TLS private key file\n#pkey=opt/turn/turn.key\n\nlog-file=stdout\n")
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "pkey": "/opt/certs/privkey.pem"})
    lines = after.splitlines()
    assert lines[lines.index("#cert=/opt/turn/fullchain.cer") + 1] == "cert=/opt/certs/fullchain.pem"
    assert lines[lines.index("#pkey=opt/turn/turn.key") + 1] == "pkey=/opt/certs/privkey.pem"
    assert len(changed(text, after)) == 2


def test_relative_pkey_is_replaced_in_place():
    text = "cert=/opt/turn/fullchain.cer\npkey=opt/turn/turn.key\nfingerprint\n"
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "pkey": "/opt/certs/privkey.pem"})
    assert after == "cert=/opt/certs/fullchain.pem\npkey=/opt/certs/privkey.pem\nfingerprint\n"


def test_crlf_and_no_final_newline_are_kept():
    text = "listening-port=3478\r\n#cert=/x.pem\r\nrealm=turn.example.org"
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "no-cli": True})
    assert after == "listening-port=3478\r\n#cert=/x.pem\r\ncert=/opt/certs/fullchain.pem\r\nrealm=turn.example.org\r\nno-cli"
    last_example = set_options("#no-cli", {"no-cli": True})
    assert last_example == "#no-cli\nno-cli"


def test_trailing_hash_after_a_value_moves_onto_its_own_comment_line():
    # coturn 4.6.1 reads "cert=/a.pem # old" as the file "/a.pem # old" (reproduced): keep the note, not in the value.
    text = "  cert=/a.pem # renewed by acme.sh\ntls-listening-port=5349   # TURNS\nmax-port=63059  # keep in sync\n"
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "tls-listening-port": "5349"})
    assert after == ("  # renewed by acme.sh\n  cert=/opt/certs/fullchain.pem\n# TURNS\ntls-listening-port=5349\n"
                     "max-port=63059  # keep in sync\n")
    assert values(after)["max-port"] == ["63059  # keep in sync"]  # untouched, as coturn reads it


def test_flags_with_false_values_become_bare_and_unset_comments_out():
    text = "no-cli=false\nno-tls\n  no-dtls=1\nverbose\n"
    after = set_options(text, {"no-cli": True}, unset=["no-tls", "no-dtls", "absent"])
    assert after == "no-cli\n#no-tls\n  #no-dtls=1\nverbose\n"
    assert set_options("no-cli=yes\n", {"no-cli": True}) == "no-cli=yes\n"


def test_repeated_values_are_added_after_the_existing_ones_without_duplicates():
    text = "denied-peer-ip=10.0.0.0-10.255.255.255\nrealm=x\n"
    after = set_options(text, {"denied-peer-ip": ["10.0.0.0-10.255.255.255", "::1"]})
    assert after == "denied-peer-ip=10.0.0.0-10.255.255.255\ndenied-peer-ip=::1\nrealm=x\n"


@pytest.mark.parametrize("text", ["", "\n", "# only a comment", "\r\n\r\n"])
def test_empty_and_comment_only_files(text):
    after = set_options(text, WANTED, UNSET)
    assert values(after)["cert"] == [WANTED["cert"]]
    assert set_options(after, WANTED, UNSET) == after
    assert after.endswith("\n") == (text.endswith("\n") or text == "")


def test_lab_file_changes_only_the_asked_lines():
    text = read_asset("lab", "turnserver.conf")
    after = set_options(text, WANTED, UNSET)
    assert all(line.startswith("+ ") for line in changed(text, after))  # nothing removed, only added
    assert others(after) == others(text)
    assert set_options(after, WANTED, UNSET) == after


# --- properties ------------------------------------------------------------------------------

KEYS = ["cert", "pkey", "tls-listening-port", "no-cli", "no-tls", "no-dtls", "denied-peer-ip", "realm",
        "listening-port", "fingerprint", "max-port"]
VALUES = st.sampled_from([None, "/opt/certs/fullchain.pem", "opt/x.key", "5349", "false", "yes", "::1",
                          "10.0.0.0-10.255.255.255", "63059  # keep", "a # b #"])


@st.composite
def turnserver_files(draw) -> str:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["option", "example", "comment", "blank"]))
        key, value = draw(st.sampled_from(KEYS)), draw(VALUES)
        indent = draw(st.sampled_from(["", "  ", "\t"]))
        option = key if value is None else f"{key}{draw(st.sampled_from(['=', ' = ']))}{value}"
        lines.append({"option": indent + option, "example": f"#{option}", "blank": "",
                      "comment": f"# {draw(st.sampled_from(['Certificate file', 'Uncomment to', 'cert']))}"}[kind])
    text = newline.join(lines)
    return text + (newline if lines and draw(st.booleans()) else "")


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(turnserver_files())
def test_property_twice_equals_once(text):
    once = set_options(text, WANTED, UNSET)
    assert set_options(once, WANTED, UNSET) == once


@PROPERTY
@given(turnserver_files())
def test_property_other_options_comments_endings_kept(text):
    once = set_options(text, WANTED, UNSET)
    assert others(once) == others(text)
    result = values(once)
    assert set(result["cert"]) == {WANTED["cert"]} and set(result["tls-listening-port"]) == {"5349"}
    assert set(WANTED["denied-peer-ip"]) <= set(result["denied-peer-ip"])
    assert not ({"no-tls", "no-dtls"} & set(result))
    if text:
        assert once.endswith("\n") == text.endswith("\n")
    if "\r\n" in text:
        assert all(line.endswith("\r\n") for line in once.splitlines(keepends=True)[:-1])
    # every comment line of the input is still there, in order
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    kept = [line.strip() for line in once.splitlines() if line.strip().startswith("#")]
    assert all(c in kept for c in comments)
