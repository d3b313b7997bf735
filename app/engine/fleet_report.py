"""One report covering many hosts: an overview (host x step, each step's recorded status), then
each host's own report (``app.engine.report``, as ``hardstep report`` writes it) as a section.
A host whose state or facts could not be read is a section saying why."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable

from app.engine.fleet import Member, over_hosts
from app.engine.model import now_iso
from app.engine.report import REPORT_VERSION, _cell, _html_table, _table, as_json, build_report, html_body, markdown, page
from app.redact import redact_tree

if TYPE_CHECKING:
    from app.engine.runner import Engine


def build_fleet_report(members: list[Member], open_engine: Callable[[Member], "Engine"]) -> dict[str, Any]:
    hosts = [{"host": member.name, "label": member.target.label, "target": str(member.target),
              "error": error, "report": data}
             for member, data, error in over_hosts(members, open_engine, build_report)]
    return redact_tree({"report_version": REPORT_VERSION, "generated": now_iso(), "hosts": hosts})


def render_fleet(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return as_json(data)
    steps = list(dict.fromkeys(s["step"] for h in data["hosts"] if h["report"] for s in h["report"]["steps"]))
    rows = [[h["host"], *(_statuses(h).get(step, "") for step in steps)] if h["report"]
            else [h["host"], f"could not be read: {h['error']}", *[""] * (len(steps) - 1)] for h in data["hosts"]]
    title = f"hardstep report: {len(data['hosts'])} hosts"
    intro = f"Generated {data['generated']}. Each step's status as its last check recorded it. Secrets are redacted."
    if fmt == "md":
        out = [f"# {_cell(title)}", "", _cell(intro), "", "## Overview", "", *_table(["host", *steps], rows)]
        for h in data["hosts"]:
            out += ["", markdown(h["report"], f"{h['host']} ({h['target']})", 2).rstrip("\n") if h["report"]
                    else f"## {_cell(h['host'])} ({_cell(h['target'])})\n\nCould not be read: {_cell(h['error'])}"]
        return "\n".join(out) + "\n"
    parts = [f"<p>{html.escape(intro)}</p>", "<h2>Overview</h2>",
             _html_table(["host", *steps], [[(cell, cell.replace(" ", "-")) for cell in row] for row in rows])]
    for h in data["hosts"]:
        parts.append(f"<h2>{html.escape(h['host'])} ({html.escape(h['target'])})</h2>")
        parts.append(html_body(h["report"], 3) if h["report"]
                     else f'<p class="fail">Could not be read: {html.escape(h["error"])}</p>')
    return page(title, "\n".join(parts))


def _statuses(host: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["status"] for s in host["report"]["steps"]}
