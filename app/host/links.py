"""Following symbolic links in a host path the way the kernel does, for any facade."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Callable

from app.errors import HardstepError

MAX_LINKS = 40  # as Linux's MAXSYMLINKS: more is a loop


def resolve_links(absolute: str, read_link: Callable[[str], str | None]) -> PurePosixPath:
    """``absolute`` with every symbolic link in it followed. ``read_link(path)`` gives the target
    of the link at host path ``path``, None when it is not a link (or nothing is there). As in a
    chroot: an absolute target is a host path, and ``..`` stops at ``/``, so no link leads out of
    the root a facade maps ``/`` to."""
    if not absolute.startswith("/"):
        raise HardstepError(f"internal: {absolute!r} is not an absolute path")
    done, pending, hops = PurePosixPath("/"), list(PurePosixPath(absolute).parts[1:]), 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            done = done.parent
            continue
        target = read_link(str(done / part))
        if target is None:
            done = done / part
            continue
        hops += 1
        if hops > MAX_LINKS:
            raise HardstepError(f"{absolute}: too many symbolic links (a loop?); fix the links by hand")
        if PurePosixPath(target).is_absolute():
            done = PurePosixPath("/")
        pending[:0] = [p for p in PurePosixPath(target).parts if p != "/"]
    return done
