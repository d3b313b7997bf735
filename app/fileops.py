"""Safe file writes: atomic replace with mode and owner kept, and timestamped backups."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.engine import model


def atomic_write(path: Path, data: str | bytes, default_mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename.

    A reader sees the old file or the new one, never half of one. An existing file's mode and
    owner carry over to the new one; a new file gets ``default_mode``.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = path.stat()
        mode, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        mode, owner = default_mode, None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".hardstep-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(tmp, *owner)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def store_backup(backup_dir: Path, name: str, data: bytes) -> Path:
    """Keep ``data``, a managed file's bytes read through the host facade, in ``backup_dir``
    under a timestamped name (mode 0600: a config file may hold secrets)."""
    target = _backup_name(backup_dir, name)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return target


def _backup_name(backup_dir: Path, name: str) -> Path:
    backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return backup_dir / f"{name}.{model.utcnow():%Y%m%dT%H%M%S%fZ}"
