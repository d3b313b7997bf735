"""``hardstep check`` and ``hardstep report`` over several hosts: one table (rows hosts, columns
steps, cells verified / drifted / failed / n/a: see ``app.engine.fleet``), the failing checks
below it, one report; the exit code is the worst host's."""

from __future__ import annotations

import argparse
import json

from app.cli.hosts import engine_for
from app.cli.output import note, print_checks
from app.engine.fleet import HostChecks, Member, check_hosts, worst
from app.engine.report import OUTSIDE_VIEW
from app.errors import EXIT_ERROR, EXIT_OK

HOST, UNREACHABLE = "host", "could not be checked: "


def table(hosts: list[HostChecks], steps: list[str]) -> str:
    """The host x step table as text, one row per host; an unreachable host's row says why."""
    first = max([len(HOST), *(len(h.member.name) for h in hosts)])
    widths = [max(len(step), len("verified")) for step in steps]

    def row(name: str, cells: list[str]) -> str:
        return "  ".join([f"{name:<{first}}", *(f"{c:<{w}}" for c, w in zip(cells, widths))]).rstrip()

    lines = [row(HOST, steps)]
    for h in hosts:
        lines.append(f"{h.member.name:<{first}}  {UNREACHABLE}{h.error}" if h.error
                     else row(h.member.name, [h.cells.get(step, "") for step in steps]))
    return "\n".join(lines)


def cmd_check_many(args: argparse.Namespace, members: list[Member]) -> int:
    from app.steps import step_info, step_ids

    steps = args.steps or step_ids()
    for step_id in steps:
        step_info(step_id)  # unknown ids fail before any host is reached
    note(OUTSIDE_VIEW)
    hosts = check_hosts(members, lambda member: engine_for(args, member, several=True), steps)
    if args.json:
        print(json.dumps([h.to_json() for h in hosts], indent=2))
        return worst(hosts)
    print(table(hosts, steps))
    failing = [(h, [r for r in h.results if r.ok is False]) for h in hosts]
    if any(results for _, results in failing):
        print("\nFailing checks:")
        for h, results in failing:
            print_checks(results, prefix=f"{h.member.name}: ")
    for h in hosts:
        for line in h.notes:
            note(f"{h.member.name}: {line}")
    return worst(hosts)


def cmd_report_many(args: argparse.Namespace, members: list[Member]) -> int:
    from app.cli.commands import emit_report
    from app.engine.fleet_report import build_fleet_report, render_fleet

    data = build_fleet_report(members, lambda member: engine_for(args, member, several=True))
    emit_report(render_fleet(data, args.format), args.output)  # built from redacted data, then escaped
    unread = [h["host"] for h in data["hosts"] if h["error"]]
    if unread:
        note(f"could not read {', '.join(unread)}: the report says why")
    return EXIT_ERROR if unread else EXIT_OK
