"""--inventory reads what the real ``ansible-inventory --list`` prints for an inventory shaped like
matrix-docker-ansible-deploy's ``inventory/hosts`` (its ``[matrix_servers]`` group, ``ansible_host``
and the older ``ansible_ssh_user``), and the command line refuses what cannot run on many hosts."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import hosts
from app.cli.parser import build_parser
from app.errors import HardstepError
from app.host.inventory import read_inventory
from app.host.target import SshTarget
from tests.test_cli_errors import assert_one_line_error, hardstep

# As matrix-docker-ansible-deploy's examples/hosts writes it, plus the other spellings Ansible knows.
INI = """\
[matrix_servers]
matrix.example.org ansible_host=203.0.113.5 ansible_ssh_user=root become=true become_user=root
matrix.example.net ansible_host=198.51.100.7 ansible_user=admin ansible_port=2222
chat.example.com ansible_ssh_port=2200

[other]
plain.example.com
v6.example.org ansible_host=2001:db8::7 ansible_port=2222

[europe:children]
matrix_servers
"""


@pytest.fixture(scope="module")
def inventory(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("inventory")
    (folder / "hosts").write_text(INI)
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(folder / "hosts"),
                           "--list"], capture_output=True, text=True, timeout=120, check=True)
    (folder / "inventory.json").write_text(done.stdout)
    return folder / "inventory.json"


def test_every_host_of_the_real_format(inventory):
    assert "_meta" in json.loads(inventory.read_text())  # what ansible-inventory printed, as it is
    assert read_inventory(inventory) == {
        "plain.example.com": SshTarget("plain.example.com"),
        "v6.example.org": SshTarget("2001:db8::7", None, 2222),  # Ansible writes IPv6 bare
        "matrix.example.org": SshTarget("203.0.113.5", "root"),
        "matrix.example.net": SshTarget("198.51.100.7", "admin", 2222),
        "chat.example.com": SshTarget("chat.example.com", None, 2200),
    }


def test_limit_picks_groups_children_and_hosts(inventory):
    assert list(read_inventory(inventory, "matrix_servers")) == \
        ["matrix.example.org", "matrix.example.net", "chat.example.com"]
    assert list(read_inventory(inventory, "europe")) == list(read_inventory(inventory, "matrix_servers"))
    assert list(read_inventory(inventory, "other:chat.example.com")) == \
        ["plain.example.com", "v6.example.org", "chat.example.com"]
    with pytest.raises(HardstepError, match="--limit nowhere: no such group or host"):
        read_inventory(inventory, "nowhere")


PATTERNS = ["all", "*.example.com", "matrix*", "~matrix\\.example\\.(org|net)", "matrix_servers:!chat.example.com",
            "other,chat.example.com", "!other", "europe:&matrix_servers:!matrix.example.net"]


def test_limit_patterns_pick_the_hosts_ansible_picks(inventory):
    """Each pattern against the real ``ansible --list-hosts`` on the same INI (same order, too)."""
    ansible = str(Path(sys.executable).parent / "ansible")
    for pattern in PATTERNS:
        done = subprocess.run([ansible, "all", "-i", str(inventory.parent / "hosts"), "--limit", pattern,
                               "--list-hosts"], capture_output=True, text=True, timeout=120, check=True)
        theirs = [line.strip() for line in done.stdout.splitlines()[1:] if line.strip()]
        assert theirs and list(read_inventory(inventory, pattern)) == theirs, pattern


def test_a_limit_that_picks_nothing_is_refused_naming_the_term(inventory, tmp_path):
    for pattern, term in (("matrix_servers:nowhere", "nowhere"), ("~example", "~example"), ("&nowhere", "&nowhere")):
        with pytest.raises(HardstepError, match=f"--limit {term}: no such group or host"):
            read_inventory(inventory, pattern)
    with pytest.raises(HardstepError, match="in --limit europe:&other"):
        read_inventory(inventory, "europe:&other")  # each term matches, together nothing: as Ansible refuses
    with pytest.raises(HardstepError, match="not a regular expression"):
        read_inventory(inventory, "~(")
    retry = tmp_path / "site.retry"  # what ansible-playbook leaves after failed hosts
    retry.write_text("matrix.example.net\nplain.example.com\n")
    assert list(read_inventory(inventory, f"@{retry}")) == ["plain.example.com", "matrix.example.net"]
    with pytest.raises(HardstepError, match="cannot read"):
        read_inventory(inventory, f"@{tmp_path / 'missing.retry'}")


def test_not_an_inventory_is_one_line(tmp_path):
    bad = tmp_path / "hosts"
    bad.write_text(INI)  # the INI itself, not the JSON
    done = hardstep("--inventory", str(bad), "check")
    assert_one_line_error(done, "is not JSON", "ansible-inventory -i YOUR_INVENTORY --list")


def test_applying_stays_one_host_at_a_time(inventory):
    for command in (["apply", "synapse", "--yes"], ["rollback", "synapse", "--yes"], ["resume"],
                    ["plan", "synapse"], ["list"], []):
        done = hardstep("--inventory", str(inventory), *command)
        assert_one_line_error(done, "one host at a time and 5 were given", "applying stays one host at a time")
    done = hardstep("--host", "a.example.org", "apply", "synapse", "--host", "b.example.org")
    assert_one_line_error(done, "'hardstep apply' works on one host at a time and 2 were given")


def test_refusals_with_host(tmp_path):
    assert_one_line_error(hardstep("--root", str(tmp_path), "check", "--host", "a.example.org"),
                          "with --host", "drop --root")
    assert_one_line_error(hardstep("lab", env={"HARDSTEP_HOST": "a.example.org"}), "the lab runs on this machine")
    assert_one_line_error(hardstep("check", "--limit", "x"), "add --inventory FILE")
    assert_one_line_error(hardstep("check", "--host", "root@bad host"), "bad host", "ssh://[user@]host[:port]")
    # --host wins over HARDSTEP_HOST: two hosts, not three
    done = hardstep("--host", "a.example.org", "--host", "b.example.org", "plan", "x", env={"HARDSTEP_HOST": "c"})
    assert_one_line_error(done, "2 were given")


def test_host_before_and_after_the_command_and_from_the_environment(monkeypatch):
    args = build_parser().parse_args(["--host", "ssh://admin@a.example.org:2222", "check", "--host", "b.example.org"])
    assert [(m.name, str(m.target)) for m in hosts.members(args)] == \
        [("ssh://admin@a.example.org:2222", "ssh://admin@a.example.org:2222"), ("b.example.org", "ssh://b.example.org")]
    monkeypatch.setenv("HARDSTEP_HOST", "root@matrix")
    assert [m.target for m in hosts.members(build_parser().parse_args(["check"]))] == [SshTarget("matrix", "root")]
    monkeypatch.delenv("HARDSTEP_HOST")
    assert hosts.members(build_parser().parse_args(["check"])) == []  # this machine


def test_one_folder_per_host(monkeypatch, tmp_path):
    monkeypatch.setenv("HARDSTEP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HARDSTEP_CONFIG", str(tmp_path / "etc" / "config.toml"))
    a, b = hosts.members(build_parser().parse_args(["check", "--host", "a.example.org", "--host", "b:2200"]))
    plain = argparse.Namespace()
    assert hosts.paths(plain, a, False) == (tmp_path / "etc/hosts/a.example.org.toml", tmp_path / "state/hosts/a.example.org")
    assert hosts.paths(plain, b, True) == (tmp_path / "etc/hosts/b_2200.toml", tmp_path / "state/hosts/b_2200")
    given = argparse.Namespace(state_dir=tmp_path / "mine", config=tmp_path / "one.toml")
    assert hosts.paths(given, a, False) == (tmp_path / "one.toml", tmp_path / "mine")
    assert hosts.paths(given, b, True) == (tmp_path / "one.toml", tmp_path / "mine" / "b_2200")


def test_unreachable_hosts_are_rows_and_exit_2(tmp_path):
    """Nothing listens on these ports: each host is a row saying why, none aborts the others."""
    done = hardstep("check", "--host", "127.0.0.1:9", "--host", "127.0.0.1:1", "private-network",
                    "--state-dir", str(tmp_path / "state"), "--config", str(tmp_path / "none.toml"))
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr, done
    lines = done.stdout.splitlines()
    assert lines[0] == "host         private-network"
    assert lines[1].startswith("127.0.0.1:9  could not be checked: ") and lines[2].startswith("127.0.0.1:1  could not")
    assert "the outside view" in done.stderr
    done = hardstep("check", "--host", "127.0.0.1:9", "--host", "127.0.0.1:1", "--json",
                    "--state-dir", str(tmp_path / "state"), "--config", str(tmp_path / "none.toml"))
    data = json.loads(done.stdout)
    assert done.returncode == 2 and [(h["label"], h["exit"], h["steps"]) for h in data] == \
        [("127.0.0.1_9", 2, []), ("127.0.0.1_1", 2, [])]
    assert all(h["error"] for h in data)


def test_the_wizard_refuses_several_hosts(capsys):
    from screens.launch import main

    assert main(["--host", "a.example.org", "--host", "b.example.org"]) == 2
    assert capsys.readouterr().err.strip() == (
        "hardstep: error: the wizard works on one host at a time and 2 were given: applying stays one host at "
        "a time; pass a single --host (check and report take many)")


def test_a_host_without_a_usable_address_is_named(tmp_path):
    bad = tmp_path / "inventory.json"
    bad.write_text(json.dumps({"_meta": {"hostvars": {"m.example.org": {"ansible_host": "-oProxyCommand=x"}}},
                               "all": {"children": ["ungrouped"]}, "ungrouped": {"hosts": ["m.example.org"]}}))
    with pytest.raises(HardstepError, match="host m.example.org has no usable address"):
        read_inventory(bad)
