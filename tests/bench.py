"""``make bench``: start-up and check timings of hardstep on the practice lab. Figures only.

Run as ``python -m tests.bench [--runs N] [--frame-runs M] [--frames-only]``. Every figure is the
median of N runs (default 5; first frames: M, default 15), each in a fresh process:

- time to first frame: from just before the process is started to the moment the wizard (or a
  bare Textual ``App``, for comparison) has drawn its first frame, headless at 80x24. The wizard
  starts as a user starts it, through the program's entry point (tests/first_frame.py). The two
  are started in turn (bare, wizard, bare, ...), so a load that comes and goes on a shared
  machine weighs on both alike; the ratio printed is the median of each pair's wizard / bare.
  On a shared virtual machine single starts vary by a third, hence the 15 pairs, and the
  instructions each first frame runs, counted once by valgrind (callgrind), which the load does
  not move (``make bench`` installs valgrind). The wizard's first frame is its main screen on a host whose settings exist (the lab's files,
  a config that is not the lab's), as on every start after the first;
- ``hardstep check`` on the lab: wall time of the whole command;
- ``hardstep check`` of a host over SSH against the same check run there, and their ratio
  (tests/bench_ssh.py says how);
- peak memory (max RSS) of the wizard's and the bare app's start, and the CPU time (user + sys)
  the process used until its first frame, both from ``os.wait4``. On a busy machine the CPU
  time moves much less than the wall time.

Starts are warm, as a user's second start is: children may write bytecode even when
``PYTHONDONTWRITEBYTECODE`` is set here, and one uncounted run goes first. (Without cached
bytecode every start would also compile hardstep's own modules from source.)

Nothing here asserts anything: timings depend on the machine, so they are reported, not judged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.first_frame import BARE, HEADLESS, probe, wizard

ROOT = Path(__file__).resolve().parent.parent
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}

# The child prints the wall-clock time of its first frame, then leaves at once: worker threads
# still talking to Docker must not count (nor delay the next run). tests/first_frame.py says how
# the wizard is started (as a user starts it) and its frame caught.
REPORT = """
import time


def on_first_frame(app, screen):
    print(f"{time.time():.6f} {type(screen).__name__}", flush=True)
    os._exit(0)
"""


def first_frame_code(kind: str, home: Path) -> str:
    """The child's script: the bare app's first frame, or the wizard's on ``home``."""
    return probe(REPORT, wanted="Screen") + BARE if kind == "bare" else probe(REPORT) + wizard(home)


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, str, float, int, float]:
    """(seconds to the printed time, its output, wall seconds, max RSS in KiB, CPU seconds)."""
    started = time.time()
    proc = subprocess.Popen(argv, cwd=ROOT, env={**ENV, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    first = out.split()[0] if out.strip() else ""
    marked = float(first) - started if first.replace(".", "").isdigit() else float("nan")
    said = out.strip() or (err.strip().splitlines() or [""])[-1]
    return marked, said, wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values)


class Frames:
    """One kind's first frames: seconds to it, peak RSS (MiB) and CPU seconds, run by run."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.rss: list[float] = []
        self.cpu: list[float] = []
        self.shown = "?"

    def run(self, kind: str, home: Path) -> None:
        marked, out, _, max_rss, used = run_child([sys.executable, "-c", first_frame_code(kind, home)], HEADLESS)
        self.frames.append(marked)
        self.rss.append(max_rss / 1024)
        self.cpu.append(used)
        self.shown = out.split()[-1] if out else "?"


def wizard_home(lab: Path, home: Path) -> Path:
    """A host whose settings exist, as on every start after the first: the lab's files with a
    config that is not the lab's (in the lab the welcome screen comes first, which introduces it)."""
    from app.config.settings import Config, save_config

    home.mkdir()
    (home / "root").symlink_to(lab / "root")
    save_config(Config({}), home / "config.toml")
    return home


def first_frames(home: Path, runs: int) -> tuple[Frames, Frames]:
    """The bare app's and the wizard's first frames, started in turn."""
    bare, wizard = Frames(), Frames()
    for kind in ("bare", "wizard"):  # warm-up, not counted: bytecode, disk cache
        run_child([sys.executable, "-c", first_frame_code(kind, home)], HEADLESS)
    for _ in range(runs):
        bare.run("bare", home)
        wizard.run("wizard", home)
    return bare, wizard


def instructions(kind: str, home: Path) -> int | None:
    """Instructions run to the first frame, counted by valgrind (callgrind): unlike times, they do
    not move with the machine's load. None without valgrind."""
    import re
    import shutil

    if shutil.which("valgrind") is None:
        return None
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                           first_frame_code(kind, home)], cwd=ROOT, env={**ENV, **HEADLESS}, capture_output=True,
                          text=True, timeout=600)
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def pair_ratio(wizard: list[float], bare: list[float]) -> float:
    """The median of each turn's wizard / bare: a turn's two runs met the same load."""
    return median([w / b for w, b in zip(wizard, bare)])


