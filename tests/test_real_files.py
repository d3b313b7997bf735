"""Files as they really are on hosts: a config reached through a symlink (homeserver.yaml in a
Docker volume, linked from /opt), ACLs and extended attributes (SELinux labels), and a file the
user edited by hand after hardstep's edit. Real files, real symlinks, real ``setfacl``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.engine.actions import ApplyContext, EditFile, FileBackup
from app.engine.model import Event
from app.errors import HardstepError
from app.fileops import atomic_write
from app.host import LocalHost

LINK = "/opt/matrix/synapse/homeserver.yaml"
VOLUME = "/var/lib/docker/volumes/synapse_data/_data"
TARGET = f"{VOLUME}/homeserver.yaml"
OLD = "server_name: chat.example.org\nallow_guest_access: true\n"
NEW = "server_name: chat.example.org\nallow_guest_access: false\n"


def edit_then_roll_back(host: LocalHost, path: str, backups: Path, between=None) -> tuple[list[Event], list]:
    """Apply hardstep's edit of ``path``, run ``between`` (the user's hand), then roll it back
    the way the engine does (the undo record's reverse actions). Returns the logged events and
    the rollback actions."""
    events: list[Event] = []
    ctx = ApplyContext("synapse", backups, events.append)
    edit = EditFile(path, host.read_text(path), NEW)
    (undo,) = edit.prepare(host, ctx)
    assert edit.apply(host, ctx) == [undo]
    if between:
        between()
    undo = FileBackup.from_json(undo.to_json())  # through state.json, as a real rollback reads it
    actions = undo.reverse(host, None, [undo])
    for action in actions:
        action.apply(host, ctx)
    return events, actions


@pytest.mark.parametrize("target", [TARGET, "../../../" + TARGET.lstrip("/")], ids=["absolute", "relative"])
def test_a_symlinked_config_is_edited_and_restored_through_the_link(tmp_path, target):
    root = tmp_path / "root"
    (root / VOLUME.lstrip("/")).mkdir(parents=True)
    (root / TARGET.lstrip("/")).write_text(OLD)
    (root / "opt/matrix/synapse").mkdir(parents=True)
    link = root / LINK.lstrip("/")
    # An absolute target names a path on the host, so under --root it lives under the root.
    link.symlink_to(target)
    host = LocalHost(root)
    assert host.read_text(LINK) == OLD and host.exists(LINK)

    seen: dict[str, str] = {}

    def look():
        seen["target"] = (root / TARGET.lstrip("/")).read_text()
        seen["is_link"] = str(link.is_symlink())

    edit_then_roll_back(host, LINK, tmp_path / "backups", between=look)
    assert seen == {"target": NEW, "is_link": "True"}, "the edit lands in the volume, the link stays"
    (backup,) = [p for p in (tmp_path / "backups").iterdir() if p.read_text() == OLD]
    assert backup.name.startswith("homeserver.yaml.")
    assert link.is_symlink() and os.readlink(link) == target
    assert (root / TARGET.lstrip("/")).read_text() == OLD, "rollback restored the volume's file"
    assert [p.name for p in (root / VOLUME.lstrip("/")).iterdir()] == ["homeserver.yaml"]
    assert sorted(p.name for p in link.parent.iterdir()) == ["homeserver.yaml"]
    assert host.machine_path(LINK) == str(root / TARGET.lstrip("/")), "what the engine is handed"


def test_a_link_never_leads_out_of_the_root(tmp_path):
    """Links are resolved as the host itself would (its root is --root): ``..`` stops at the root,
    so nothing outside it is read or written, however the link is made."""
    outside = tmp_path / "outside.conf"
    outside.write_text("not the lab's\n")
    root = tmp_path / "root"
    (root / "opt").mkdir(parents=True)
    (root / "opt/escape.conf").symlink_to("../../../../../outside.conf")
    (root / "opt/machine.conf").symlink_to(outside)  # the machine's absolute path: a host path
    host = LocalHost(root)
    assert host.read_text("/opt/escape.conf") is None and host.read_text("/opt/machine.conf") is None
    host.write_text("/opt/escape.conf", "inside\n")
    assert (root / "outside.conf").read_text() == "inside\n"
    assert outside.read_text() == "not the lab's\n"
    assert (root / "opt/escape.conf").is_symlink()


def test_a_link_loop_is_a_clear_error(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/a.conf").symlink_to("b.conf")
    (root / "etc/b.conf").symlink_to("/etc/a.conf")
    with pytest.raises(HardstepError, match="symbolic links.*loop"):
        LocalHost(root).read_text("/etc/a.conf")


def getfacl(path: Path) -> str:
    return subprocess.run(["getfacl", "--absolute-names", "--omit-header", str(path)], check=True,
                          capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("setfacl") is None, reason="Debian's acl package is missing: run 'make setup'")
def test_atomic_replace_keeps_acls_and_extended_attributes(tmp_path):
    target = tmp_path / "homeserver.yaml"
    target.write_text(OLD)
    os.chmod(target, 0o640)
    # The synapse user of the container reads it through an ACL; a label as SELinux keeps it.
    subprocess.run(["setfacl", "-m", "u:991:r,g:991:rw", str(target)], check=True)
    os.setxattr(target, "user.origin", b"compose")
    if os.geteuid() == 0:  # security.* and trusted.* need CAP_SYS_ADMIN without an LSM
        os.setxattr(target, "security.selinux", b"system_u:object_r:container_file_t:s0\0")
        os.setxattr(target, "trusted.hardstep", b"1")
    acl, attrs = getfacl(target), {n: os.getxattr(target, n) for n in os.listxattr(target)}
    mode = target.stat().st_mode & 0o7777  # 0660 now: with an ACL the group bits are its mask
    assert "user:991:r--" in acl and "system.posix_acl_access" in attrs

    atomic_write(target, NEW)
    assert target.read_text() == NEW
    assert getfacl(target) == acl
    assert {n: os.getxattr(target, n) for n in os.listxattr(target)} == attrs
    assert target.stat().st_mode & 0o7777 == mode


def test_a_new_file_takes_no_acl_it_did_not_have(tmp_path):
    """The folder's default ACL would give the temp file an access ACL the old file never had."""
    if shutil.which("setfacl") is None:
        pytest.skip("Debian's acl package is missing: run 'make setup'")
    target = tmp_path / "plain.conf"
    target.write_text("a\n")
    os.chmod(target, 0o644)
    subprocess.run(["setfacl", "-d", "-m", "u:991:rwx", str(tmp_path)], check=True)
    atomic_write(target, "b\n")
    assert "system.posix_acl_access" not in os.listxattr(target)
    assert target.stat().st_mode & 0o7777 == 0o644


def test_rollback_after_a_hand_edit_keeps_the_hand_edited_file_and_says_so(tmp_path):
    root = tmp_path / "root"
    host = LocalHost(root)
    host.write_text(TARGET, OLD)
    hand = NEW + "# the admin's own line\n"
    backups = tmp_path / "backups"
    events, actions = edit_then_roll_back(host, TARGET, backups,
                                          between=lambda: (root / TARGET.lstrip("/")).write_text(hand))
    (restore,) = actions
    assert "edited by hand" in restore.summary, "the rollback plan says so before it runs"
    assert host.read_text(TARGET) == OLD
    (kept,) = [p for p in backups.iterdir() if p.read_text() == hand]
    assert "edited-by-hand" in kept.name
    (warning,) = [e for e in events if e.level == "warning"]
    assert "edited by hand" in warning.message and str(kept) in warning.message
    assert str(kept) in restore.command()


def test_rollback_of_an_untouched_edit_says_nothing_of_hands(tmp_path):
    host = LocalHost(tmp_path / "root")
    host.write_text(TARGET, OLD)
    events, (restore,) = edit_then_roll_back(host, TARGET, tmp_path / "backups")
    assert host.read_text(TARGET) == OLD
    assert "by hand" not in restore.summary and not [e for e in events if e.level == "warning"]
    assert not [p for p in (tmp_path / "backups").iterdir() if "edited-by-hand" in p.name]


def test_a_created_file_edited_by_hand_is_kept_before_it_is_removed(tmp_path):
    host = LocalHost(tmp_path / "root")
    backups = tmp_path / "backups"
    events, (remove,) = edit_then_roll_back(
        host, "/etc/new.conf", backups, between=lambda: host.write_text("/etc/new.conf", "mine\n"))
    assert host.read_text("/etc/new.conf") is None and "edited by hand" in remove.summary
    (kept,) = [p for p in backups.iterdir() if p.read_text() == "mine\n"]
    assert any(str(kept) in e.message for e in events if e.level == "warning")
