"""File edits: backup first, atomic replace, mode and owner kept; diffs never show secrets."""

import os

from app.engine.actions import ApplyContext, EditFile, RestoreFile, back_up
from app.fileops import atomic_write
from app.host import LocalHost
from app.redact import REDACTED, redact


def test_atomic_write_keeps_mode_and_owner(tmp_path):
    target = tmp_path / "homeserver.yaml"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    os.chown(target, 1234, 5678)
    atomic_write(target, "new\n")
    st = target.stat()
    assert target.read_text() == "new\n"
    assert st.st_mode & 0o7777 == 0o640
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert [p.name for p in tmp_path.iterdir()] == ["homeserver.yaml"], "no temp file left behind"


def test_atomic_write_failure_leaves_old_file(tmp_path, monkeypatch):
    target = tmp_path / "traefik.toml"
    target.write_text("intact\n")

    def broken_replace(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    try:
        atomic_write(target, "half")
    except OSError:
        pass
    assert target.read_text() == "intact\n"
    assert [p.name for p in tmp_path.iterdir()] == ["traefik.toml"]


def test_backup_copies_content_and_mode(tmp_path):
    host = LocalHost(tmp_path / "root")
    host.write_text("/etc/a.conf", "x=1\n")
    saved = back_up(host, "/etc/a.conf", tmp_path / "backups")
    assert saved.read_text() == "x=1\n"
    assert saved.stat().st_mode & 0o777 == 0o600  # a config file may hold secrets
    assert back_up(host, "/etc/missing.conf", tmp_path / "backups") is None


def test_edit_file_under_root_backs_up_and_restores(tmp_path):
    host = LocalHost(tmp_path / "root")
    path = "/opt/coturn/turnserver.conf"
    host.write_text(path, "realm=a\nstatic-auth-secret=hunter2\n")
    edit = EditFile(path, host.read_text(path), "realm=b\nstatic-auth-secret=hunter2\n")
    assert "hunter2" not in edit.diff()
    assert "-realm=a" in edit.diff() and "+realm=b" in edit.diff()
    ctx = ApplyContext("t", tmp_path / "backups")
    (undo,) = edit.apply(host, ctx)
    assert host.read_text(path).startswith("realm=b")
    RestoreFile(undo.path, undo.backup).apply(host, ctx)
    assert host.read_text(path) == "realm=a\nstatic-auth-secret=hunter2\n"


def test_edit_refuses_a_file_changed_since_the_plan(tmp_path):
    host = LocalHost(tmp_path)
    host.write_text("/f", "one\n")
    edit = EditFile("/f", "one\n", "two\n")
    host.write_text("/f", "someone else\n")
    try:
        edit.apply(host, ApplyContext("t", tmp_path / "b"))
        raise AssertionError("should refuse")
    except Exception as exc:  # ApplyError
        assert "changed since the plan" in str(exc)
    assert host.read_text("/f") == "someone else\n"


def test_redaction_covers_the_secret_forms():
    text = (
        'registration_shared_secret: "a#b&c*d"\n'
        "macaroon_secret_key: s3cr3t\n"
        "  password: ${POSTGRES_PASSWORD}\n"
        "static-auth-secret=hunter2\n"
        "turn_shared_secret = 'x'\n"
        "DB_URL=postgres://synapse:pw@db/synapse\n"
        "server_name: matrix.example.com\n"
    )
    out = redact(text)
    for secret in ("a#b&c*d", "s3cr3t", "POSTGRES_PASSWORD", "hunter2", "'x'", ":pw@"):
        assert secret not in out
    assert out.count(REDACTED) == 6
    assert "server_name: matrix.example.com" in out