def check_time(lab: Path, runs: int) -> tuple[float, int]:
    """Median wall seconds of ``hardstep check`` on the lab, and its exit code."""
    times, code = [], 0
    argv = [sys.executable, "-m", "app", "--root", str(lab / "root"), "--config", str(lab / "config.toml"),
            "--state-dir", str(lab / "state"), "check"]
    subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True)  # warm-up, not counted
    for _ in range(runs):
        started = time.time()
        code = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True).returncode
        times.append(time.time() - started)
    return median(times), code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is printed")
    parser.add_argument("--frame-runs", type=int, default=15, help="runs of each first frame")
    parser.add_argument("--frames-only", action="store_true", help="first frames only, without the lab's stack")
    parser.add_argument("--ssh-only", action="store_true", help="the SSH vs local check only (tests/bench_ssh.py)")
    args = parser.parse_args(argv)
    if args.ssh_only:
        return print_ssh(args.runs)

    from app.lab.files import build_lab
    from app.lab.run import start_lab, stop_lab

    # On disk (not a tmpfs /tmp): the lab's engine keeps its images there.
    with tempfile.TemporaryDirectory(prefix="hardstep-bench-", dir="/var/tmp") as tmp:
        lab = build_lab(Path(tmp) / "lab")
        home = wizard_home(lab.dir, Path(tmp) / "wizard")
        bare_runs, wizard_runs = first_frames(home, args.frame_runs)
        counted = {kind: instructions(kind, home) for kind in ("bare", "wizard")}
        if not args.frames_only:
            started = time.time()
            start_lab(lab, log=lambda line: None)  # the whole running stack: check time is a real host's
            lab_start = time.time() - started
            try:
                check, code = check_time(lab.dir, args.runs)
            finally:
                stop_lab(lab)

    bare, bare_rss, bare_cpu = (median(x) for x in (bare_runs.frames, bare_runs.rss, bare_runs.cpu))
    wizard, wizard_rss, wizard_cpu = (median(x) for x in (wizard_runs.frames, wizard_runs.rss, wizard_runs.cpu))
    screen = wizard_runs.shown

    print(f"hardstep bench: median of {args.runs} runs each, first frames of {args.frame_runs} "
          f"(Python {sys.version.split()[0]})")
    print(f"  first frame, bare Textual App     {bare * 1000:8.0f} ms   CPU {bare_cpu * 1000:6.0f} ms"
          f"   peak RSS {bare_rss:6.1f} MiB")
    print(f"  first frame, hardstep wizard      {wizard * 1000:8.0f} ms   CPU {wizard_cpu * 1000:6.0f} ms"
          f"   peak RSS {wizard_rss:6.1f} MiB   ({screen}; +{(wizard - bare) * 1000:.0f} ms over bare)")
    print(f"  first frame ratio (wizard / bare app): {pair_ratio(wizard_runs.frames, bare_runs.frames):.2f}"
          f"   (CPU {pair_ratio(wizard_runs.cpu, bare_runs.cpu):.2f})")
    if None in counted.values():
        print("  first frame in instructions: needs valgrind (apt-get install valgrind), not installed")
    else:
        print(f"  first frame in instructions       bare {counted['bare'] / 1e6:6.0f} M, wizard "
              f"{counted['wizard'] / 1e6:6.0f} M: ratio {counted['wizard'] / counted['bare']:.2f}   (valgrind; "
              "the same on every run)")
    if args.frames_only:
        return 0
    print(f"  practice lab started (first time)  {lab_start:8.1f} s    (images copied into its engine, stack up)")
    print(f"  hardstep check on the lab         {check * 1000:8.0f} ms   (exit {code}: "
          f"{'all checks pass' if code == 0 else 'some checks fail, as on an unhardened lab' if code == 1 else 'error'})")
    return print_ssh(args.runs)


def print_ssh(runs: int) -> int:
    from tests.bench_ssh import ssh_vs_local

    ssh = ssh_vs_local(runs, ENV)
    print(f"  hardstep check on a host, there    {median(ssh.local) * 1000:8.0f} ms   (exit {ssh.codes[0]}; "
          "this machine's files and engine)")
    print(f"  the same check over SSH to it      {median(ssh.ssh) * 1000:8.0f} ms   (exit {ssh.codes[1]}; one "
          "SSH connection: SFTP, exec, Docker)")
    print(f"  SSH vs local check ratio: {ssh.ratio:.2f}   (median of {runs} paired runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
