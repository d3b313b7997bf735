"""The managed machine is touched only through the host facade (app/host), and the network only
through app/net: a second facade (the host over SSH) must be able to replace ``LocalHost``
without a step noticing. Mentions in docstrings, messages and scripts run inside containers
are fine; opening /proc or /sys, starting programs or opening sockets elsewhere is not."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
ALLOWED_PACKAGES = (APP / "host", APP / "net")
FORBIDDEN_MODULES = {"subprocess", "socket", "ssl", "httpx"}
KERNEL_PATHS = ("/proc", "/sys")  # the running kernel's ("/run" is also a container tmpfs target)
# host.path() hands out a local Path, which a host over SSH cannot: nothing outside app/host uses it.
HOST_PATH_ALLOWED: dict[Path, int] = {}


def _is_kernel_path(text: str) -> bool:
    return any(text == p or text.startswith(p + "/") for p in KERNEL_PATHS)


def offences(source: str) -> list[str]:
    """What in ``source`` goes around the facade, one line each (``line: what``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{node.lineno}: from {node.module} import")
            if node.module == "shutil" and any(a.name == "which" for a in node.names):
                found.append(f"{node.lineno}: from shutil import which")
        elif isinstance(node, ast.Attribute) and node.attr == "which" \
                and isinstance(node.value, ast.Name) and node.value.id == "shutil":
            found.append(f"{node.lineno}: shutil.which")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "path" \
                and _names_host(node.func.value):
            found.append(f"{node.lineno}: host.path()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_kernel_path(node.value):
            # A string that *is* a kernel path (also the head of f"/proc/{pid}/..."), not one
            # that mentions it in a sentence or a script run inside a container.
            found.append(f"{node.lineno}: the path {node.value!r}")
    return found


def _names_host(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "host") or \
        (isinstance(node, ast.Attribute) and node.attr == "host")


def test_the_scanner_finds_each_way_around_the_facade():
    bad = '''
import subprocess
from socket import create_connection
import httpx.client
from shutil import which
import shutil
shutil.which("ros")
open("/proc/1/status")
os.listdir("/proc")
Path(f"/proc/{pid}/cmdline")
Path("/sys/module/apparmor/parameters/enabled")
host.path("/etc/x")
engine.host.path("/etc/x")
'''
    assert len(offences(bad)) == 11, offences(bad)
    fine = '''
"""Reads ``/proc/<pid>/status`` through the facade."""
SCRIPT = "grep -E '^NoNewPrivs:' /proc/self/status; echo READY"
message = f"a fresh container's /proc/self/status: NoNewPrivs: {nnp}"
import shutil
shutil.copy(a, b)
host.machine_path("/etc/x")
'''
    assert offences(fine) == []


def test_only_app_host_and_app_net_touch_the_machine_and_the_network():
    problems = []
    for path in sorted(APP.rglob("*.py")):
        if any(path.is_relative_to(allowed) for allowed in ALLOWED_PACKAGES):
            continue
        found = offences(path.read_text(encoding="utf-8"))
        allowed_host_path = HOST_PATH_ALLOWED.get(path, 0)
        uses = [f for f in found if f.endswith("host.path()")]
        if len(uses) <= allowed_host_path:
            found = [f for f in found if not f.endswith("host.path()")]
        problems += [f"{path.relative_to(ROOT)}:{f}" for f in found]
    assert problems == [], "go through app/host (the facade) or app/net:\n" + "\n".join(problems)


def test_every_project_import_resolves_inside_this_checkout():
    """A module left at its old place can still import from another checkout's editable install
    (the move left ``app.sandbox`` imports that ran main's copies): refuse that."""
    outside = []
    for path in sorted([*APP.rglob("*.py"), *(ROOT / "screens").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in ("app", "screens", "tests"):
                    continue
                spec = importlib.util.find_spec(name)
                if spec is None or not str(spec.origin).startswith(str(ROOT)):
                    outside.append(f"{path.relative_to(ROOT)}: {name} -> {spec and spec.origin}")
    assert outside == []
