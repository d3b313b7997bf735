"""``hardstep report``: each format from a real state directory, secrets redacted, HTML escaped,
and a state directory that does not exist giving an empty but valid report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.cli import make_engine
from app.engine.model import CheckResult, Status
from app.engine.report import build_report, render

ROOT = Path(__file__).resolve().parent.parent
AT = "2026-01-01T00:00:00+00:00"
SECRET = "s3cret-value-42"
SCRIPT_TAG = "<script>alert(1)</script>"


def hardstep(base: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "--root", str(base / "root"), "--state-dir",
                           str(base / "state"), "--config", str(base / "none.toml"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def base(tmp_path):
    (tmp_path / "root/etc").mkdir(parents=True)
    (tmp_path / "root/etc/os-release").write_text('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    return tmp_path


@pytest.fixture
def seeded(base):
    """A state folder with checks (one with a script tag and a secret in its evidence) and an audit
    log holding a secret written around hardstep's own redaction, as a hand-edited log might."""
    engine = make_engine(base / "root", base / "none.toml", base / "state")
    checks = [CheckResult("private-network", "network exists", True, "private (3f2a9c1b7d4e)",
                          {"id": "3f2a9c1b7d4e"}, AT),
              CheckResult("private-network", "bridge driver", False, f"driver is {SCRIPT_TAG} | macvlan",
                          {"driver": "macvlan", "password": SECRET}, AT)]
    engine.state.record_checks("private-network", checks, Status.DRIFTED)
    engine.state.audit("synapse", "Set in /opt/matrix/synapse/homeserver.yaml: allow_public_rooms_without_auth",
                       "ok", command="sed -i ...")
    with open(engine.state.audit_file, "a", encoding="utf-8") as log:
        log.write(json.dumps({"time": AT, "step": "synapse", "outcome": "ok", "command": "",
                              "action": f'registration_shared_secret: "{SECRET}"'}) + "\n")
        log.write('{"time": "cut short by a kil')  # a line a killed process left half-written
    return base


def test_json_has_every_step_its_checks_and_the_changes(seeded):
    done = hardstep(seeded, "report", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert sorted(data) == ["audit_skipped", "changes", "generated", "host", "report_version",
                            "run_in_progress", "steps"]
    assert data["run_in_progress"] is None and data["audit_skipped"] == ["line 3: not JSON (cut short?)"]
    ids = [s["step"] for s in data["steps"]]  # every registered step, in wizard order
    present = ["private-network", "socket-proxy", "traefik", "synapse", "sandbox", "daemon", "cis"]
    assert [i for i in ids if i in present] == present
    assert all(s["title"] and s["status"] for s in data["steps"])
    network = data["steps"][ids.index("private-network")]
    assert network["status"] == "drifted" and network["checked"]
    assert [(c["check"], c["status"], c["at"]) for c in network["checks"]] == [
        ("network exists", "pass", AT), ("bridge driver", "fail", AT)]
    assert network["checks"][0]["evidence"] == {"id": "3f2a9c1b7d4e"}
    assert network["checks"][1]["evidence"]["password"] == "<redacted>"
    assert [c["step"] for c in data["changes"]] == ["synapse", "synapse"]
    assert data["host"]["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert SECRET not in done.stdout


def test_markdown_pastes_into_a_ticket(seeded):
    done = hardstep(seeded, "report")  # md is the default, stdout the default output
    assert done.returncode == 0, done.stderr
    md = done.stdout
    assert md.startswith("# hardstep report\n")
    assert "| private-network | drifted |" in md
    assert "| fail | bridge driver | driver is \\<script\\>alert(1)\\</script\\> \\| macvlan |" in md
    assert "| registration_shared_secret: \"\\<redacted\\>\" | ok |" in md  # its quotes kept
    assert SECRET not in md
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert rows and all(len(re.split(r"(?<!\\)\|", row)) == 7 for row in rows)  # 5 cells, no stray pipe


def test_html_is_one_escaped_page(seeded, tmp_path):
    out = tmp_path / "out" / "report.html"
    done = hardstep(seeded, "report", "--format", "html", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    page = out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;redacted&gt;" in page
    assert SECRET not in page
    assert "http" not in page.replace('lang="en"', "")  # self-contained: nothing fetched

    tags = Tags()
    tags.feed(page)
    assert "script" not in tags.seen and "table" in tags.seen


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.seen.add(tag)


def test_a_missing_state_dir_gives_an_empty_valid_report(base):
    for fmt in ("json", "md", "html"):
        done = hardstep(base, "report", "--format", fmt)
        assert done.returncode == 0, done.stderr
        if fmt == "json":
            data = json.loads(done.stdout)
            assert data["changes"] == []
            assert all(s["status"] == "pending" and s["checks"] == [] for s in data["steps"])
        elif fmt == "md":
            assert "hardstep has changed nothing on this host yet." in done.stdout
    assert not (base / "state").exists()  # a report writes nothing there


def test_an_interrupted_step_is_named_in_the_report(base):
    engine = make_engine(base / "root", base / "none.toml", base / "state")
    engine.state.update_step("traefik", in_flight={"index": 1, "summary": "Recreate proxy", "started": AT,
                                                   "undo": []})
    data = build_report(engine)
    traefik = next(s for s in data["steps"] if s["step"] == "traefik")
    assert traefik["in_flight"] == {"summary": "Recreate proxy", "started": AT}
    assert "interrupted during: Recreate proxy" in render(data, "md")


def test_an_unwritable_output_is_a_one_line_error(base):
    blocker = base / "file"
    blocker.write_text("")
    done = hardstep(base, "report", "--output", str(blocker / "report.md"))
    assert done.returncode == 2
    assert done.stderr.startswith("hardstep: error: cannot write the report to")
    assert "Traceback" not in done.stderr


def test_formats_are_checked_by_the_parser(base):
    done = hardstep(base, "report", "--format", "pdf")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    assert os.path.exists(base / "root")


def test_the_start_line_of_a_finished_action_is_folded_an_unfinished_one_stays():
    from app.engine.report import folded

    log = [{"step": "s", "action": "A", "outcome": "started"}, {"step": "s", "action": "A", "outcome": "ok"},
           {"step": "s", "action": "B", "outcome": "started"}, {"step": "s", "action": "B", "outcome": "failed"},
           {"step": "s", "action": "C", "outcome": "started"}]
    assert [(e["action"], e["outcome"]) for e in folded(log)] == [("A", "ok"), ("B", "failed"), ("C", "started")]
