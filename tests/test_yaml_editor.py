"""The surgical YAML editor on realistic homeserver.yaml files the project writes itself
(tests/data/synapse/) and on the lab's: only the intended lines change, applying twice equals
applying once, every untouched key keeps its value, and bad files are refused."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from app.editors.yaml_text import YamlEditError, load_plain, render_scalar, set_keys

DATA = Path(__file__).parent / "data" / "synapse"
LOCKDOWN = {
    "allow_public_rooms_without_auth": False,
    "allow_public_rooms_over_federation": False,
    "federation_domain_whitelist": ["chat.example.org", "friends.example.net"],
    "enable_registration": False,
    "allow_guest_access": False,
    "turn_allow_guests": False,
}


def data(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


FILES = {
    "sample": data("sample.yaml"),
    "generated": data("generated.yaml"),
    "minimal": data("minimal.yaml"),
    # The reference host's homeserver.yaml with its traps (Postgres placeholder, a unix listener's
    # YAML 1.1 octal mode); the lab's own file drops both to run for real.
    "lab": (DATA / "reference-host.yaml").read_text(encoding="utf-8"),
    "empty": "",
    "comments only": "# nothing set yet\n",
    "sample CRLF": data("sample.yaml").replace("\n", "\r\n"),
    "sample no final newline": data("sample.yaml").rstrip("\n"),
}


def changes(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed lines, added lines) between two texts, line endings kept."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def untouched_keep_values(before: str, after: str, values: dict) -> None:
    old, new = load_plain(before), load_plain(after)
    assert set(new) == set(old) | set(values)
    for key, value in old.items():
        if key not in values:
            assert new[key] == value, key
    for key, value in values.items():
        assert new[key] == value, key


@pytest.mark.parametrize("name", list(FILES))
def test_every_file_idempotent_and_untouched_keys_keep_values(name):
    text = FILES[name]
    once = set_keys(text, LOCKDOWN)
    assert set_keys(once, LOCKDOWN) == once
    untouched_keep_values(text, once, LOCKDOWN)
    removed, _ = changes(text, once)
    # Only lines that held one of the keys being set may go (a secret line never does).
    assert all(line.split(":")[0] in LOCKDOWN for line in removed), removed


def test_sample_diff_is_exactly_the_intended_lines():
    text = FILES["sample"]
    after = set_keys(text, LOCKDOWN)
    removed, added = changes(text, after)
    assert removed == [
        "allow_public_rooms_over_federation: yes   # opened for the 2019 community event\n",
        "enable_registration: true\n",
        "allow_guest_access: True\n",
    ]
    assert added == [
        "allow_public_rooms_without_auth: false\n",
        "allow_public_rooms_over_federation: false   # opened for the 2019 community event\n",
        "federation_domain_whitelist:\n", "  - chat.example.org\n", "  - friends.example.net\n",
        "turn_allow_guests: false\n",
        "enable_registration: false\n",
        "allow_guest_access: false\n",
    ]
    # Absent keys land right below their commented-out examples.
    assert "#allow_public_rooms_without_auth: true\nallow_public_rooms_without_auth: false\n" in after
    assert "#  - syd.example.com\nfederation_domain_whitelist:\n  - chat.example.org\n" in after
    assert "#turn_allow_guests: true\nturn_allow_guests: false\n" in after


def test_lab_file_keeps_yaml11_values_placeholders_and_mixed_indentation():
    text = FILES["lab"]
    after = set_keys(text, LOCKDOWN)
    for kept in ("    mode: 0660\n", "suppress_key_server_warning: yes\n", "    password: ${POSTGRES_PASSWORD}\n",
                 "    resources:\n    - names: [client]\n", "auto_join_rooms:\n- \"#general:matrix.example.com\"\n",
                 "user_directory:\n    enabled: true\n", "server_name: \"matrix.example.com\"\n"):
        assert kept in after
    assert load_plain(after)["listeners"][1]["mode"] == 0o660


def test_generated_file_gets_new_keys_above_the_trailing_modeline_without_final_newline():
    text = FILES["generated"]
    after = set_keys(text, {"allow_public_rooms_without_auth": False, "federation_domain_whitelist": ["hs.test"]})
    assert after.endswith('  - server_name: "matrix.org"\nallow_public_rooms_without_auth: false\n'
                          "federation_domain_whitelist:\n  - hs.test\n\n\n# vim:ft=yaml")


def test_minimal_file_flow_list_becomes_a_block_list():
    after = set_keys(FILES["minimal"], {"federation_domain_whitelist": ["example.net", "friends.example.com"]})
    assert after.endswith("federation_domain_whitelist:\n  - example.net\n  - friends.example.com\n")
    assert after.startswith(FILES["minimal"].split("federation_domain_whitelist")[0])


def test_empty_and_missing_final_newline():
    assert set_keys("", {"enable_registration": False}) == "enable_registration: false\n"
    assert set_keys("a: 1", {"b": False}) == "a: 1\nb: false"
    assert set_keys("b: true", {"b": False}) == "b: false"
    assert set_keys("a: 1\n", {"b": []}) == "a: 1\nb: []\n"


def test_crlf_file_stays_crlf():
    after = set_keys(FILES["sample CRLF"], LOCKDOWN)
    assert "\n" not in after.replace("\r\n", "")
    assert after == set_keys(FILES["sample"], LOCKDOWN).replace("\n", "\r\n")


@pytest.mark.parametrize("before, after", [
    # an active block list at four spaces keeps its indentation
    ("a: 1\nfederation_domain_whitelist:\n    - old.example\n    # - gone.example\n    - x.example\n\n# next\nb: 2\n",
     "a: 1\nfederation_domain_whitelist:\n    - me.example\n\n# next\nb: 2\n"),
    # a flow list over several lines, with a comment on the key line that is dropped with it
    ("federation_domain_whitelist: [a.example,  # first\n  b.example]\nb: 2\n",
     "federation_domain_whitelist:\n  - me.example\nb: 2\n"),
    # an empty value with a comment: the comment stays
    ("federation_domain_whitelist:   # none yet\nb: 2\n",
     "federation_domain_whitelist:   # none yet\n  - me.example\nb: 2\n"),
    # a quoted key and a comment after a scalar value
    ('"federation_domain_whitelist": null  # was open\n', '"federation_domain_whitelist":  # was open\n  - me.example\n'),
])
def test_active_list_replaced_in_place(before, after):
    assert set_keys(before, {"federation_domain_whitelist": ["me.example"]}) == after


def test_scalar_keeps_its_comment_and_spacing():
    text = "a: 1\nallow_guest_access:    'yes'    # why not\nz: [1, 2]\n"
    assert set_keys(text, {"allow_guest_access": False}) == "a: 1\nallow_guest_access:    false    # why not\nz: [1, 2]\n"


def test_commented_example_inside_a_nested_block_is_not_used():
    text = ("listeners:\n  - port: 8008\n#federation_domain_whitelist:\n#  - a.example\n    type: http\n"
            "report_stats: false\n")
    after = set_keys(text, {"federation_domain_whitelist": ["me.example"]})
    assert after == text + "federation_domain_whitelist:\n  - me.example\n"


def test_values_already_set_leave_the_text_alone():
    text = "allow_guest_access: no\nfederation_domain_whitelist: [me.example]\n"
    assert set_keys(text, {"allow_guest_access": False, "federation_domain_whitelist": ["me.example"]}) is text


@pytest.mark.parametrize("value, text", [
    ("yes", '"yes"'), ("0660", '"0660"'), ("on", '"on"'), ("a.example", "a.example"), ("#x", '"#x"'),
    ("a: b", '"a: b"'), ("", '""'), (False, "false"), (None, "null"), (3, "3"),
])
def test_render_scalar_reads_back_the_same_in_yaml_11_and_12(value, text):
    assert render_scalar(value) == text
    assert load_plain(f"k: {text}\n")["k"] == value


@pytest.mark.parametrize("text, words", [
    ("server_name: {{ matrix_domain }}\n", ["Jinja", "line 1"]),
    ('a: 1\nserver_name: "{{ matrix_domain }}"\n', ["Jinja", "line 2"]),
    ("a: 1\n{% if federation %}\nb: 2\n{% endif %}\n", ["Jinja", "line 2"]),
    ("a: 1\nb: 2 {# note #}\n", ["Jinja", "line 2"]),
    ("a: 1\nb: [1\nc: 2\n", ["not valid YAML", "line 3, column 2"]),
    ("a: 1\n  b: 2\n", ["not valid YAML", "line 2, column 4"]),
    ("a: 1\na: 2\n", ["not valid YAML", "line 2", "duplicate"]),
    ("- a\n- b\n", ["not a YAML mapping"]),
    ("a: 1\n---\nb: 2\n", ["not valid YAML", "line 2"]),
])
def test_refusals_say_where(text, words):
    with pytest.raises(YamlEditError) as caught:
        set_keys(text, LOCKDOWN, "/opt/matrix/synapse/homeserver.yaml")
    message = str(caught.value)
    for word in words + ["/opt/matrix/synapse/homeserver.yaml", "othing was written"]:
        assert word in message


def test_jinja_in_comments_and_synapse_sso_templates_is_fine():
    text = '# example: "{{ user.name }}"\na: 1  # {% not a tag %}\n' + FILES["sample"]
    assert load_plain(text)["oidc_providers"][0]["user_mapping_provider"]["config"]["display_name_template"] \
        == "{{ user.name }}"
    set_keys(text, LOCKDOWN)


def test_an_anchor_shared_with_another_key_is_refused():
    text = "federation_domain_whitelist: &peers [a.example]\nmirror: *peers\n"
    with pytest.raises(YamlEditError, match="would change other settings"):
        set_keys(text, {"federation_domain_whitelist": ["me.example"]})


# --- property-based: generated files with every indentation style and key order ----------

import string  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HOSTS = st.builds("{}.{}".format, st.sampled_from(["lon", "nyc", "yes", "on", "no1", "x-y", "matrix", "0660"]),
                  st.sampled_from(["example.org", "example", "test", "chat.example.net"]))
SECRET = st.text(string.ascii_letters + string.digits + "#&*:^~=@.,;+-_ ", min_size=8, max_size=30)
OTHERS = ["server_name", "pid_file", "listeners", "database", "macaroon_secret_key", "form_secret",
          "auto_join_rooms", "ip_range_blacklist", "presence", "suppress_key_server_warning", "mode_like"]


@st.composite
def other_block(draw, key: str) -> list[str]:
    style = draw(st.sampled_from(["plain", "quoted", "yaml11", "secret", "block", "flow", "map", "placeholder"]))
    indent = draw(st.sampled_from([0, 2, 4]))
    if style == "block":
        items = draw(st.lists(HOSTS, min_size=1, max_size=3))
        return [f"{key}:"] + [f"{' ' * indent}- {item}" for item in items]
    if style == "map":
        pad = " " * max(indent, 2)
        return [f"{key}:", f"{pad}enabled: {draw(st.sampled_from(['yes', 'true', 'off']))}",
                f"{pad}mode: 0660", f"{pad}list:", f"{pad}- a.example"]
    value = {"plain": draw(HOSTS), "quoted": f'"{draw(HOSTS)}"', "yaml11": draw(st.sampled_from(["yes", "no", "0660"])),
             "secret": f'"{draw(SECRET)}"', "flow": "[a.example, 'b.example']", "placeholder": "${SYNAPSE_VAR}"}[style]
    return [f"{key}: {value}"]


@st.composite
def target_block(draw, key: str) -> tuple[str, list[str]]:
    state = draw(st.sampled_from(["absent", "active", "commented"]))
    if key != "federation_domain_whitelist":
        word = draw(st.sampled_from(["true", "True", "yes", "on", "false", "no"]))
        return state, {"absent": [], "active": [f"{key}: {word}"], "commented": [f"#{key}: {word}"]}[state]
    indent = " " * draw(st.sampled_from([0, 2, 4]))
    if state == "commented":
        return state, [f"#{key}:", "#  - lon.example.com", "#  - nyc.example.com"]
    shape = draw(st.sampled_from(["block", "flow", "empty", "null", "commented item"]))
    lines = {"block": [f"{key}:", f"{indent}- a.example", f"{indent}- b.example"],
             "flow": [f"{key}: [a.example, b.example]"], "empty": [f"{key}: []"], "null": [f"{key}:"],
             "commented item": [f"{key}:", f"{indent}- a.example", f"{indent}# - gone.example", f"{indent}- c.example"]}
    return state, lines[shape] if state == "active" else []


@st.composite
def documents(draw) -> tuple[str, dict, list[str]]:
    """(text, values to set, the lines that must survive in order)."""
    values = {}
    for key in LOCKDOWN:
        if draw(st.booleans()):
            values[key] = draw(st.lists(HOSTS, min_size=0, max_size=3, unique=True)) \
                if key == "federation_domain_whitelist" else draw(st.booleans())
    blocks: list[tuple[bool, list[str]]] = []  # (replaceable, lines)
    for key in draw(st.lists(st.sampled_from(OTHERS), unique=True, max_size=7)):
        blocks.append((False, draw(other_block(key))))
    for key in LOCKDOWN:
        state, lines = draw(target_block(key))
        blocks.append((state == "active" and key in values, lines))
    blocks = draw(st.permutations(blocks))
    lines: list[tuple[bool, str]] = []
    for replaceable, block in blocks:
        if draw(st.booleans()):
            lines += [(False, ""), (False, "# Explains the next setting.")]
        lines += [(replaceable, line) for line in block]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = "".join(line + newline for _, line in lines)
    if text and draw(st.booleans()):
        text = text[: -len(newline)]
    return text, values, [line for replaceable, line in lines if not replaceable]


def is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(line == other for other in remaining) for line in needles)


PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(documents())
def test_property_applying_twice_equals_once(document):
    text, values, _ = document
    once = set_keys(text, values)
    assert set_keys(once, values) == once


@PROPERTY
@given(documents())
def test_property_untouched_keys_and_lines_survive(document):
    text, values, survivors = document
    after = set_keys(text, values)
    untouched_keep_values(text, after, {k: v for k, v in values.items()})
    assert is_subsequence(survivors, after.splitlines())
    assert ("\r\n" in text) == ("\r\n" in after) or not text
    assert text.endswith("\n") == after.endswith("\n") or not text
