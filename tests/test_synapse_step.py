"""The ``synapse`` step: plans and refusals on files alone, then against a REAL Synapse (built
locally from PyPI wheels, tests/infra/synapse_image.py): every check is seen failing on an open
server first, passes after the apply, and fails again after the rollback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.actions import FileBackup

from app.config.settings import Config
from app.editors.yaml_text import YamlEditError, load_plain
from app.engine.runner import Engine
from app.errors import HardstepError
from app.host import LocalHost
from app.engine.model import Status
from app.engine.state import StateStore
from tests.fixtures_synapse import CONFIG, SERVER_NAME, TURN_SECRET, free_port, wait_for_health

DATA = Path(__file__).parent / "data" / "synapse"
ROOT = Path(__file__).resolve().parent.parent
LAB_SECRETS = ("Lq7Vx2rN9dKp4sWz8hTc3mYf6gBj1aEu5oQi0nRe", "c8#Vq&2mZ*pL9x@Tn4!rW7$dK1^hY6%bJ3=sF0~eG5+uA",
               "Xm3&Rt8#wQ*zN5vK2@pH9!cL6$fB1^yD4%gS7=jU0~aE", "T4*kP9&nW2#qZ7@xC5!mR8$vL3^hB6%dF1=gJ0~sY+eU")
SAMPLE_SECRETS = ("pg#Secret&With*Stars", "r3g#Secret&Key*With!Symbols", "m4c#ar&oon*Key", "f0rm#Secret&With",
                  "t&rn*Sh4red#Secret", "oidc#Client&Secret")


def file_engine(tmp_path: Path, text: str | None, **synapse) -> Engine:
    """An engine whose host is a folder holding ``text`` as homeserver.yaml (no Docker needed)."""
    root = tmp_path / "root"
    (root / "opt/matrix/synapse").mkdir(parents=True)
    if text is not None:
        (root / CONFIG.lstrip("/")).write_bytes(text.encode("utf-8"))
    values = {"server_name": "chat.example.org", "url": f"http://127.0.0.1:{free_port()}", **synapse}
    return Engine(LocalHost(root), Config({"synapse": values}), StateStore(tmp_path / "state"))


def by_name(results) -> dict:
    return {r.check: r for r in results}


def test_plan_on_the_sample_file_redacts_secrets_and_says_federation_is_off(tmp_path):
    sample = (DATA / "sample.yaml").read_text()
    engine = file_engine(tmp_path, sample, disable_registration=True)
    plan = engine.plan("synapse")
    edit, restart = plan.actions
    assert type(restart).__name__ == "RestartContainer" and restart.wait_url.endswith("/health")
    assert "federation_domain_whitelist: [chat.example.org] (federation off: only this server itself)" in edit.summary
    assert "enable_registration: false" in edit.summary and "allow_guest_access" not in edit.summary
    shown = json.dumps([a.describe() for a in plan.actions]) + " ".join(plan.notes)
    assert "registration_shared_secret: \"<redacted>\"" in edit.diff()  # right below enable_registration
    for secret in SAMPLE_SECRETS:
        assert secret not in shown
    assert any("federation is off" in note for note in plan.notes)
    assert load_plain(edit.after)["federation_domain_whitelist"] == ["chat.example.org"]


def test_whitelist_from_settings_comes_after_the_own_name(tmp_path):
    engine = file_engine(tmp_path, "server_name: chat.example.org\n",
                         federation_whitelist=["friends.example.net", "CHAT.example.org"])
    edit = engine.plan("synapse").actions[0]
    assert load_plain(edit.after)["federation_domain_whitelist"] == ["chat.example.org", "friends.example.net"]
    assert "(only these servers may federate)" in edit.summary
    assert not any("federation is off" in note for note in engine.plan("synapse").notes)


def test_lab_file_plan_secrets_never_shown(tmp_path):
    from app.assets import read_asset

    engine = file_engine(tmp_path, read_asset("lab", "homeserver.yaml"), disable_registration=True,
                         disable_guest_access=True, disable_turn_guests=True)
    shown = json.dumps([a.describe() for a in engine.plan("synapse").actions])
    assert all(secret not in shown for secret in LAB_SECRETS)
    assert "turn_allow_guests: false" in shown and "allow_guest_access: false" in shown


def test_plan_is_empty_when_the_file_has_it_all(tmp_path):
    text = ("server_name: chat.example.org\nallow_public_rooms_without_auth: no\n"
            "allow_public_rooms_over_federation: false\nfederation_domain_whitelist:\n- chat.example.org\n")
    engine = file_engine(tmp_path, text)
    assert engine.plan("synapse").empty
    results = by_name(engine.step("synapse").config_checks(engine.host, engine.config))
    assert results["directory closed in config"].ok and results["federation whitelist"].ok
    assert "federation off except for this server itself" in results["federation whitelist"].detail
    assert "not probed" in results["federation whitelist"].detail


def test_legacy_restrict_key_is_respected(tmp_path):
    engine = file_engine(tmp_path, "restrict_public_rooms_to_local_users: true\n")
    edit = engine.plan("synapse").actions[0]
    assert "allow_public_rooms" not in edit.after
    check = engine.step("synapse").directory_check(load_plain(edit.after))
    assert check.ok and "restrict_public_rooms_to_local_users" in check.detail


@pytest.mark.parametrize("text, words", [
    ("server_name: {{ matrix_domain }}\n", ["Jinja", "line 1"]),
    ("a: 1\nb: [1\nc: 2\n", ["not valid YAML", "line 3, column 2"]),
])
def test_bad_files_are_refused_and_nothing_written(tmp_path, text, words):
    engine = file_engine(tmp_path, text)
    with pytest.raises(YamlEditError) as caught:
        engine.plan("synapse")
    assert all(word in str(caught.value) for word in words)
    assert (tmp_path / "root" / CONFIG.lstrip("/")).read_bytes() == text.encode()
    results = by_name(engine.check("synapse"))
    assert results["homeserver.yaml readable"].ok is False and words[0] in results["homeserver.yaml readable"].detail


def test_missing_file_and_unreachable_url_are_failed_checks_not_tracebacks(tmp_path):
    engine = file_engine(tmp_path, None)
    with pytest.raises(HardstepError, match="not found; set \\[synapse\\] config"):
        engine.plan("synapse")
    results = by_name(engine.check("synapse"))
    assert results["homeserver.yaml readable"].ok is False
    assert results["publicRooms -> 401"].ok is False
    assert results["publicRooms -> 401"].detail.startswith("no answer from http://127.0.0.1:")
    assert results["register/available -> 403"].ok is None  # not ticked: skipped with the reason
    assert "not ticked" in results["register/available -> 403"].detail


def test_an_example_url_is_never_probed_and_apply_writes_nothing(tmp_path):
    engine = file_engine(tmp_path, "a: 1\n", url="https://matrix.example.com")
    results = by_name(engine.check("synapse"))
    assert results["publicRooms -> 401"].ok is False and "not probed" in results["publicRooms -> 401"].detail
    assert any("example address" in note for note in engine.plan("synapse").notes)
    outcome = engine.apply("synapse")
    assert not outcome.ok and "example address" in outcome.error and "nothing was written" in outcome.error
    assert (tmp_path / "root" / CONFIG.lstrip("/")).read_text() == "a: 1\n"


def test_rollback_restores_the_file_then_restarts(tmp_path):
    engine = file_engine(tmp_path, "a: 1\n")
    undo = [FileBackup(CONFIG, "/backups/homeserver.yaml.1", "x")]
    actions = engine.step("synapse").rollback(engine.host, engine.config, undo)
    assert [type(a).__name__ for a in actions] == ["RestoreFile", "RestartContainer"]
    assert engine.step("synapse").rollback(engine.host, engine.config, []) == []


# --- against a real Synapse ------------------------------------------------------------------

def secrets_of(config_file: Path) -> list[str]:
    settings = load_plain(config_file.read_text())
    found = [settings[k] for k in ("registration_shared_secret", "macaroon_secret_key", "form_secret")]
    return found + [TURN_SECRET]


@pytest.mark.docker
def test_open_synapse_fails_then_apply_closes_it_then_rollback_reopens(synapse):
    engine, original = synapse.engine, synapse.config_file.read_bytes()
    before = by_name(engine.check("synapse"))
    assert before["publicRooms -> 401"].ok is False and before["publicRooms -> 401"].evidence["status"] == 200
    assert "answered 200" in before["publicRooms -> 401"].detail
    assert before["register/available -> 403"].ok is False and before["register/available -> 403"].evidence["status"] == 200
    assert before["directory closed in config"].ok is False and before["federation whitelist"].ok is False
    assert before["ticked options in config"].ok is False

    plan = engine.plan("synapse")
    events = []
    outcome = engine.apply("synapse", plan, report=events.append)
    assert outcome.ok, (outcome.error, [(c.check, c.detail) for c in outcome.checks])
    after = by_name(outcome.checks)
    assert after["publicRooms -> 401"].evidence == {"url": f"{synapse.url}/_matrix/client/v3/publicRooms",
                                                   "status": 401, "errcode": "M_MISSING_TOKEN"}
    assert after["register/available -> 403"].evidence["status"] == 403
    assert all(c.ok for c in outcome.checks), [(c.check, c.detail) for c in outcome.checks]
    assert engine.status("synapse") == Status.VERIFIED
    assert engine.plan("synapse").empty
    assert load_plain(synapse.config_file.read_text())["federation_domain_whitelist"] == [SERVER_NAME]

    # No secret anywhere hardstep writes or shows.
    shown = json.dumps([a.describe() for a in plan.actions]) + json.dumps(engine.state.audit_entries()) + \
        json.dumps([c.to_json() for c in outcome.checks]) + " ".join(e.message for e in events) + \
        engine.state.state_file.read_text()
    assert "<redacted>" in plan.actions[0].diff()
    for secret in secrets_of(synapse.config_file):
        assert secret not in shown

    back = engine.rollback("synapse")
    assert back.ok, back.error
    assert synapse.config_file.read_bytes() == original
    assert by_name(engine.check("synapse"))["publicRooms -> 401"].ok is False


@pytest.mark.docker
def test_cli_apply_yes_then_check_passes(synapse):
    engine = synapse.engine
    args = ["--root", str(engine.host.root), "--config", str(engine.config.path), "--state-dir", str(engine.state.dir)]
    run = lambda *extra: subprocess.run([sys.executable, "-m", "app", *extra, *args], cwd=ROOT, capture_output=True,  # noqa: E731
                                        text=True, timeout=240, stdin=subprocess.DEVNULL, env=dict(os.environ))
    applied = run("apply", "synapse", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "PASS  synapse          publicRooms -> 401" in applied.stdout
    assert "synapse: verified" in applied.stdout
    assert all(secret not in applied.stdout + applied.stderr for secret in secrets_of(synapse.config_file))
    checked = run("check", "synapse")
    assert checked.returncode == 0, checked.stdout


@pytest.mark.docker
def test_synapse_that_does_not_come_back_fails_clearly_and_rollback_recovers(synapse):
    engine = synapse.engine
    log_config = synapse.config_dir / f"{SERVER_NAME}.log.config"
    good_log_config = log_config.read_bytes()
    log_config.write_text("version: 1\nhandlers: [this is not a logging config\n")  # Synapse exits at start
    original = synapse.config_file.read_bytes()

    outcome = engine.apply("synapse")
    assert not outcome.ok and outcome.status == Status.FAILED
    assert "Synapse did not come back" in outcome.error and "stopped after the restart" in outcome.error
    assert "'hardstep rollback synapse' restores the backup" in outcome.error
    assert str(engine.state.backup_dir("synapse")) in outcome.error
    assert "Traceback" not in outcome.error
    assert engine.state.audit_entries()[-1]["outcome"] == "failed"

    log_config.write_bytes(good_log_config)
    back = engine.rollback("synapse")
    assert back.ok, back.error
    assert synapse.config_file.read_bytes() == original
    wait_for_health(synapse.url, synapse.container, timeout=5)
