"""The daemon.json editor on files written here: every untouched byte stays, new keys follow the
file's own layout, and anything that is not a clean JSON object is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from app.editors.json_text import JsonEditError, parse, set_keys

HARDENING = {"icc": False, "userland-proxy": False, "live-restore": True, "no-new-privileges": True,
             "seccomp-profile": "/etc/docker/seccomp-hardstep.json",
             "log-opts": {"max-size": "10m", "max-file": "3"}}


def merged(text: str) -> dict:
    data = json.loads(text) if text.strip() else {}
    for key, value in HARDENING.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and isinstance(data.get(key), dict) else value
    return data


def test_tabs_and_no_final_newline_are_kept():
    text = '{\n\t"data-root": "/srv/docker",\n\t"dns": ["192.0.2.53", "192.0.2.54"]\n}'
    out = set_keys(text, HARDENING)
    assert out.startswith(text[:-2] + ",\n\t\"icc\": false,\n")
    assert out.endswith('\n\t\t"max-file": "3"\n\t}\n}')  # nested object indented with tabs, no final newline
    assert '\t"dns": ["192.0.2.53", "192.0.2.54"],' in out  # the list keeps its one-line form
    assert json.loads(out) == merged(text)


def test_keys_with_spaces_and_escapes_survive_byte_for_byte():
    text = ('{\n    "my key": "a value with } and \\" inside",\n    "k\\\\ey": -1.5e3,\n'
            '    "nested": {"a": {"b": [1, {"c": null}]}}\n}\n')
    out = set_keys(text, HARDENING)
    assert out.startswith(text[: text.rindex("]}}") + 3] + ",\n")
    assert json.loads(out) == merged(text)
    assert out.endswith('        "max-file": "3"\n    }\n}\n')  # four spaces, like the file


def test_an_existing_nested_object_is_merged_in_its_own_style():
    text = '{\n  "log-driver": "json-file",\n  "log-opts": {"labels": "app", "max-size": "50m"}\n}\n'
    out = set_keys(text, HARDENING)
    assert '"log-opts": {"labels": "app", "max-size": "10m", "max-file": "3"}' in out
    assert json.loads(out)["log-opts"] == {"labels": "app", "max-size": "10m", "max-file": "3"}


def test_changed_values_are_replaced_where_they_stand():
    text = '{\n  "icc": true,\n  "debug": true,\n  "live-restore": false\n}\n'
    out = set_keys(text, {"icc": False, "live-restore": True})
    assert out == '{\n  "icc": false,\n  "debug": true,\n  "live-restore": true\n}\n'


def test_crlf_and_one_line_files():
    crlf = set_keys('{\r\n  "debug": true\r\n}\r\n', {"icc": False})
    assert crlf == '{\r\n  "debug": true,\r\n  "icc": false\r\n}\r\n'
    inline = set_keys('{"debug": true}', {"icc": False, "log-opts": {"max-size": "10m"}})
    assert inline == '{"debug": true, "icc": false, "log-opts": {"max-size": "10m"}}'


def test_missing_empty_and_already_hardened_files():
    created = set_keys("", HARDENING)
    assert created.startswith('{\n  "icc": false,') and created.endswith("}\n")
    assert set_keys("{}\n", {"icc": False}) == '{\n  "icc": false\n}\n'
    assert set_keys(created, HARDENING) == created  # nothing to change: the very same text


@pytest.mark.parametrize("text, why", [
    ('{"icc": false,}', "not valid JSON (line 1, column 15"),
    ('{"icc": false', "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"icc": true, "icc": false}', "sets icc twice"),
    ('\ufeff{"icc": true}', "not valid JSON"),
])
def test_a_file_that_is_not_a_clean_json_object_is_refused(text, why):
    with pytest.raises(JsonEditError, match="nothing was written") as refused:
        set_keys(text, HARDENING, "/etc/docker/daemon.json")
    assert why in str(refused.value) and "/etc/docker/daemon.json" in str(refused.value)
    with pytest.raises(JsonEditError):
        parse(text)


keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
objects = st.dictionaries(keys, scalars | st.lists(scalars, max_size=3), max_size=5)


@settings(max_examples=150, deadline=None)
@given(objects, st.sampled_from([None, 1, 2, 4, "\t"]), st.booleans())
def test_any_object_in_any_layout_gets_exactly_the_new_keys(data, indent, final_newline):
    text = json.dumps(data, indent=indent) + ("\n" if final_newline else "")
    out = set_keys(text, HARDENING)
    assert json.loads(out) == merged(text)
    untouched = [k for k in data if k not in HARDENING]
    for key in untouched:  # every untouched member's text is still in the file
        member = json.dumps({key: data[key]}, indent=indent)[1:-1].strip()
        if indent is None:
            assert member in out
    assert out.endswith("\n") == final_newline
