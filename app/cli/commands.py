"""The ``hardstep`` commands that drive the engine: list, plan, apply, check, rollback, resume and
report. Each returns the exit code; errors are raised as HardstepError (one line, exit 2)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.output import confirm, note, note_event, print_checks, print_event, print_plan, write_verbatim
from app.errors import EXIT_ERROR, EXIT_FAILED, EXIT_OK, HardstepError

if TYPE_CHECKING:
    from app.engine.runner import Engine
    from app.host.target import SshTarget


def make_engine(root: Path | None, config_path: Path | None, state_dir: Path | None,
                target: "SshTarget | None" = None) -> "Engine":
    """The engine of this machine, or with ``target`` of that host over SSH (``root`` unused)."""
    from app.config.settings import load_config
    from app.engine.runner import Engine
    from app.engine.state import StateStore

    if target is not None:
        from app.host.ssh import SshHost

        return Engine(SshHost(target), load_config(config_path), StateStore(state_dir))
    from app.host.local import LocalHost

    root = root or os.environ.get("HARDSTEP_ROOT") or None  # the container image sets /host
    if root is not None and not Path(root).is_dir():
        raise HardstepError(f"--root {root} is not a directory")
    config = load_config(config_path)
    host = LocalHost(root or "/", docker_endpoint=config.docker.endpoint, host_namespaces=host_namespaces())
    return Engine(host, config, StateStore(state_dir))


def host_namespaces() -> int | None:
    """HARDSTEP_HOST_NAMESPACES: the process whose namespaces the host's commands run in (the
    container image sets 1, the host's init under ``--pid host``); unset or empty: right here."""
    value = os.environ.get("HARDSTEP_HOST_NAMESPACES", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise HardstepError(f"HARDSTEP_HOST_NAMESPACES={value!r} is not a process id; "
                            "set 1 (the host's init, with docker run --pid host) or leave it empty")
    return int(value)


def needs_docker(engine: "Engine", ids: list[str]) -> None:
    """Fail early, before anything is written, when a Docker step meets no engine."""
    if any(engine.step(i).uses_docker for i in ids):
        engine.host.docker  # raises DockerUnavailable with what to do


def note_running(engine: "Engine") -> bool:
    """Say so when another hardstep is changing the host; returns whether one is."""
    holder = engine.running_elsewhere()
    if holder:
        note(f"a run is in progress: {holder}; until it ends, what it changes may still change "
             "and checks are not recorded")
    return holder is not None


def note_interrupted(engine: "Engine", ids: list[str] | None = None) -> None:
    from app.engine.resume import interrupted

    if note_running(engine):
        return  # its actions in flight are running, not interrupted
    for item in interrupted(engine, ids):
        note(item.stopped())


def cmd_list(engine: "Engine", args: argparse.Namespace) -> int:
    rows = [{"step": s.id, "title": s.title, "status": engine.status(s.id).value} for s in engine.infos()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['step']:<16} {row['status']:<15} {row['title']}")
    return EXIT_OK


def cmd_plan(engine: "Engine", args: argparse.Namespace) -> int:
    needs_docker(engine, [args.step])
    print_plan(engine.plan(args.step), engine.step(args.step).title)
    return EXIT_OK


def cmd_apply(engine: "Engine", args: argparse.Namespace) -> int:
    needs_docker(engine, [args.step])
    flight = engine.in_flight(args.step)
    if flight:
        note(f"{args.step}: action '{flight.get('summary')}' was in flight; continuing: the plan below is "
             "what is left (earlier changes stay recorded for rollback).")
    plan = engine.plan(args.step)
    print_plan(plan, engine.step(args.step).title)
    if not plan.applicable.ok:
        return EXIT_ERROR
    if not plan.empty and not confirm("Apply these changes?", args.yes):
        print("Nothing changed.")
        return EXIT_FAILED
    outcome = engine.apply(args.step, plan, report=print_event)
    if outcome.error:
        print(f"hardstep: {args.step} failed: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    print_checks(outcome.checks)
    print(f"{args.step}: {outcome.status.value}")
    return EXIT_OK if outcome.ok else EXIT_FAILED


def cmd_check(engine: "Engine", args: argparse.Namespace) -> int:
    ids = args.steps or [s.id for s in engine.steps()]
    for step_id in ids:
        engine.step(step_id)  # unknown ids fail before any check runs
    needs_docker(engine, ids)
    if not note_running(engine):
        recheck_interrupted(engine, ids)  # a run in progress is not interrupted: nothing to settle
    results = engine.check_many(ids)
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2))
    else:
        print_checks(results)
    return EXIT_FAILED if any(r.ok is False for r in results) else EXIT_OK


