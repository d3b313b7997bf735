"""The ``hardstep`` argument parser: commands, their options, and the global options that may
stand before or after the command."""

from __future__ import annotations

import argparse
from pathlib import Path


def global_options(hosts_dest: str) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS lets the options stand before or after the subcommand without one masking the other.
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="treat DIR as / for files (practice lab, tests)")
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file (TOML)")
    common.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS, help="state and audit log folder")
    # A subcommand's namespace replaces the main one's values: the --host options before the
    # command and those after it go to two lists, joined by app.cli.hosts.
    common.add_argument("--host", dest=hosts_dest, action="append", default=argparse.SUPPRESS, metavar="HOST",
                        help="work on this host over SSH: ssh://[user@]host[:port] (default: $HARDSTEP_HOST; "
                             "check and report take several)")
    common.add_argument("--inventory", type=Path, default=argparse.SUPPRESS, metavar="FILE",
                        help="check or report on every host of this 'ansible-inventory --list' JSON")
    common.add_argument("--limit", default=argparse.SUPPRESS, metavar="PATTERN",
                        help="with --inventory: only the hosts this Ansible pattern picks (a,b  a:!b  a:&b  web*  ~re  @file)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = global_options("hosts")
    parser = argparse.ArgumentParser(prog="hardstep", parents=[global_options("hosts_first")],
                                     description="Harden a Docker host running a Matrix stack, one verified step at a time.")
    parser.add_argument("--version", action=VersionAction, help="print hardstep's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("wizard", parents=[common], help="open the wizard (the default)")
    lab = sub.add_parser("lab", parents=[common], help="open the wizard on a disposable practice host")
    lab.add_argument("--dir", type=Path, help="where the practice host lives")
    lab.add_argument("--socket-proxy-image", help="use this socket proxy image in the lab")
    lab.add_argument("--probe-image", help="use this probe image in the lab")
    lab.add_argument("--no-open", action="store_true", help="build and start the lab, print its paths only")
    lab.add_argument("--stop", action="store_true", help="stop the lab's engine and containers (files stay)")
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


class VersionAction(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata stays out of every other start."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from app.version import version

        print(f"hardstep {version()}")
        parser.exit()
