"""The whole-host report: every step's state, every check with its evidence and time, and what
hardstep changed and when (the audit log), secrets redacted. Markdown pastes into a ticket, HTML
is one self-contained page to keep, JSON has stable keys for tools.

It reads the state directory only: no check runs and nothing is written there, so it works on a
host without Docker and on a state folder that does not exist yet (an empty, valid report).
Run ``hardstep check`` first for fresh results.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.engine.model import now_iso
from app.redact import redact_tree

if TYPE_CHECKING:
    from app.engine.runner import Engine

FORMATS = ("md", "html", "json")
REPORT_VERSION = 1
AUDIT_FIELDS = ("time", "step", "action", "outcome", "command", "error")
OUTSIDE_VIEW = ("TLS, HTTP and DTLS checks run from the machine hardstep runs on (the outside view) "
                "against the host's names; the rest runs on the host over SSH")


def build_report(engine: "Engine") -> dict[str, Any]:
    """The report as plain data (redacted); the renderers only lay it out."""
    steps = []
    saved = engine.state.load()["steps"]
    for step in engine.steps():
        entry = saved.get(step.id, {})
        flight = entry.get("in_flight") or None
        steps.append({
            "step": step.id, "title": step.title, "status": entry.get("status") or "pending",
            "checked": entry.get("checked"), "updated": entry.get("updated"), "error": entry.get("error"),
            "in_flight": {"summary": flight.get("summary"), "started": flight.get("started")} if flight else None,
            "checks": [{"check": c.get("check", ""), "status": c.get("status") or _status(c.get("ok")),
                        "detail": c.get("detail", ""), "evidence": c.get("evidence") or {}, "at": c.get("at", "")}
                       for c in entry.get("checks", [])],
        })
    entries, skipped = engine.state.audit_log()
    changes = [{k: entry.get(k) for k in AUDIT_FIELDS} for entry in folded(entries)]
    os_release = engine.host.os_release()
    running = engine.running_elsewhere()
    data = {
        "report_version": REPORT_VERSION, "generated": now_iso(),
        "host": {"name": engine.host.label, "remote": engine.host.remote,
                 "os": os_release.get("PRETTY_NAME") or os_release.get("NAME") or "unknown",
                 "root": str(engine.host.root), "state_dir": str(engine.state.dir)},
        # Another hardstep changing the host as this was read: its actions in flight are running.
        "run_in_progress": {"pid": running.pid, "command": running.command, "since": running.since}
        if running else None,
        "steps": steps, "changes": changes,
        "audit_skipped": skipped,  # lines of audit.jsonl that could not be read, and why
    }
    return redact_tree(data)  # every string at any depth; whatever sits under a secret key goes


def folded(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit log without the "started" line of every action that then finished (ok or
    failed); the start of an action a killed process never finished stays."""
    kept: list[dict[str, Any] | None] = []
    started: dict[tuple, int] = {}
    for entry in entries:
        key = (entry.get("step"), entry.get("action"))
        if entry.get("outcome") == "started":
            started[key] = len(kept)
        elif entry.get("outcome") in ("ok", "failed") and key in started:
            kept[started.pop(key)] = None
        kept.append(entry)
    return [entry for entry in kept if entry is not None]


def _status(ok: bool | None) -> str:
    return {True: "pass", False: "fail", None: "skip"}[ok]


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    return {"md": markdown, "html": html_page, "json": as_json}[fmt](data)


def write_report(path: Path, text: str) -> None:
    from app.errors import HardstepError
    from app.fileops import atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text, default_mode=0o600)  # redacted, but still an inventory of the host
    except OSError as exc:
        raise HardstepError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _evidence(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, sort_keys=True, separators=(", ", ": ")) if evidence else ""


