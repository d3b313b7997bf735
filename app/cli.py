"""The ``hardstep`` command line. Same engine as the wizard; errors are one line and exit 2."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from app.errors import HardstepError

if TYPE_CHECKING:
    from app.engine.runner import Engine, Plan
    from app.engine.model import CheckResult, Event

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS lets the options stand before or after the subcommand without one masking the other.
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="treat DIR as / for files (practice lab, tests)")
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file (TOML)")
    common.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS, help="state and audit log folder")

    parser = argparse.ArgumentParser(prog="hardstep", parents=[common],
                                     description="Harden a Docker host running a Matrix stack, one verified step at a time.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("wizard", parents=[common], help="open the wizard (the default)")
    lab = sub.add_parser("lab", parents=[common], help="open the wizard on a disposable practice host")
    lab.add_argument("--dir", type=Path, help="where the practice host lives")
    lab.add_argument("--socket-proxy-image", help="use this socket proxy image in the lab")
    lab.add_argument("--probe-image", help="use this probe image in the lab")
    lab.add_argument("--no-open", action="store_true", help="build the lab and print its paths only")
    listing = sub.add_parser("list", parents=[common], help="list the steps and their state")
    listing.add_argument("--json", action="store_true")
    plan = sub.add_parser("plan", parents=[common], help="show what a step would change")
    plan.add_argument("step")
    apply = sub.add_parser("apply", parents=[common], help="apply a step, then check it")
    apply.add_argument("step")
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    check = sub.add_parser("check", parents=[common], help="run the live checks (exit 1 when one fails)")
    check.add_argument("steps", nargs="*", metavar="STEP")
    check.add_argument("--json", action="store_true")
    rollback = sub.add_parser("rollback", parents=[common], help="undo what hardstep did for a step")
    rollback.add_argument("step")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    resume = sub.add_parser("resume", parents=[common],
                            help="after an interrupted apply: re-check, then continue or roll back")
    resume.add_argument("steps", nargs="*", metavar="STEP")
    choice = resume.add_mutually_exclusive_group()
    choice.add_argument("--continue", dest="go_on", action="store_true", help="apply what is left, then check")
    choice.add_argument("--rollback", action="store_true", help="undo every recorded change of the step")
    resume.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    report = sub.add_parser("report", parents=[common], help="write the whole-host report (secrets redacted)")
    report.add_argument("--format", choices=("md", "html", "json"), default="md")
    report.add_argument("--output", default="-", metavar="FILE", help="where to write it; - (default): stdout")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except HardstepError as exc:
        print(f"hardstep: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hardstep: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("HARDSTEP_DEBUG"):
            raise
        from app.engine.runner import describe_error

        print(f"hardstep: unexpected error: {describe_error(exc)} (HARDSTEP_DEBUG=1 shows details)",
              file=sys.stderr)
        return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    command = args.command or "wizard"
    if command == "lab":
        return open_lab(args)
    if command == "wizard":
        return open_wizard(args)
    engine = make_engine(getattr(args, "root", None), getattr(args, "config", None),
                         getattr(args, "state_dir", None))
    handlers = {"list": cmd_list, "plan": cmd_plan, "apply": cmd_apply, "check": cmd_check,
                "rollback": cmd_rollback, "resume": cmd_resume, "report": cmd_report}
    try:
        if command in ("list", "plan"):
            note_interrupted(engine)
        return handlers[command](engine, args)
    finally:
        engine.host.close()


def make_engine(root: Path | None, config_path: Path | None, state_dir: Path | None) -> "Engine":
    from app.config.settings import load_config
    from app.engine.runner import Engine
    from app.host.local import Host
    from app.engine.state import StateStore

    if root is not None and not Path(root).is_dir():
        raise HardstepError(f"--root {root} is not a directory")
    return Engine(Host(root or "/"), load_config(config_path), StateStore(state_dir))


def open_wizard(args: argparse.Namespace, engine: "Engine | None" = None) -> int:
    engine = engine or make_engine(getattr(args, "root", None), getattr(args, "config", None),
                                   getattr(args, "state_dir", None))
    from screens.app import HardstepApp

    HardstepApp(engine).run()
    return EXIT_OK


def open_lab(args: argparse.Namespace) -> int:
    from app.lab import build_lab

    lab = build_lab(args.dir, socket_proxy_image=args.socket_proxy_image, probe_image=args.probe_image)
    if args.no_open:
        print(f"lab: {lab.dir}\nroot: {lab.root}\nconfig: {lab.config}\nstate: {lab.state}")
        return EXIT_OK
    return open_wizard(args, make_engine(lab.root, lab.config, lab.state))


def needs_docker(engine: "Engine", ids: list[str]) -> None:
    """Fail early, before anything is written, when a Docker step meets no engine."""
    if any(engine.step(i).uses_docker for i in ids):
        engine.host.docker  # raises DockerUnavailable with what to do


def note(message: str) -> None:
    """Notices go to stderr, so the output of --json stays parseable."""
    print(f"hardstep: {message}", file=sys.stderr, flush=True)


def note_interrupted(engine: "Engine", ids: list[str] | None = None) -> None:
    from app.engine.resume import interrupted

    for item in interrupted(engine, ids):
        note(f"{item.step}: action '{item.summary}' was in flight (started {item.started}) when hardstep "
             "stopped; 'hardstep resume' re-checks it, then continue or roll back.")


def cmd_list(engine: "Engine", args: argparse.Namespace) -> int:
    rows = [{"step": s.id, "title": s.title, "status": engine.status(s.id).value} for s in engine.infos()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['step']:<16} {row['status']:<15} {row['title']}")
    return EXIT_OK


def print_plan(plan: "Plan", title: str) -> None:
    if not plan.applicable.ok:
        print(f"{plan.step}: not applicable: {plan.applicable.reason}")
        return
    for note in plan.notes:
        print(f"warning: {note}")
    if plan.empty:
        print(f"{plan.step}: nothing to do, this host already has it.")
        return
    print(f"{title} — {len(plan.actions)} change(s):")
    for number, action in enumerate(plan.actions, 1):
        described = action.describe()
        print(f"\n{number}. {described['summary']}")
        for line in described["command"].splitlines():
            print(f"   $ {line}")
        if described["diff"]:
            print("   " + described["diff"].rstrip("\n").replace("\n", "\n   "))


def cmd_plan(engine: "Engine", args: argparse.Namespace) -> int:
    needs_docker(engine, [args.step])
    print_plan(engine.plan(args.step), engine.step(args.step).title)
    return EXIT_OK


def confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise HardstepError("no terminal to ask for confirmation; pass --yes to proceed")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def print_event(event: "Event") -> None:
    if event.fraction is not None and 0 < event.fraction < 1:
        return  # progress bars are for the wizard; the log keeps the milestones
    print(f"  {'!' if event.level != 'info' else '-'} {event.message}", flush=True)


def print_checks(results: list["CheckResult"]) -> None:
    for r in results:
        print(f"{r.status.upper():<5} {r.step:<16} {r.check:<28} {r.detail}")


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
    recheck_interrupted(engine, ids)
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
        if settle(engine, item):
            note(f"{item.step}: {item.detail}; running its checks.")
        else:
            note(f"{item.step}: {item.detail}. 'hardstep resume --continue' applies what is left, "
                 "'hardstep resume --rollback' undoes it all.")


def cmd_rollback(engine: "Engine", args: argparse.Namespace) -> int:
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
    from app.engine.report import build_report, render, write_report

    text = render(build_report(engine), args.format)
    if args.output in ("-", ""):
        sys.stdout.write(text)
    else:
        write_report(Path(args.output), text)
        print(f"report written to {args.output}", file=sys.stderr)
    return EXIT_OK
