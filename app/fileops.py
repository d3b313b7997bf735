"""Safe file writes: atomic replace with mode, owner, ACLs and SELinux labels kept, and timestamped
backups."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from app.engine import model
from app.errors import HardstepError


def atomic_write(path: Path, data: str | bytes, default_mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename.

    A reader sees the old file or the new one, never half of one. An existing file's mode,
    owner and extended attributes (its ACL, its SELinux label) carry over to the new one; a new
    file gets ``default_mode``.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = path.stat()
        mode, owner, attrs = st.st_mode & 0o7777, (st.st_uid, st.st_gid), _xattrs(path)
    except FileNotFoundError:
        mode, owner, attrs = default_mode, None, {}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".hardstep-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(tmp, *owner)
        if owner is not None:  # after chmod: a chmod rewrites the ACL's mask
            _copy_xattrs(attrs, tmp, path)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _xattrs(path: Path) -> dict[str, bytes]:
    try:
        return {name: os.getxattr(path, name) for name in os.listxattr(path)}
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENOSYS):  # a file system without them
            return {}
        raise


def _copy_xattrs(attrs: dict[str, bytes], tmp: str, path: Path) -> None:
    """Give the temp file exactly ``path``'s extended attributes: its own, and no ACL the folder's
    default ACL gave the temp file."""
    try:
        for name in _xattrs(Path(tmp)).keys() - attrs.keys():
            if name.startswith("system.posix_acl"):
                os.removexattr(tmp, name)
        for name, value in attrs.items():
            os.setxattr(tmp, name, value)
    except OSError as exc:
        raise HardstepError(f"cannot carry the extended attributes (ACL, SELinux label) of {path} over to "
                            f"its new version ({exc.strerror}); nothing was written. Run hardstep as root, "
                            "or edit the file by hand") from None


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
