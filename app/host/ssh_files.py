"""Files over SFTP for ``SshHost``: atomic writes with the safety of ``app.fileops.atomic_write``, and
SFTP requests one thread at a time.

Writes are atomic as local ones are (``app.fileops.atomic_write``): a temp file in the same folder
(``.NAME.XXXXXXXX.hardstep-tmp``, made 0600 before anything is written into it), fsynced
(the ``fsync@openssh.com`` extension), then renamed over the file (``posix-rename@openssh.com``).
An existing file's mode and owner carry over (SFTP), and then its ACL and extended attributes
(SELinux label included) by GNU ``cp --attributes-only --preserve=mode,ownership,xattr`` on the
remote. Not kept: ACL and extended attributes where the remote's ``cp`` is not GNU's (BusyBox),
and the owner when hardstep is not root there (as locally); the folder is not fsynced after the
rename (SFTP cannot open a folder).
"""

from __future__ import annotations

import functools
import posixpath
import secrets
import stat
from contextlib import suppress
from typing import TYPE_CHECKING

from app.errors import HardstepError

if TYPE_CHECKING:
    import paramiko

    from app.host.base import Host

_NOT_GNU = ("unrecognized option", "invalid option", "unknown option")  # a cp without --attributes-only


def atomic_write(files: "paramiko.SFTPClient", real: str, data: bytes, host: "Host") -> None:
    """Replace the file at ``real`` (links already followed) through a temp file and a rename;
    ``host`` runs the ``cp`` that carries ACL and extended attributes over."""
    folder, name = posixpath.split(real)
    make_folders(files, folder)
    try:
        original = files.stat(real)
    except FileNotFoundError:
        original = None
    temp = f"{folder}/.{name}.{secrets.token_hex(4)}.hardstep-tmp"  # as mkstemp names them in fileops
    try:
        with files.open(temp, "wbx") as handle:
            handle.chmod(0o600)  # before the data: a config may hold secrets
            handle.write(data)
            _fsync(files, handle)
        _carry_over(files, real, temp, original, host)
        files.posix_rename(temp, real)
    except BaseException:
        with suppress(OSError):
            files.remove(temp)
        raise


def make_folders(files: "paramiko.SFTPClient", folder: str) -> None:
    try:
        if stat.S_ISDIR(files.stat(folder).st_mode or 0):
            return
    except FileNotFoundError:
        pass
    make_folders(files, posixpath.dirname(folder))
    files.mkdir(folder, 0o755)


def _carry_over(files: "paramiko.SFTPClient", real: str, temp: str, original: "paramiko.SFTPAttributes | None",
                host: "Host") -> None:
    """The original's mode and owner (SFTP), then its ACL and extended attributes (GNU cp)."""
    if original is None:
        files.chmod(temp, 0o644)  # atomic_write's default for a new file
        return
    with suppress(PermissionError):  # not root: the file becomes the SSH user's, as locally
        files.chown(temp, original.st_uid or 0, original.st_gid or 0)
    files.chmod(temp, (original.st_mode or 0) & 0o7777)  # after chown, which drops set-id bits
    done = host.run(["cp", "--attributes-only", "--preserve=mode,ownership,xattr", "--", real, temp])
    if done.returncode != 0 and not any(word in done.stderr for word in _NOT_GNU):
        raise HardstepError(f"cannot carry the extended attributes (ACL, SELinux label) of {real} on {host.label} "
                            f"over to its new version ({done.stderr.strip()[:160]}); nothing was written. "
                            "Connect as root, or edit the file by hand")


def _fsync(files: "paramiko.SFTPClient", handle: "paramiko.SFTPFile") -> None:
    """Flush the file to the remote disk with OpenSSH's extension, sent as paramiko sends its own
    ``posix-rename@openssh.com`` (it has no method for this one); a server without it gets none."""
    from paramiko.sftp import CMD_EXTENDED

    handle.flush()
    with suppress(OSError):
        files._request(CMD_EXTENDED, "fsync@openssh.com", handle.handle)


def one_at_a_time(method):
    """Hold the host's lock for a method that talks SFTP. paramiko's ``SFTPClient`` is not
    thread-safe: a thread waiting for its answer reads and drops whatever answer comes first
    (``SFTPClient._read_response``), so two threads asking at once can each wait forever for an
    answer the other took; the wizard's workers share one host."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked
