"""Checks over many hosts: real engines side by side (each its own LocalHost root, settings and
state folder, on the real Docker engine), one table with the exact text, the worst host's exit
code, an unreachable host as a row, the --json shape, and one report covering them."""

from __future__ import annotations

import json
import threading

import pytest

from app.config.settings import Config
from app.engine.fleet import Member, check_hosts, over_hosts, worst
from app.engine.fleet_report import build_fleet_report, render_fleet
from app.engine.runner import Engine
from app.engine.state import StateStore
from app.cli.fleet import table
from app.host import LocalHost
from app.host.target import parse_target
from app.net import pins
from tests.fixtures_core import make_engine

STEPS = ["burmilla", "private-network"]


def member(name: str) -> Member:
    return Member(name, parse_target(name))


@pytest.fixture
def fleet(tmp_path, unique, images, docker_client):
    """Four hosts: private-network verified on one, never applied on one, drifted on one (its
    network removed after it verified), and one whose Docker engine does not answer."""
    engines = {name: make_engine(tmp_path / name, unique, images) for name in ("a.example.org", "b.example.org",
                                                                                "c.example.org")}
    assert engines["a.example.org"].apply("private-network").ok
    drifting = engines["c.example.org"]
    assert drifting.apply("private-network").ok
    docker_client.networks.get(drifting.config.docker.private_network).remove()
    down = tmp_path / "down"
    (down / "root").mkdir(parents=True)
    engines["down.example.org"] = Engine(LocalHost(down / "root", docker_endpoint=f"unix://{down}/no.sock"),
                                         Config(), StateStore(down / "state"))
    opened = []

    def open_engine(m: Member) -> Engine:
        opened.append(threading.current_thread().name)
        return engines[m.name]

    return [member(name) for name in engines], open_engine, opened


@pytest.mark.docker
def test_one_table_rows_hosts_columns_steps(fleet):
    members, open_engine, opened = fleet
    hosts = check_hosts(members, open_engine, STEPS)
    text = table(hosts, STEPS).splitlines()
    assert text[:4] == [
        "host              burmilla  private-network",
        "a.example.org     n/a       verified",
        "b.example.org     n/a       failed",
        "c.example.org     n/a       drifted",
    ]
    assert text[4].startswith("down.example.org  could not be checked: ")
    assert "Docker" in text[4] and len(text) == 5
    assert len(set(opened)) > 1 and all(name.startswith("host") for name in opened)  # side by side
    assert [h.exit_code for h in hosts] == [0, 1, 1, 2]
    assert worst(hosts) == 2 and worst(hosts[:3]) == 1 and worst(hosts[:1]) == 0 and worst([]) == 0


@pytest.mark.docker
def test_json_gives_per_host_results(fleet):
    members, open_engine, _ = fleet
    data = json.loads(json.dumps([h.to_json() for h in check_hosts(members, open_engine, STEPS)]))
    first, down = data[0], data[3]
    assert sorted(first) == ["error", "exit", "host", "label", "notes", "steps", "target"]
    assert (first["host"], first["label"], first["target"], first["exit"]) == \
        ("a.example.org", "a.example.org", "ssh://a.example.org", 0)
    assert [(s["step"], s["status"]) for s in first["steps"]] == [("burmilla", "n/a"), ("private-network", "verified")]
    network = first["steps"][1]["checks"]
    assert network and all(c["step"] == "private-network" and c["status"] == "pass" for c in network)
    assert data[1]["steps"][1]["status"] == "failed" and any(c["ok"] is False for c in data[1]["steps"][1]["checks"])
    assert down["exit"] == 2 and down["steps"] == [] and "Docker" in down["error"]


@pytest.mark.docker
def test_each_host_keeps_its_own_state(fleet):
    members, open_engine, _ = fleet
    check_hosts(members, open_engine, STEPS)
    statuses = [open_engine(m).status("private-network").value for m in members[:3]]
    assert statuses == ["verified", "pending", "drifted"]


