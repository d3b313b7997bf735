"""The hosts of an Ansible inventory, read from the JSON ``ansible-inventory -i INVENTORY --list``
prints, so an existing inventory (matrix-docker-ansible-deploy's ``inventory/hosts``) is used as
it is. Groups hold ``hosts`` and ``children``; ``_meta.hostvars`` holds each host's variables, of
which hardstep reads where to connect: ``ansible_host``, ``ansible_user``, ``ansible_port`` and
their older names ``ansible_ssh_host``, ``ansible_ssh_user``, ``ansible_ssh_port``."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from app.errors import HardstepError
from app.host.target import SshTarget, is_ipv6, parse_target


def read_inventory(path: Path, limit: str | None = None) -> dict[str, SshTarget]:
    """Inventory name -> where to reach it, in the inventory's order; ``limit`` keeps the hosts
    an Ansible ``--limit`` pattern picks (see ``pick``)."""
    data = _load(path)
    meta = data.get("_meta") if isinstance(data.get("_meta"), dict) else {}
    hostvars = meta.get("hostvars") if isinstance(meta.get("hostvars"), dict) else {}
    groups = {name: value for name, value in data.items() if name != "_meta" and isinstance(value, dict)}
    seen: set[str] = set()
    listed = [h for group in ("all", *groups) for h in _members(groups, group, seen)]
    names = list(dict.fromkeys(listed + [n for n in hostvars if n not in listed]))
    if limit:
        names = pick(limit, names, groups, path)
    if not names:
        raise HardstepError(f"{path}: the inventory names no host" + (f" in --limit {limit}" if limit else ""))
    return {name: _target(name, hostvars.get(name) or {}, path) for name in names}


def pick(limit: str, names: list[str], groups: dict[str, dict], path: Path) -> list[str]:
    """The hosts of ``names`` that the pattern ``limit`` picks, as Ansible reads it: terms split
    by ``,`` or ``:``; each a group or host name, ``all`` or ``*``, a wildcard (``matrix*``) or
    ``~regex``; ``&term`` keeps only hosts also in it, ``!term`` takes its hosts out; ``@file``
    reads the terms from a file (a retry file). A term that matches nothing is refused, so that
    a typo is not a quiet, smaller run."""
    terms = [t for t in re.split(r"[,:]", _expand_files(limit)) if t.strip()]
    chosen: list[str] = []
    kept: set[str] | None = None
    dropped: set[str] = set()
    for term in (t.strip() for t in terms):
        op, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
        found = _matches(body, names, groups)
        if not found:
            raise HardstepError(f"--limit {term}: no such group or host in {path}")
        if op == "&":
            kept = set(found) if kept is None else kept & set(found)
        elif op == "!":
            dropped |= set(found)
        else:
            chosen += found
    if not chosen and (kept is not None or dropped):  # only & or !: they apply to every host
        chosen = list(names)
    return [n for n in names if n in chosen and (kept is None or n in kept) and n not in dropped]


def _expand_files(limit: str) -> str:
    terms = []
    for term in limit.split(","):
        if term.startswith("@"):
            try:
                terms += Path(term[1:]).read_text(encoding="utf-8").split()
            except OSError as exc:
                raise HardstepError(f"--limit {term}: cannot read {term[1:]} ({exc.strerror or exc})") from None
        else:
            terms.append(term)
    return ",".join(terms)


def _matches(term: str, names: list[str], groups: dict[str, dict]) -> list[str]:
    if term in ("all", "*"):
        return list(names)
    if term.startswith("~"):
        try:
            rx = re.compile(term[1:])
        except re.error as exc:
            raise HardstepError(f"--limit {term}: not a regular expression ({exc})") from None
        match = lambda candidate: rx.match(candidate) is not None  # noqa: E731  (Ansible: from the start)
    elif any(c in term for c in "*?["):
        match = lambda candidate: fnmatch.fnmatchcase(candidate, term)  # noqa: E731
    else:
        match = term.__eq__
    found = [h for g in groups if match(g) for h in _members(groups, g, set())]
    found += [n for n in names if match(n)]
    return [n for n in dict.fromkeys(found) if n in names]


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HardstepError(f"--inventory {path}: no such file") from None
    except OSError as exc:
        raise HardstepError(f"--inventory {path}: cannot read it ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HardstepError(f"--inventory {path} is not JSON; write it with "
                            "'ansible-inventory -i YOUR_INVENTORY --list > FILE'") from None
    if not isinstance(data, dict):
        raise HardstepError(f"--inventory {path}: not the JSON of 'ansible-inventory --list' (not an object)")
    return data


def _members(groups: dict[str, dict], name: str, seen: set[str]) -> list[str]:
    """The hosts of a group and of its children, depth first, each group once (cycles end)."""
    if name in seen or name not in groups:
        return []
    seen.add(name)
    group = groups[name]
    hosts = [h for h in group.get("hosts") or [] if isinstance(h, str)]
    for child in group.get("children") or []:
        hosts += _members(groups, child, seen)
    return hosts


def _target(name: str, hostvars: dict[str, Any], path: Path) -> SshTarget:
    def var(key: str) -> str | None:
        value = hostvars.get(f"ansible_{key}", hostvars.get(f"ansible_ssh_{key}"))
        return None if value in (None, "") else str(value)

    host, user, port = var("host") or name, var("user"), var("port")
    if is_ipv6(host):  # Ansible writes IPv6 addresses bare
        host = f"[{host}]"
    text = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
    try:
        return parse_target(text)
    except HardstepError:
        raise HardstepError(f"{path}: host {name} has no usable address ({text!r}); "
                            "fix its ansible_host, ansible_user or ansible_port") from None
