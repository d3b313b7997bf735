"""The ``coturn-tls`` step: the version table and the plan's rules on files alone, then against a
REAL coTURN (Debian's coturn 4.6.1, tests/infra/coturn.py) with certificates made here: every
live check is seen failing (no TLS listener, expired, another name, untrusted) and passing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trustme

from app.config.settings import Config
from app.steps.coturn_tls.coturn import RestartChecked, SignalContainer, parse_version, tls_options
from app.editors.turnserver import set_options, values
from app.editors.yaml_text import load_plain, set_keys
from app.engine.runner import Engine
from app.errors import HardstepError
from app.host import LocalHost
from app.engine.model import Status
from app.engine.state import StateStore
from app.steps.coturn_tls.step import CoturnTls, certificate_paths_problem
from app.steps.coturn_tls.wanted import turn_uris, wanted_conf
from app.net.tls import fetch_certificate, pem_certificates
from tests.infra.certs import write_pair
from tests.infra.coturn import CONF, DOMAIN, coturn  # noqa: F401  (fixture)

LAB_TURN_SECRET = "Lq7Vx2rN9dKp4sWz8hTc3mYf6gBj1aEu5oQi0nRe"
HS = "/opt/matrix/synapse/homeserver.yaml"


def by_name(results) -> dict:
    return {r.check: r for r in results}


def engine_for(root: Path, state: Path, **sections) -> Engine:
    return Engine(LocalHost(root), Config(sections), StateStore(state))


# --- without Docker ----------------------------------------------------------------------------

@pytest.mark.parametrize("version, dtls, sets, unsets", [
    ((4, 6, 1), True, {"no-tlsv1", "no-tlsv1_1"}, {"no-tls", "no-dtls"}),
    ((4, 6, 1), False, {"no-tlsv1", "no-tlsv1_1", "no-dtls"}, {"no-tls"}),
    ((4, 7, 0), True, set(), {"no-tls", "no-dtls"}),
    ((4, 16, 9), True, set(), {"no-tls", "no-dtls"}),
    ((4, 17, 0), True, {"dtls"}, {"no-tls", "no-dtls"}),
    ((4, 17, 0), False, set(), {"no-tls", "no-dtls", "dtls"}),
    (None, True, set(), {"no-tls", "no-dtls"}),
])
def test_version_table(version, dtls, sets, unsets):
    options = tls_options(version, dtls)
    assert set(options.set) == sets and set(options.unset) == unsets
    assert bool(options.notes) == (version is None)


def test_version_parsing():
    assert parse_version("4.6.1\n") == (4, 6, 1)
    assert parse_version("Version Coturn-4.17.2 'Gorst'") == (4, 17, 2)
    assert parse_version("turnserver: unknown option") is None


def test_uris_follow_dtls_plain_fallback_and_ports():
    config = Config({"turn": {"domain": "turn.example.org"}})
    assert turn_uris(config) == ["turns:turn.example.org?transport=tcp", "turns:turn.example.org?transport=udp"]
    config = Config({"turn": {"domain": "turn.example.org", "dtls": False, "keep_plain_uris": True, "tls_port": 443}})
    assert turn_uris(config, 3479) == ["turns:turn.example.org:443?transport=tcp",
                                       "turn:turn.example.org:3479?transport=udp", "turn:turn.example.org:3479?transport=tcp"]


def test_ticked_hardening_options_are_written():
    config = Config({"turn": {"no_tcp_relay": True, "no_cli": True, "deny_private_peers": True}})
    wanted = wanted_conf(config, {})
    assert wanted["no-tcp-relay"] is True and wanted["no-cli"] is True and "no-multicast-peers" not in wanted
    assert "192.168.0.0-192.168.255.255" in wanted["denied-peer-ip"] and "::1" in wanted["denied-peer-ip"]


def test_certificate_outside_the_shared_folder_is_refused_with_what_to_set(tmp_path):
    config = Config({"turn": {"key": "/etc/ssl/private/turn.key"}})
    problem = certificate_paths_problem(config)
    assert "[turn] key = /etc/ssl/private/turn.key" in problem and "Set [turn] key to a file in /opt/certs" in problem
    engine = engine_for(tmp_path / "root", tmp_path / "state", turn={"key": "/etc/ssl/private/turn.key"})
    with pytest.raises(HardstepError, match="not a file in \\[turn\\] certs_dir"):
        engine.plan("coturn-tls")


@pytest.mark.parametrize("problem", ["world-readable", "other key", "missing"])
def test_certificate_file_checks_fail(tmp_path, problem):
    ca, certs = trustme.CA(), tmp_path / "root/opt/certs"
    write_pair(certs, ca, DOMAIN, key_mode=0o644 if problem == "world-readable" else 0o600)
    if problem == "other key":
        write_pair(tmp_path / "other", ca, DOMAIN)
        (certs / "privkey.pem").write_bytes((tmp_path / "other/privkey.pem").read_bytes())
    if problem == "missing":
        (certs / "privkey.pem").unlink()
    engine = engine_for(tmp_path / "root", tmp_path / "state", turn={"domain": DOMAIN})
    results = by_name(CoturnTls().file_checks(engine.host, engine.config))
    assert results["certificate file"].ok and "expires" in results["certificate file"].detail
    failing = {"world-readable": "key not world-readable", "other key": "key matches certificate",
               "missing": "key not world-readable"}[problem]
    assert results[failing].ok is False
    assert {"world-readable": "mode 0644: others can read it", "other key": "does NOT belong",
            "missing": "does not exist"}[problem] in results[failing].detail
    write_pair(certs, ca, DOMAIN)
    assert all(r.ok for r in CoturnTls().file_checks(engine.host, engine.config))


def test_secrets_next_to_changed_lines_are_redacted_in_the_diff():
    from app.engine.actions import EditFile

    text = ("static-auth-secret=t0p#Secret\nuser=alice:hunter2\npkey-pwd=k3y&pw\n#cert=/x.pem\n"
            "cli-password=cl1\n#no-cli\n")
    after = set_options(text, {"cert": "/opt/certs/fullchain.pem", "no-cli": True})
    diff = EditFile(CONF, text, after).diff()
    assert "+cert=/opt/certs/fullchain.pem" in diff and "+no-cli" in diff
    assert diff.count("<redacted>") == 3 and "user=alice:<redacted>" in diff  # 3 lines of context
    assert not any(secret in diff for secret in ("t0p#Secret", "hunter2", "k3y&pw", "cl1"))


# --- against a real coTURN ---------------------------------------------------------------------

def hardened_conf(coturn_, config: Config) -> None:
    """Write the TLS settings straight into the file (no apply) and restart coTURN."""
    text = coturn_.conf.read_text()
    coturn_.conf.write_text(set_options(text, wanted_conf(config, {}), ["no-tls", "no-dtls"]))
    coturn_.restart()


@pytest.mark.docker
def test_expired_another_name_and_untrusted_certificates_fail_with_clear_details(coturn, tmp_path):
    config = Config({"turn": coturn.values})
    host, step = LocalHost(coturn.root), CoturnTls()
    hardened_conf(coturn, config)  # no certificate yet: coturn starts without TLS
    before = by_name(step.live_checks(host, config))
    assert before["TLS handshake"].ok is False and "no TLS handshake with 127.0.0.1" in before["TLS handshake"].detail
    assert before["DTLS handshake"].ok is False

    write_pair(coturn.certs, coturn.ca, DOMAIN, expired=True)
    coturn.restart()
    check = by_name(step.live_checks(host, config))["TLS handshake"]
    assert check.ok is False and "expired on" in check.detail and check.evidence["days_left"] < 0

    write_pair(coturn.certs, coturn.ca, "other.hs.test")
    coturn.restart()
    check = by_name(step.live_checks(host, config))["TLS handshake"]
    assert check.ok is False and f"is for other.hs.test, not {DOMAIN}" in check.detail

    write_pair(coturn.certs, coturn.ca, DOMAIN, days=5)
    coturn.restart()
    untrusted = Config({"turn": {**coturn.values, "ca_file": ""}})
    check = by_name(step.live_checks(host, untrusted))["TLS handshake"]
    assert check.ok is False and "not trusted by this machine's trust store" in check.detail
    results = by_name(step.live_checks(host, config))
    assert results["TLS handshake"].ok is True and results["TLS handshake"].detail.startswith("warning: expires in")
    assert results["DTLS handshake"].ok is True and DOMAIN in results["DTLS handshake"].detail


@pytest.mark.docker
def test_renewed_certificate_only_gets_sigusr2_and_coturn_serves_it(coturn, tmp_path):
    root = coturn.root
    (root / HS.lstrip("/")).parent.mkdir(parents=True)
    config = Config({"turn": coturn.values, "synapse": {"config": HS, "url": "http://127.0.0.1:9"}})
    (root / HS.lstrip("/")).write_text(set_keys("server_name: hs.test\n", {"turn_uris": turn_uris(config)}))
    hardened_conf(coturn, config)
    text = coturn.conf.read_text()
    coturn.conf.write_text(set_options(text, {"no-tlsv1": True, "no-tlsv1_1": True}))
    write_pair(coturn.certs, coturn.ca, DOMAIN)
    coturn.restart()
    engine = Engine(LocalHost(root), config, StateStore(tmp_path / "state"))
    assert engine.plan("coturn-tls").empty

    renewed = write_pair(coturn.certs, coturn.ca, DOMAIN)
    plan = engine.plan("coturn-tls")
    assert [type(a) for a in plan.actions] == [SignalContainer]
    assert plan.actions[0].command() == f"docker kill --signal=SIGUSR2 {coturn.container.name}"
    started = coturn.container.attrs["State"]["StartedAt"]
    outcome = engine.apply("coturn-tls", plan)
    served = fetch_certificate("127.0.0.1", coturn.port, DOMAIN)
    assert served == pem_certificates(renewed.read_bytes())[0]
    coturn.container.reload()
    assert coturn.container.attrs["State"]["StartedAt"] == started  # reloaded, not restarted
    assert by_name(outcome.checks)["TLS handshake"].ok, outcome.checks
    assert engine.plan("coturn-tls").empty


@pytest.mark.docker
def test_whole_apply_with_real_coturn_and_synapse_then_rollback(coturn, synapse, tmp_path):
    root = coturn.root
    original_conf, original_hs = coturn.conf.read_bytes(), synapse.config_file.read_bytes()
    write_pair(coturn.certs, coturn.ca, DOMAIN)
    values_ = synapse.engine.config.to_dict()
    values_["turn"].update(coturn.values, no_cli=True, deny_private_peers=True)
    engine = Engine(LocalHost(root), Config(values_), StateStore(tmp_path / "turn-state"))

    before = by_name(engine.check("coturn-tls"))
    assert before["TLS handshake"].ok is False and before["DTLS handshake"].ok is False
    assert before["turnserver.conf has TLS"].ok is False and before["turn_uris announce turns:"].ok is False
    assert before["certificate file"].ok and before["key matches certificate"].ok

    plan = engine.plan("coturn-tls")
    kinds = [type(a).__name__ for a in plan.actions]
    assert kinds == ["EditFile", "RestartChecked", "EditFile", "RestartContainer"]
    summary = plan.actions[0].summary
    assert "coturn 4.6.1" in summary and "no-tlsv1" in summary and "cert=/opt/certs/fullchain.pem" in summary
    assert "was pkey" not in summary  # the lab's relative pkey is only a comment
    assert any("coturn 4.6.1 (read from turnserver --version)" in note for note in plan.notes)
    shown = json.dumps([a.describe() for a in plan.actions])
    assert LAB_TURN_SECRET not in shown
    assert "turns:turn.hs.test?transport=tcp" in plan.actions[2].diff()

    outcome = engine.apply("coturn-tls", plan)
    assert outcome.ok, (outcome.error, [(c.check, c.detail) for c in outcome.checks if not c.ok])
    after = by_name(outcome.checks)
    assert after["TLS handshake"].ok and "days left" in after["TLS handshake"].detail
    assert after["DTLS handshake"].ok and after["turn_uris announce turns:"].ok
    assert engine.status("coturn-tls") == Status.VERIFIED
    assert engine.plan("coturn-tls").empty
    assert load_plain(synapse.config_file.read_text())["turn_uris"] == [
        "turns:turn.hs.test?transport=tcp", "turns:turn.hs.test?transport=udp"]
    assert values(coturn.conf.read_text())["no-cli"] == [None]

    back = engine.rollback("coturn-tls")
    assert back.ok, back.error
    assert coturn.conf.read_bytes() == original_conf and synapse.config_file.read_bytes() == original_hs
    assert by_name(engine.check("coturn-tls"))["TLS handshake"].ok is False


@pytest.mark.docker
def test_a_file_mounted_conf_is_recreated_not_restarted(coturn, tmp_path, docker_client, unique, images):
    config_dir = coturn.root / "opt/coturn"
    container = docker_client.containers.run(
        images["tools"], ["turnserver", "-c", "/etc/turnserver.conf"], name=unique("coturn-file"), detach=True,
        volumes={str(config_dir / "turnserver.conf"): {"bind": "/etc/turnserver.conf", "mode": "ro"}})
    step = CoturnTls()
    host = LocalHost(coturn.root)
    recreate = step._reload(host, Config({"turn": {**coturn.values, "container": container.name}}), container)
    restart = step._reload(host, Config({"turn": coturn.values}), coturn.container)
    assert type(recreate).__name__ == "ReplaceContainer" and "file bind mount" in recreate.diff()
    assert isinstance(restart, RestartChecked)