def test_each_host_probes_with_its_own_checks_settings(tmp_path):
    """[checks] resolve is the probes' process-wide setting: side by side, each host's thread
    must see its own pin, not the one the last engine made."""
    both = threading.Barrier(2, timeout=10)

    def open_engine(m: Member) -> Engine:
        values = {"checks": {"resolve": [f"matrix.example.org={m.name}"]}}
        return Engine(LocalHost(tmp_path), Config(values), StateStore(tmp_path / m.name))

    def probe(engine: Engine) -> str:
        both.wait()  # both engines are made before either probes
        return pins.address("matrix.example.org")

    found = over_hosts([member("192.0.2.1"), member("192.0.2.2")], open_engine, probe)
    assert [(m.name, result, error) for m, result, error in found] == \
        [("192.0.2.1", "192.0.2.1", None), ("192.0.2.2", "192.0.2.2", None)]


def test_a_host_that_cannot_be_opened_is_a_row_not_an_abort(tmp_path):
    def open_engine(m: Member) -> Engine:
        if m.name == "gone.example.org":
            raise OSError("connection refused")
        return Engine(LocalHost(tmp_path), Config(), StateStore(tmp_path / "state"))

    hosts = check_hosts([member("gone.example.org"), member("here.example.org")], open_engine, ["burmilla"])
    assert table(hosts, ["burmilla"]).splitlines() == [
        "host              burmilla",
        "gone.example.org  could not be checked: OSError: connection refused",
        "here.example.org  n/a",
    ]
    assert [h.exit_code for h in hosts] == [2, 0]


@pytest.mark.docker
def test_one_report_covers_every_host(fleet):
    members, open_engine, _ = fleet
    check_hosts(members, open_engine, STEPS)
    data = build_fleet_report(members, open_engine)
    assert [h["host"] for h in data["hosts"]] == [m.name for m in members]
    assert data["hosts"][3]["report"]["steps"]  # the report reads state: an engine down does not stop it
    md = render_fleet(data, "md")
    assert md.startswith("# hardstep report: 4 hosts\n")
    assert "| a.example.org | not applicable | verified |" in md.splitlines()[md.splitlines().index("## Overview") + 4]
    assert "| c.example.org | not applicable | drifted |" in md
    assert "## a.example.org (ssh://a.example.org)" in md and "### Steps" in md and "#### " in md
    page = render_fleet(data, "html")
    assert page.count("<h2>Overview</h2>") == 1 and "<h2>b.example.org (ssh://b.example.org)</h2>" in page
    assert json.loads(render_fleet(data, "json"))["hosts"][2]["report"]["steps"][1]["status"] == "drifted"


def test_a_host_whose_report_cannot_be_read_says_why(tmp_path):
    def open_engine(m: Member) -> Engine:
        if m.name == "gone.example.org":
            raise OSError("connection refused")
        return Engine(LocalHost(tmp_path), Config(), StateStore(tmp_path / "state"))

    data = build_fleet_report([member("gone.example.org"), member("here.example.org")], open_engine)
    md = render_fleet(data, "md")
    assert "| gone.example.org | could not be read: OSError: connection refused |" in md
    assert "## gone.example.org (ssh://gone.example.org)\n\nCould not be read: OSError: connection refused" in md
    assert data["hosts"][0]["error"] and data["hosts"][1]["report"]["host"]["name"] == "this machine"


@pytest.mark.docker
def test_a_host_with_an_action_left_in_flight_is_checked_and_says_so(tmp_path, unique, images):
    engine = make_engine(tmp_path / "a", unique, images)
    engine.state.update_step("private-network", in_flight={"index": 0, "summary": "Create the network",
                                                           "started": "2026-12-01T10:00:00+00:00", "prepared": []})
    hosts = [member("a.example.org")]
    checked = check_hosts(hosts, lambda m: engine, ["private-network"])[0]
    assert checked.error is None and checked.exit_code == 1  # checked (the network is missing), not unreachable
    assert checked.notes == ["private-network: action 'Create the network' was in flight (started "
                             "2026-12-01T10:00:00+00:00) when hardstep stopped; 'hardstep resume' re-checks it, "
                             "then continue or roll back."]
