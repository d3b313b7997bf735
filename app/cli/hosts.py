"""Which hosts a command works on (``--host``, ``HARDSTEP_HOST``, ``--inventory``), what it may do
with several, and where each remote host's settings and state live on this machine.

One folder per host, here: a remote host's state (``state.json``, ``audit.jsonl``, ``backups/``)
defaults to ``<state dir>/hosts/<label>`` and its settings to ``<config dir>/hosts/<label>.toml``;
``--state-dir D`` is that folder for one host and ``D/<label>`` for each of several; ``--config``
is one settings file for all of them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import HardstepError

if TYPE_CHECKING:
    from app.engine.fleet import Member
    from app.engine.runner import Engine

MANY_HOSTS = ("check", "report")  # the commands that take several hosts; applying stays one at a time


def members(args: argparse.Namespace) -> list["Member"]:
    """The hosts named, in order, each once; empty: this machine."""
    texts = [*getattr(args, "hosts_first", []), *getattr(args, "hosts", [])]
    inventory, limit = getattr(args, "inventory", None), getattr(args, "limit", None)
    if limit and not inventory:
        raise HardstepError("--limit picks hosts of an inventory: add --inventory FILE")
    if not texts and not inventory and os.environ.get("HARDSTEP_HOST", "").strip():
        texts = [os.environ["HARDSTEP_HOST"]]
    if not texts and not inventory:
        return []  # this machine: the many-hosts and SSH-target code stays unloaded
    from app.engine.fleet import Member
    from app.host.target import parse_target

    found = [Member(text.strip(), parse_target(text)) for text in texts]
    if inventory:
        from app.host.inventory import read_inventory

        found += [Member(name, target) for name, target in read_inventory(inventory, limit).items()]
    by_label: dict[str, Member] = {}
    for member in found:  # one folder per host: a host named twice is checked once
        by_label.setdefault(member.target.label, member)
    return list(by_label.values())


def many(args: argparse.Namespace, hosts: list["Member"]) -> bool:
    """A run over several hosts (one table, one report): more than one, or an inventory."""
    return len(hosts) > 1 or getattr(args, "inventory", None) is not None


def refuse(args: argparse.Namespace, command: str, hosts: list["Member"]) -> None:
    """What cannot be asked with --host, in one line before anything connects."""
    if not hosts:
        return
    if command == "lab":
        raise HardstepError("the lab runs on this machine: drop --host and --inventory (and unset HARDSTEP_HOST)")
    if getattr(args, "root", None) is not None:
        raise HardstepError("--root maps this machine's files; with --host hardstep reaches the host's own "
                            "files over SSH: drop --root")
    if len(hosts) > 1 and command not in MANY_HOSTS:
        what = "the wizard" if command == "wizard" else f"'hardstep {command}'"
        raise HardstepError(f"{what} works on one host at a time and {len(hosts)} were given: applying stays "
                            "one host at a time; pass a single --host (check and report take many)")


def paths(args: argparse.Namespace, member: "Member", several: bool) -> tuple[Path, Path]:
    """(settings file, state folder) of a remote host on this machine."""
    from app.config.settings import default_config_path
    from app.engine.state import default_state_dir

    label = member.target.label
    config = getattr(args, "config", None) or default_config_path().parent / "hosts" / f"{label}.toml"
    state = getattr(args, "state_dir", None)
    if state is None:
        state = default_state_dir() / "hosts" / label
    elif several:
        state = Path(state) / label
    return Path(config), Path(state)


def engine_for(args: argparse.Namespace, member: "Member | None", several: bool = False) -> "Engine":
    """The engine of this machine (no member) or of one remote host."""
    from app.cli.commands import make_engine

    if member is None:
        return make_engine(getattr(args, "root", None), getattr(args, "config", None),
                           getattr(args, "state_dir", None))
    return make_engine(None, *paths(args, member, several), target=member.target)