# --- Markdown ---------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    """Table cell text: one line, pipes and angle brackets escaped so nothing becomes HTML."""
    text = " ".join(str(value if value is not None else "").split())
    for char in ("\\", "|", "<", ">", "`", "*"):
        text = text.replace(char, "\\" + char)
    return text or " "


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def markdown(data: dict[str, Any], title: str = "hardstep report", level: int = 1) -> str:
    """One host's report; ``title`` and ``level`` place it as a section of a report on many hosts."""
    host, h = data["host"], "#" * level
    out = [f"{h} {_cell(title)}", "",
           f"Generated {_cell(data['generated'])} on {_cell(host['os'])} "
           f"(root {_cell(host['root'])}, state {_cell(host['state_dir'])}). Secrets are redacted.", ""]
    out += [f"**{_cell(notice)}**\n" for notice in _notices(data)]
    out += [f"{h}# Steps", ""]
    running = bool(data["run_in_progress"])
    out += _table(["step", "status", "last checked", "checks", "note"],
                  [[s["step"], s["status"], s["checked"] or "never", _tally(s["checks"]), _note(s, running)]
                   for s in data["steps"]])
    for step in data["steps"]:
        if not step["checks"]:
            continue
        out += ["", f"{h}## {_cell(step['title'])} ({_cell(step['step'])}): {_cell(step['status'])}", ""]
        out += _table(["result", "check", "detail", "evidence", "at"],
                      [[c["status"], c["check"], c["detail"], _evidence(c["evidence"]), c["at"]]
                       for c in step["checks"]])
    out += ["", f"{h}# Changes (audit log)", ""]
    if data["changes"]:
        out += _table(["time", "step", "action", "outcome", "command / error"],
                      [[c["time"], c["step"], c["action"], c["outcome"], c["error"] or c["command"] or ""]
                       for c in data["changes"]])
    else:
        out.append("hardstep has changed nothing on this host yet.")
    return "\n".join(out) + "\n"


def _tally(checks: list[dict[str, Any]]) -> str:
    if not checks:
        return "none yet"
    counts = {s: sum(c["status"] == s for c in checks) for s in ("pass", "fail", "skip")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _note(step: dict[str, Any], running: bool) -> str:
    if step["in_flight"]:
        how = "in progress" if running else "interrupted during"
        return f"{how}: {step['in_flight']['summary']} (started {step['in_flight']['started']})"
    return step["error"] or ""


def _notices(data: dict[str, Any]) -> list[str]:
    """What the reader must know before trusting the tables: a run in flight, unread audit lines."""
    out = []
    if data["host"].get("remote"):
        out.append(f"Host {data['host']['name']}: {OUTSIDE_VIEW}.")
    run = data["run_in_progress"]
    if run:
        out.append(f"A run is in progress: pid {run['pid']} ({run['command']}) since {run['since']}; "
                   "what it changes may still change.")
    if data["audit_skipped"]:
        out.append(f"{len(data['audit_skipped'])} line(s) of audit.jsonl could not be read and are left out: "
                   + "; ".join(data["audit_skipped"]) + ".")
    return out


# --- HTML -------------------------------------------------------------------------------------
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}code{font-size:.85em;word-break:break-all}
.pass,.verified{color:#176f2c}.fail,.failed,.drifted{color:#b00020}.skip,.pending{color:#666}"""


def _html_table(head: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """Rows of (text, css class); every text is escaped here, nowhere else."""
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join((f'<td class="{html.escape(cls, quote=True)}">' if cls else "<td>") +
                                    f"{html.escape(str(text))}</td>" for text, cls in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def html_page(data: dict[str, Any]) -> str:
    return page("hardstep report", html_body(data))


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>\n" + body + "\n</body></html>\n")


def html_body(data: dict[str, Any], level: int = 2) -> str:
    """One host's report below its title; ``level`` is the heading level of its sections."""
    host, e, running = data["host"], html.escape, bool(data["run_in_progress"])
    h2, h3 = f"h{level}", f"h{level + 1}"
    parts = [f"<p>Generated {e(data['generated'])} on {e(host['os'])} (root <code>{e(host['root'])}</code>, "
             f"state <code>{e(host['state_dir'])}</code>). Secrets are redacted.</p>"]
    parts += [f'<p class="fail"><strong>{e(notice)}</strong></p>' for notice in _notices(data)]
    parts += [f"<{h2}>Steps</{h2}>",
              _html_table(["step", "status", "last checked", "checks", "note"],
                          [[(s["step"], ""), (s["status"], s["status"].replace(" ", "-")),
                            (s["checked"] or "never", ""), (_tally(s["checks"]), ""), (_note(s, running), "")]
                           for s in data["steps"]])]
    for step in data["steps"]:
        if step["checks"]:
            parts.append(f"<{h3}>{e(step['title'])} ({e(step['step'])}): {e(step['status'])}</{h3}>")
            parts.append(_html_table(["result", "check", "detail", "evidence", "at"],
                                     [[(c["status"], c["status"]), (c["check"], ""), (c["detail"], ""),
                                       (_evidence(c["evidence"]), "evidence"), (c["at"], "")]
                                      for c in step["checks"]]))
    parts.append(f"<{h2}>Changes (audit log)</{h2}>")
    parts.append(_html_table(["time", "step", "action", "outcome", "command / error"],
                             [[(c["time"], ""), (c["step"], ""), (c["action"], ""), (c["outcome"], c["outcome"]),
                               (c["error"] or c["command"] or "", "")] for c in data["changes"]])
                 if data["changes"] else "<p>hardstep has changed nothing on this host yet.</p>")
    return "\n".join(parts)
