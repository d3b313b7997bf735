"""traefik.toml edits touch only the three provider lines; everything else stays byte for byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.assets import asset_path
from app.editors.toml_text import TomlEditError, set_keys

DATA = Path(__file__).parent / "data" / "traefik"
TABLE = ("providers", "docker")
WANTED = {"endpoint": "tcp://dockerproxy:2375", "exposedByDefault": False, "network": "web"}
FILES = sorted(DATA.glob("*.toml")) + [asset_path("lab", "traefik.toml")]


def without_provider_keys(document: dict) -> dict:
    """The document minus the three keys (and the tables they alone filled)."""
    providers = document.get("providers", {})
    docker = providers.get("docker", {})
    for key in WANTED:
        docker.pop(key, None)
    if "docker" in providers and not docker:
        del providers["docker"]
    if "providers" in document and not providers:
        del document["providers"]
    return document


def changed_lines(before: str, after: str) -> list[str]:
    # Lines without their endings: a last line that gains a newline (so that a key can follow it)
    # is not a changed line.
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
            if line.startswith(("- ", "+ "))]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_edit_touches_only_the_provider_settings(path):
    before = path.read_bytes().decode()
    after = set_keys(before, TABLE, WANTED)
    parsed = tomlkit.parse(after).unwrap()
    assert {k: parsed["providers"]["docker"][k] for k in WANTED} == WANTED
    assert without_provider_keys(parsed) == without_provider_keys(tomlkit.parse(before).unwrap())
    changes = changed_lines(before, after)
    removed = [c for c in changes if c.startswith("- ")]
    # Only lines that set one of the three keys may go, and at most one line per key comes in
    # (plus a blank line and a table header when the file had no [providers.docker] at all).
    assert all(any(key in line for key in WANTED) for line in removed), removed
    assert len([c for c in changes if c.startswith("+ ") and c.strip() != "+"]) <= len(WANTED) + 1
    assert set_keys(after, TABLE, WANTED) == after  # twice equals once
    assert after.endswith("\n") == before.endswith("\n")
    assert ("\r\n" in after) == ("\r\n" in before)


def test_crlf_file_keeps_its_line_endings():
    before = (DATA / "crlf.toml").read_bytes().decode()
    after = set_keys(before, TABLE, WANTED)
    assert after.count("\n") == after.count("\r\n")
    # The active endpoint follows its commented-out example.
    lines = after.split("\r\n")
    assert lines[lines.index('  # endpoint = "tcp://dockerproxy:2375"') + 1] == '  endpoint = "tcp://dockerproxy:2375"'


def test_commented_out_table_is_left_alone_and_a_real_one_added():
    before = (DATA / "commented-table.toml").read_text()
    after = set_keys(before, TABLE, WANTED)
    assert after.startswith(before)
    assert after[len(before):] == ('\n[providers.docker]\n  endpoint = "tcp://dockerproxy:2375"\n'
                                   '  exposedByDefault = false\n  network = "web"\n')


def test_inline_comments_and_quoting_of_other_lines_survive():
    before = (DATA / "dotted-headers.toml").read_text()
    after = set_keys(before, TABLE, WANTED)
    assert "exposedByDefault = false      # every container gets a route" in after
    assert '[ "providers" . "docker" ]   # quoted parts and spaces are valid TOML' in after
    assert "endpoint = 'unix" not in after


@pytest.mark.parametrize("text,where", [("[providers.docker\nwatch = true\n", "line 1"),
                                        ("[api]\ndashboard = tru\n", "line 2")])
def test_unparsable_file_is_refused_with_line_and_column(text, where):
    with pytest.raises(TomlEditError, match=rf"{where}, column \d+"):
        set_keys(text, TABLE, WANTED, "/opt/traefik/traefik.toml")


# --- properties -------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-zA-Z]{0,8}", fullmatch=True).filter(lambda n: n not in WANTED)
scalars = st.one_of(st.booleans(), st.integers(-1000, 1000), st.text(
    st.characters(codec="ascii", categories=("L", "N", "P", "S", "Zs")), max_size=12))


@st.composite
def traefik_files(draw) -> str:
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from(["", "  ", "    "]))
    lines = []
    for table in draw(st.lists(names, max_size=3, unique=True)):
        lines.append(f"[{table}]")
        lines += [f"{indent}{k} = {tomlkit.item(v).as_string()}"
                  for k, v in draw(st.dictionaries(names, scalars, max_size=3)).items()]
        lines.append("")
    if draw(st.booleans()):
        lines.append(f"[providers.docker]{draw(st.sampled_from(['', '  # provider']))}")
        for key in draw(st.lists(st.sampled_from(sorted(WANTED)), unique=True)):
            value = draw(st.one_of(st.booleans(), st.sampled_from(["private", "unix:///var/run/docker.sock"])))
            lines.append(f"{indent}{key} = {tomlkit.item(value).as_string()}")
        if draw(st.booleans()):
            lines.append(f"{indent}# endpoint = \"tcp://dockerproxy:2375\"")
        lines += [f"{indent}{k} = {tomlkit.item(v).as_string()}"
                  for k, v in draw(st.dictionaries(names, scalars, max_size=2)).items()]
    text = newline.join(lines)
    return text + (newline if draw(st.booleans()) else "")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traefik_files())
def test_property_twice_equals_once_and_other_keys_keep_their_values(text):
    once = set_keys(text, TABLE, WANTED)
    assert set_keys(once, TABLE, WANTED) == once
    assert without_provider_keys(tomlkit.parse(once).unwrap()) == without_provider_keys(tomlkit.parse(text).unwrap())
    assert once.endswith(("\n", "\r")) == text.endswith(("\n", "\r")) or not text
