"""Actions: one change to the host that can describe itself before it happens and undo itself after.

Each action offers a human sentence (``summary``), the equivalent shell commands (``command``),
a redacted unified diff for file edits (``diff``), and ``apply``, which returns the undo records
the engine keeps in the state directory for rollback.
"""

from __future__ import annotations

import difflib
import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from app.engine.model import Event, Reporter, ignore
from app.engine.undo import UndoRecord, record
from app.errors import ApplyError
from app.fileops import store_backup
from app.redact import redact

if TYPE_CHECKING:
    from app.config.settings import Config
    from app.host.base import Host

Undo = UndoRecord  # what Action.apply and Action.prepare return: the records rollback needs


@dataclass
class ApplyContext:
    step: str
    backup_dir: Path
    report: Reporter = ignore

    def log(self, message: str, fraction: float | None = None, level: str = "info") -> None:
        self.report(Event(self.step, redact(message), fraction, level))


class Action:
    """Base class. Subclasses set ``summary`` and implement ``apply``."""

    summary: str = ""

    def command(self) -> str:
        """The shell commands a person would type for the same change (display only)."""
        return ""

    def diff(self) -> str:
        return ""

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        raise NotImplementedError

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        """Called just before ``apply``: the undo records rollback needs if the process dies
        during or right after the change (the engine saves them first). Default: none known."""
        return []

    def after_undo(self, host: "Host", ctx: ApplyContext) -> None:
        """Called when this action failed and the step's earlier changes were undone."""

    def describe(self) -> dict[str, str]:
        """What the plan shows, every part through redaction (a diff is redacted at its source too)."""
        return {"summary": redact(self.summary), "command": redact(self.command()), "diff": redact(self.diff())}


def sh(*argv: str) -> str:
    """Quote an argument list for display as one shell command."""
    return shlex.join(argv)


@dataclass
class EditFile(Action):
    """Replace a file's text. Refuses when the file changed since the plan was made."""

    path: str
    before: str | None
    after: str
    summary: str = ""

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = f"{'Edit' if self.before is not None else 'Create'} {self.path}"

    def command(self) -> str:
        return f"cp -p {shlex.quote(self.path)} {shlex.quote(self.path + '.bak')}  # then edit as in the diff" \
            if self.before is not None else f"install -m 644 /dev/null {shlex.quote(self.path)}  # then write"

    def diff(self) -> str:
        return unified_diff(self.path, self.before or "", self.after)

    def prepare(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        # The backup is taken now, so the engine can save where it is before the file changes. A file
        # changed since the plan is refused first: it prepared nothing, so nothing "undoes" it.
        self._unchanged(host)
        self._prepared = self._record(back_up(host, self.path, ctx.backup_dir))
        return [self._prepared]

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        self._unchanged(host)
        prepared, self._prepared = getattr(self, "_prepared", None) or self.prepare(host, ctx)[0], None
        host.write_text(self.path, self.after)
        ctx.log(f"wrote {self.path}" + (f" (backup {prepared.backup})" if prepared.backup else ""))
        return [prepared]

    def _unchanged(self, host: "Host") -> None:
        if host.read_text(self.path) != self.before:
            raise ApplyError(f"{self.path} changed since the plan was made; nothing written. Review the plan again.")

    def _record(self, saved: Path | str | None) -> "FileBackup":
        return FileBackup(self.path, str(saved) if saved else None, _digest(self.after))


@record("file")
@dataclass(frozen=True)
class FileBackup(UndoRecord):
    """A file hardstep wrote: its backup (None: hardstep created it) and a digest of what it wrote."""

    path: str
    backup: str | None
    after: str | None = None
    restores_file = True

    def reverse(self, host: "Host", config: "Config", records: list[UndoRecord]) -> list["Action"]:
        return [RestoreFile(self.path, self.backup, self.after, edited=_edited(host, self.path, self.after))]

    def after_interrupt(self, host: "Host") -> None:
        """An atomic write killed before its rename leaves ``.<name>.*.hardstep-tmp`` beside the
        file (the file itself is intact): remove those."""
        host.remove_temp_files(self.path)


@dataclass
class RestoreFile(Action):
    """Put a file back from its backup (or remove a file hardstep created). What the file holds
    then is kept beside the backups first; ``after`` (the digest of what hardstep wrote) tells
    whether someone edited it by hand since, which the summary and the log then say."""

    path: str
    backup: str | None
    after: str | None = None
    summary: str = ""
    edited: bool = False

    def __post_init__(self) -> None:
        self.kept: Path | None = None
        self.summary = self.summary or (f"Restore {self.path} from {self.backup}" if self.backup
                                        else f"Remove {self.path}, which hardstep created") + (
            " (it was edited by hand since hardstep's edit: that version is kept as a copy first)"
            if self.edited else "")

    def command(self) -> str:
        keep = sh("cp", "-p", self.path, str(self.kept)) + "\n" if self.kept else ""
        return keep + (sh("cp", "-p", self.backup, self.path) if self.backup else sh("rm", self.path))

    def apply(self, host: "Host", ctx: ApplyContext) -> list[Undo]:
        data = Path(self.backup).read_bytes() if self.backup else None
        edited = _edited(host, self.path, self.after)
        self.kept = back_up(host, self.path, ctx.backup_dir, "edited-by-hand" if edited else "")
        if edited:
            ctx.log(f"{self.path} was edited by hand since hardstep's edit; that version is kept as "
                    f"{self.kept}", level="warning")
        if data is not None:
            host.write_text(self.path, data.decode("utf-8"))
        else:
            host.unlink(self.path)
        ctx.log(self.summary)
        return []


def back_up(host: "Host", path: str, backup_dir: Path, label: str = "") -> Path | None:
    """Keep the managed file's current bytes (read through the facade) in ``backup_dir``, where
    the state is, named after the file (and ``label``); None when there is no such file."""
    data = host.read_bytes(path)
    name = PurePosixPath(path).name + (f".{label}" if label else "")
    return store_backup(backup_dir, name, data) if data is not None else None


def _edited(host: "Host", path: str, after: str | None) -> bool:
    """True when the file is there and no longer what hardstep wrote (digest ``after``; records
    from before digests were kept say nothing)."""
    data = host.read_bytes(path) if after else None
    return data is not None and hashlib.sha256(data).hexdigest() != after


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff of two texts with secrets redacted on both sides."""
    lines = difflib.unified_diff(
        redact(before).splitlines(keepends=True), redact(after).splitlines(keepends=True),
        fromfile=f"a{path}", tofile=f"b{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
