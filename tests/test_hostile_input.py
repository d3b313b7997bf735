"""Malformed and hostile input, through the real command line: one clear line that says what to do
next, exit 2, nothing written. Unreadable lines of audit.jsonl are skipped and the report says
so; a torn last line does not swallow the next entry; an alias bomb does not hang a check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli_errors import assert_one_line_error
from tests.test_resume import FILES, NEW, OLD, STEP
from tests.test_resume import hardstep as three_files_hardstep
from tests.test_traefik_step import lab  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
HOMESERVER = "opt/matrix/synapse/homeserver.yaml"


def hardstep(base: Path, *args: str, config: Path | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
    (base / "root").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "app", "--root", str(base / "root"), "--state-dir",
                           str(base / "state"), "--config", str(config or base / "none.toml"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def tree(base: Path) -> dict[str, bytes]:
    """Every file under ``base`` with its bytes: what "nothing written" compares."""
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def host_with(base: Path, path: str, text: str) -> Path:
    target = base / "root" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return base


# --- state.json -----------------------------------------------------------------------------------
SHAPES = [
    ("[]", "it holds a list, not an object"),
    ('{"steps": []}', "steps is a list, not an object"),
    ('{"steps": {"synapse": "applied"}}', "steps.synapse is text, not an object"),
    ('{"steps": {"synapse": {"status": "done"}}}', "steps.synapse.status is 'done', not one of"),
    ('{"steps": {"synapse": {"undo": {"type": "file"}}}}', "steps.synapse.undo is an object, not a list"),
    ('{"steps": {"synapse": {"checks": [{"check": "x", "ok": true}]}}}', "steps.synapse.checks[0] has no step"),
    ('{"steps": {"synapse": {"in_flight": {"summary": "x", "index": "2"}}}}',
     "steps.synapse.in_flight.index is text, not a number"),
]


@pytest.mark.parametrize("text,where,command", [(*shape, ("rollback", "synapse", "--yes")) for shape in SHAPES] +
                         [(*SHAPES[-1], command) for command in (("list",), ("report",), ("resume",))])
def test_state_json_of_the_wrong_shape_is_refused(tmp_path, text, where, command):
    (tmp_path / "state").mkdir()
    (tmp_path / "state/state.json").write_text(text)
    before = tree(tmp_path)
    done = hardstep(tmp_path, *command)
    assert_one_line_error(done, "state.json is damaged (" + where, "move it aside to start fresh")
    assert tree(tmp_path) == before  # not even the run lock stays


# --- repeated keys in TOML ------------------------------------------------------------------------
def test_a_repeated_key_in_config_toml_names_its_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[docker]\nrestart_timeout = 10\n\nrestart_timeout = 20\n')
    done = hardstep(tmp_path, "list", config=config)
    assert_one_line_error(done, f"config: {config} is not valid TOML (line 4, column", 'Key "restart_timeout" '
                          "already exists", "fix that line and run hardstep again")
    assert not (tmp_path / "state").exists()


@pytest.mark.docker
def test_a_repeated_key_in_traefik_toml_names_its_line(lab, tmp_path):
    path = lab.config.traefik.config
    lab.host.write_text(path, '[entryPoints.web]\n  address = ":80"\n  address = ":8080"\n\n[providers.docker]\n')
    before = tree(tmp_path)
    done = subprocess.run([sys.executable, "-m", "app", "--root", str(lab.host.root), "--config",
                           str(lab.config.path), "--state-dir", str(lab.state.dir), "plan", "traefik"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert_one_line_error(done, f"{path} is not valid TOML (line 3, column", 'Key "address" already exists',
                          "fix it by hand, nothing was written")
    assert tree(tmp_path) == before


# --- daemon.json, homeserver.yaml -----------------------------------------------------------------
@pytest.mark.docker
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_daemon_json_is_refused(tmp_path, constant):
    host_with(tmp_path, "etc/docker/daemon.json", f'{{\n  "log-level": "info",\n  "max-concurrent-downloads": '
                                                  f'{constant}\n}}\n')
    before = tree(tmp_path)
    done = hardstep(tmp_path, "plan", "daemon")
    assert_one_line_error(done, f"/etc/docker/daemon.json holds {constant} at line 3, which is not JSON",
                          "write a number there or remove the key")
    assert tree(tmp_path) == before


def test_a_merge_key_in_homeserver_yaml_is_refused(tmp_path):
    host_with(tmp_path, HOMESERVER, "defaults: &defaults\n  report_stats: false\n  enable_registration: false\n"
                                    "server_name: matrix.example.com\n<<: *defaults\n")
    before = tree(tmp_path)
    done = hardstep(tmp_path, "plan", "synapse")
    assert_one_line_error(done, "YAML merge key (<<: at line 5)", "write the merged settings out under their own "
                          "keys by hand, then plan again")
    assert tree(tmp_path) == before


def alias_bomb(levels: int = 9) -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded."""
    lines = ["server_name: matrix.example.com", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_homeserver_yaml_does_not_hang_a_check(tmp_path):
    host_with(tmp_path, HOMESERVER, alias_bomb())
    done = hardstep(tmp_path, "check", "synapse", timeout=30)  # before the bound: hours
    assert done.returncode == 1, done.stderr
    assert "expands to more than 100,000 values through its aliases" in done.stdout
    assert "Traceback" not in done.stderr
    done = hardstep(tmp_path, "plan", "synapse", timeout=30)
    assert_one_line_error(done, "an alias bomb?", "Write those values out, or remove the anchors (&name) and aliases (*name), by hand")


@pytest.mark.parametrize("text,words", [
    ("&root\nserver_name: matrix.example.com\nme: *root\n", "holds a value that contains itself through an alias"),
    ("listeners: &l\n  <<: *l\n  port: 8008\n", "an alias or merge key that refers to its own value?"),
])
def test_a_homeserver_yaml_that_refers_to_itself_is_refused(tmp_path, text, words):
    host_with(tmp_path, HOMESERVER, text)
    before = tree(tmp_path)
    done = hardstep(tmp_path, "plan", "synapse", timeout=30)
    assert_one_line_error(done, words, "by hand. Nothing was written.")
    assert tree(tmp_path) == before


# --- audit.jsonl ----------------------------------------------------------------------------------
ENTRY = {"time": "2026-01-01T00:00:00+00:00", "step": "synapse", "action": "Set in homeserver.yaml", "outcome": "ok"}


def test_unreadable_audit_lines_are_skipped_and_the_report_says_so(tmp_path):
    (tmp_path / "state").mkdir()
    lines = [json.dumps(ENTRY).encode(), b'{"step": "synapse", "action": "caf\xe9", "outcome": "ok"}',
             b'["not", "an", "object"]', b'"text"', b'{"step": ["a list"], "outcome": "ok"}',
             json.dumps({**ENTRY, "action": "Restart synapse"}).encode()]
    (tmp_path / "state/audit.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    before = tree(tmp_path)
    done = hardstep(tmp_path, "report", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["action"] for c in report["changes"]] == ["Set in homeserver.yaml", "Restart synapse"]
    assert report["audit_skipped"] == ["line 2: not UTF-8 text", "line 3: not a JSON object",
                                       "line 4: not a JSON object", "line 5: not a hardstep audit entry"]
    markdown = hardstep(tmp_path, "report").stdout
    assert "4 line(s) of audit.jsonl could not be read and are left out: line 2: not UTF-8 text;" in markdown
    assert tree(tmp_path) == before


def test_a_torn_last_audit_line_does_not_swallow_the_next_entry(tmp_path):
    (tmp_path / "root/etc/resume").mkdir(parents=True)
    for name in FILES:
        (tmp_path / f"root/etc/resume/{name}.conf").write_text(OLD[name])
    (tmp_path / "state").mkdir()
    # Power went while an entry was written: its end never reached the disk.
    torn = '{"time": "2026-01-01T00:00:01+00:00", "st'
    (tmp_path / "state/audit.jsonl").write_text(json.dumps(ENTRY) + "\n" + torn)
    done = three_files_hardstep(tmp_path, "apply", STEP, "--yes")
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / f"root/etc/resume/{name}.conf").read_text() == NEW[name] for name in FILES)
    lines = (tmp_path / "state/audit.jsonl").read_text().splitlines()
    assert lines[1] == torn  # left alone, on its own line
    assert json.loads(lines[2])["action"] == "Edit /etc/resume/one.conf"  # the next entry is whole
    report = json.loads(three_files_hardstep(tmp_path, "report", "--format", "json").stdout)
    assert report["audit_skipped"] == ["line 2: not JSON (cut short?)"]
    ours = [c for c in report["changes"] if c["step"] == STEP]
    assert [c["action"] for c in ours] == [f"Edit /etc/resume/{name}.conf" for name in FILES]  # the first too
    assert all(c["outcome"] == "ok" for c in ours)


def test_audit_entries_reach_the_disk_before_the_next_step(tmp_path, monkeypatch):
    """BurmillaOS reboots in the middle of an apply: each entry is fsynced as it is written."""
    from app.engine.state import StateStore

    store = StateStore(tmp_path / "state")
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    store.audit("synapse", "Set in homeserver.yaml", "started")
    store.audit("synapse", "Set in homeserver.yaml", "ok")
    assert synced.count(str(store.audit_file)) == 2
    assert str(store.dir) in synced  # the new file's name too
