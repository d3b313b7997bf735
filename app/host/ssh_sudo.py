"""What an ``SshHost`` runs as on the remote, decided once per connection: ``root`` (the SSH user
is root), ``sudo`` (not root, and ``sudo -n true`` works: password-less sudo, as BurmillaOS's
``rancher`` has) or ``user`` (sudo asks for a password or is not there: hardstep never prompts, and
goes on with the user's own rights).

As ``sudo``, files go over an SFTP session served by the remote's own ``sftp-server`` run through
``sudo -n`` (the program sshd names for its ``sftp`` subsystem), and commands run under
``sudo -n --``: every safety of the root case holds (owner kept, atomic rename, attributes).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import HardstepError
from app.host.ssh_exec import exec_command

if TYPE_CHECKING:
    import paramiko

ROOT, SUDO, USER = "root", "sudo", "user"
# uid, name, then (not root) whether sudo asks for no password: root's logins leave sudo's log alone.
PROBE = 'id -u && id -un && { [ "$(id -u)" -eq 0 ] || sudo -n true; }'
# The sftp-server sshd runs (``sshd -T`` says what its config makes of ``Subsystem sftp``; its config
# file when sshd -T cannot run), else where distributions put it; ``internal-sftp`` is not a program.
_SFTP_SERVER = r"""for p in "$(sshd -T 2>/dev/null | sed -n 's/^subsystem sftp \([^ ]*\).*/\1/p')" \
  "$(sed -n 's/^[[:space:]]*[Ss]ubsystem[[:space:]]\{1,\}sftp[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' \
     /etc/ssh/sshd_config 2>/dev/null | head -n 1)" \
  /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server
do [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; exit 0; }; done; exit 1"""
FIND_SFTP_SERVER = f"sudo -n sh -c {shlex.quote(_SFTP_SERVER)}"

@dataclass(frozen=True)
class Privilege:
    kind: str  # ROOT, SUDO or USER
    user: str  # the SSH user's name on the remote
    sudo_error: str = ""  # USER: why ``sudo -n true`` failed, in sudo's words
    sftp_server: str = ""  # SUDO: the program that serves SFTP as root

    @property
    def said(self) -> str:
        """The privilege in words, for the wizard's host line."""
        if self.kind == ROOT:
            return "as root"
        if self.kind == SUDO:
            return f"as {self.user}, root through sudo"
        return (f"as {self.user}, without root: sudo asks for a password, so files only root may change "
                "will be refused")

    def as_root(self, command: str) -> str:
        """``command`` (a shell command line) run as root: under ``sudo -n`` as ``sudo``."""
        return f"sudo -n -- sh -c {shlex.quote(command)}" if self.kind == SUDO else command

    def denied(self, what: str, path: str, where: str) -> HardstepError:
        """The error for a file the user may not read or write."""
        fix = "connect as root (User root in ~/.ssh/config, or root@ in the host's address)"
        if self.kind == USER:
            fix += f", or give {self.user} password-less sudo (`sudo -n` failed: {self.sudo_error})"
        return HardstepError(f"permission denied {what} {path} on {where}; {fix}")


def decide(transport: "paramiko.Transport", where: str, timeout: float) -> Privilege:
    """Ask the remote who the SSH user is and whether sudo works without a password."""
    def run(command: str) -> tuple[int | None, bytes, bytes]:
        return exec_command(transport, command, 30, None, timeout)

    code, out, err = run(PROBE)
    lines = out.decode("utf-8", "replace").split()
    if code is None or len(lines) < 2:
        raise HardstepError(f"cannot tell which user hardstep is on {where} (`id -u` failed: {_last_line(err)}); "
                            "check the SSH user's login shell there")
    uid, user = lines[:2]
    if uid == "0":
        return Privilege(ROOT, user)
    if code != 0:
        return Privilege(USER, user, sudo_error=_last_line(err) or f"exit status {code}")
    code, out, err = run(FIND_SFTP_SERVER)
    if code != 0 or not out.strip():
        raise HardstepError(f"{user} on {where} has password-less sudo, but no sftp-server to edit files as root "
                            "with (none named by `sshd -T`, none at the usual paths); install it there (Debian: "
                            "apt-get install openssh-sftp-server), or connect as root")
    return Privilege(SUDO, user, sftp_server=out.decode("utf-8", "replace").strip())


def _last_line(err: bytes) -> str:
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:160] if lines else ""


def sudo_sftp(transport: "paramiko.Transport", privilege: Privilege, timeout: float) -> "paramiko.SFTPClient":
    """An SFTP session whose server runs as root: the remote's sftp-server under ``sudo -n``."""
    import paramiko

    channel = transport.open_session(timeout=timeout)
    channel.exec_command(f"sudo -n -- {shlex.quote(privilege.sftp_server)}")
    return paramiko.SFTPClient(channel)
