"""The ``hardstep`` command line: the same engine as the wizard; errors are one line and exit 2.

The wizard itself is not part of the core: the program's entry point (``screens.launch``) hands
``main`` the function that opens it, so ``app`` never imports Textual.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import TYPE_CHECKING, Callable, Sequence

from app.cli import commands, hosts
from app.cli.commands import EXIT_ERROR, EXIT_FAILED, EXIT_OK, make_engine
from app.cli.output import note, note_event, redacted_output
from app.cli.parser import build_parser
from app.errors import HardstepError, describe_error

if TYPE_CHECKING:
    from app.engine.runner import Engine

Wizard = Callable[["Engine"], None]

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "build_parser", "main", "make_engine"]


def main(argv: Sequence[str] | None = None, wizard: Wizard | None = None) -> int:
    """Run one command; ``wizard`` opens the wizard on an engine (None: the core alone, as
    ``python -m app`` runs it, where only the commands that need no wizard work)."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    args.command_line = shlex.join(["hardstep", *words])  # who holds the run lock, for a second hardstep
    if (args.command or "wizard") in ("wizard", "lab"):
        return guarded(args, wizard)  # Textual owns the terminal; its screens show redacted data
    with redacted_output():
        return guarded(args, wizard)


def guarded(args: argparse.Namespace, wizard: Wizard | None) -> int:
    """Run the command; every failure becomes one line on stderr with its exit code."""
    try:
        return run(args, wizard)
    except HardstepError as exc:
        print(f"hardstep: error: {describe_error(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hardstep: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("HARDSTEP_DEBUG"):
            raise
        print(f"hardstep: unexpected error: {describe_error(exc)} (HARDSTEP_DEBUG=1 shows details)",
              file=sys.stderr)
        return EXIT_ERROR


def run(args: argparse.Namespace, wizard: Wizard | None = None) -> int:
    command = args.command or "wizard"
    named = hosts.members(args)
    hosts.refuse(args, command, named)
    if command == "wizard":
        need(wizard)  # before anything connects
    if command == "lab":
        return open_lab(args, wizard)
    if hosts.many(args, named):  # check or report: refuse() let no other command through
        from app.cli import fleet

        return (fleet.cmd_check_many if command == "check" else fleet.cmd_report_many)(args, named)
    engine = hosts.engine_for(args, named[0] if named else None)
    try:
        if command == "wizard":
            engine.host.connect()  # an unknown host key: exit 2 with its fingerprint, before Textual takes the terminal
            return open_wizard(wizard, engine)
        if engine.host.remote and command in ("check", "report"):
            from app.engine.report import OUTSIDE_VIEW

            note(OUTSIDE_VIEW)
        if command in CHANGING:  # the whole command, from its first look at the host to its last change
            with engine.exclusive(getattr(args, "command_line", f"hardstep {command}"), note_event):
                return COMMANDS[command](engine, args)
        if command in ("list", "plan"):
            commands.note_interrupted(engine)
        return COMMANDS[command](engine, args)
    finally:
        engine.host.close()


CHANGING = ("apply", "rollback", "resume")  # they hold the run lock: one hardstep at a time


COMMANDS = {"list": commands.cmd_list, "plan": commands.cmd_plan, "apply": commands.cmd_apply,
            "check": commands.cmd_check, "rollback": commands.cmd_rollback, "resume": commands.cmd_resume,
            "report": commands.cmd_report}


def need(wizard: Wizard | None) -> Wizard:
    if wizard is None:
        raise HardstepError("the wizard is not part of 'python -m app'; run 'hardstep' (or pass a command)")
    return wizard


def open_wizard(wizard: Wizard | None, engine: "Engine") -> int:
    need(wizard)(engine)
    return EXIT_OK


def open_lab(args: argparse.Namespace, wizard: Wizard | None) -> int:
    from app.lab.files import build_lab
    from app.lab.run import start_lab, stop_lab

    lab = build_lab(args.dir, socket_proxy_image=args.socket_proxy_image, probe_image=args.probe_image)
    if args.stop:
        stop_lab(lab)
        print(f"lab: stopped (its files and state stay in {lab.dir})")
        return EXIT_OK
    start_lab(lab, log=lambda line: print(line, flush=True))
    if args.no_open:
        print(f"lab: {lab.dir}\nroot: {lab.root}\nconfig: {lab.config}\nstate: {lab.state}")
        return EXIT_OK
    return open_wizard(wizard, make_engine(lab.root, lab.config, lab.state))