def recheck_interrupted(engine: "Engine", ids: list[str]) -> None:
    """Say which action a killed run left in flight and whether it completed; a run that did
    complete (a reboot ended it after its last change) is settled, so its checks decide."""
    from app.engine.resume import interrupted, recheck, settle

    for item in interrupted(engine, ids):
        note(item.notice)
        recheck(engine, item)
        if settle(engine, item, note_event):
            note(f"{item.step}: {item.detail}; running its checks.")
        else:
            note(f"{item.step}: {item.detail}. 'hardstep resume --continue' applies what is left, "
                 "'hardstep resume --rollback' undoes it all.")


def cmd_rollback(engine: "Engine", args: argparse.Namespace) -> int:
    if not engine.step(args.step).rolls_back_without_engine:
        needs_docker(engine, [args.step])
    flight = engine.in_flight(args.step)
    if flight:
        note(f"{args.step}: action '{flight.get('summary')}' was in flight; the rollback undoes it too.")
    actions = engine.rollback_plan(args.step)
    if not actions:
        print(f"{args.step}: nothing to roll back (hardstep made no change here that it can undo).")
        return EXIT_OK
    print(f"Rolling back {args.step} — {len(actions)} change(s):")
    for number, action in enumerate(actions, 1):
        print(f"{number}. {action.summary}\n   $ " + action.command().replace("\n", "\n   $ "))
    if not confirm("Roll back?", args.yes):
        print("Nothing changed.")
        return EXIT_FAILED
    outcome = engine.rollback(args.step, actions, report=print_event)
    if outcome.error:
        print(f"hardstep: rollback of {args.step} failed: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.step}: rolled back")
    return EXIT_OK


def cmd_resume(engine: "Engine", args: argparse.Namespace) -> int:
    """Re-check what an interrupted apply left in flight; with --continue or --rollback, finish it."""
    from app.engine.resume import interrupted, recheck

    for step_id in args.steps:
        engine.step(step_id)  # unknown ids fail before anything runs
    items = interrupted(engine, args.steps or None)
    if not items:
        print("Nothing was interrupted: no step has an action in flight.")
        return EXIT_OK
    needs_docker(engine, [i.step for i in items])
    for item in items:
        print(item.notice, flush=True)
        recheck(engine, item)
        print(f"  started {item.started}; {item.detail}")
        for summary in item.remaining:
            print(f"  - left: {summary}")
    if not (args.go_on or args.rollback):
        print("\nContinue with 'hardstep resume --continue', or undo with 'hardstep resume --rollback'.")
        return EXIT_FAILED  # something still waits for a decision
    verb = "Continue (apply what is left)" if args.go_on else "Roll back every recorded change"
    if not confirm(f"{verb} for {', '.join(i.step for i in items)}?", args.yes):
        print("Nothing changed.")
        return EXIT_FAILED
    ok = True
    for item in items:
        if args.go_on:
            outcome = engine.apply(item.step, report=print_event)
            print_checks(outcome.checks)
            print(f"{item.step}: {outcome.status.value}" + (f" ({outcome.error})" if outcome.error else ""))
        else:
            outcome = engine.rollback(item.step, report=print_event)
            print(f"{item.step}: " + (f"rollback failed: {outcome.error}" if outcome.error else "rolled back"))
        ok = ok and outcome.ok
    return EXIT_OK if ok else EXIT_FAILED


def cmd_report(engine: "Engine", args: argparse.Namespace) -> int:
    from app.engine.report import build_report, render

    note_running(engine)
    emit_report(render(build_report(engine), args.format), args.output)  # built from redacted data, then escaped
    return EXIT_OK


def emit_report(text: str, output: str) -> None:
    """A rendered report to stdout (``-``) or to a file, said on stderr."""
    from app.engine.report import write_report

    if output in ("-", ""):
        write_verbatim(text)
    else:
        write_report(Path(output), text)
        print(f"report written to {output}", file=sys.stderr)
