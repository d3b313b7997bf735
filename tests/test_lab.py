"""The practice lab: layout, parseable assets, prefix guard, and reruns that keep user edits."""

from __future__ import annotations

import json
import re
import stat

import pytest
import tomlkit
from ruamel.yaml import YAML

from app.config.settings import FIELDS, Config, load_config
from app.errors import ConfigError, HardstepError
from app.lab.files import build_lab, default_lab_dir, lab_engine
from app.lab.guard import LAB_PREFIX, is_lab_config

HOST_FILES = (
    "opt/traefik/traefik.toml",
    "opt/traefik/acme.json",
    "opt/matrix/synapse/homeserver.yaml",
    "opt/coturn/turnserver.conf",
    "etc/os-release",
    "etc/docker/daemon.json",
)
NAME_KEYS = [(f.section, f.key) for f in FIELDS if f.kind == "name"]


def active_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture
def lab(tmp_path):
    return build_lab(tmp_path / "lab")


def test_build_creates_the_reference_layout(lab, tmp_path):
    assert lab.dir == (tmp_path / "lab").resolve()
    for rel in HOST_FILES:
        assert (lab.root / rel).is_file(), rel
    assert (lab.root / "opt/certs").is_dir() and not any((lab.root / "opt/certs").iterdir())
    assert lab.config == lab.dir / "config.toml" and lab.config.is_file()
    assert lab.state.is_dir()
    assert "hslab-" in (lab.dir / "README.txt").read_text()
    acme = lab.root / "opt/traefik/acme.json"
    assert json.loads(acme.read_text()) == {}
    assert stat.S_IMODE(acme.stat().st_mode) == 0o600


def test_every_host_file_parses(lab):
    yaml_doc = YAML().load((lab.root / "opt/matrix/synapse/homeserver.yaml").read_text())
    assert yaml_doc["server_name"] == "matrix.hslab.test"
    toml_doc = tomlkit.parse((lab.root / "opt/traefik/traefik.toml").read_text())
    assert toml_doc["entryPoints"]["web"]["address"] == ":80"
    assert json.loads((lab.root / "etc/docker/daemon.json").read_text()) == {"log-driver": "json-file"}
    release = (lab.root / "etc/os-release").read_text().splitlines()
    assert release and all(re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S.*", line) for line in release)
    assert 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' in release
    turn = active_lines((lab.root / "opt/coturn/turnserver.conf").read_text())
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*(=\S.*)?", line) for line in turn), turn


def test_lab_config_names_only_prefixed_objects(lab):
    config = load_config(lab.config)
    assert config.exists
    for section, key in NAME_KEYS:
        assert config.value(section, key).startswith(LAB_PREFIX), (section, key)
    assert config.docker.socket_proxy_container == "hslab-dockerproxy"
    assert config.docker.private_network == "hslab-private"
    assert config.traefik.container == "hslab-proxy"
    assert config.traefik.web_network == "hslab-web"
    assert config.synapse.container == "hslab-synapse"
    assert config.turn.container == "hslab-coturn"
    assert is_lab_config(config)
    assert not is_lab_config(Config())


def test_rebuild_keeps_user_edits_and_state(lab):
    homeserver = lab.root / "opt/matrix/synapse/homeserver.yaml"
    edited = homeserver.read_text().replace(
        "allow_public_rooms_without_auth: true\n", "allow_public_rooms_without_auth: false\n", 1)
    homeserver.write_text(edited)
    (lab.state / "state.json").write_text('{"steps": {}}')
    (lab.root / "etc/os-release").unlink()  # a missing file is put back
    config_text = lab.config.read_text()

    again = build_lab(lab.dir)

    assert again == lab
    assert homeserver.read_text() == edited
    assert (lab.state / "state.json").read_text() == '{"steps": {}}'
    assert (lab.root / "etc/os-release").is_file()
    assert lab.config.read_text() == config_text


def test_image_overrides_on_new_and_existing_config(tmp_path):
    lab = build_lab(tmp_path / "lab", socket_proxy_image="hardstep-test/socket-proxy:9")
    assert load_config(lab.config).docker.socket_proxy_image == "hardstep-test/socket-proxy:9"
    assert load_config(lab.config).docker.probe_image == "hardstep-test/busybox:1"  # the lab's own by default
    lab.config.write_text(lab.config.read_text() + "# my note\n")

    build_lab(lab.dir, socket_proxy_image="hardstep-test/socket-proxy:2",
              probe_image="hardstep-test/busybox:7")

    config = load_config(lab.config)
    assert config.docker.socket_proxy_image == "hardstep-test/socket-proxy:2"
    assert config.docker.probe_image == "hardstep-test/busybox:7"
    assert is_lab_config(config)
    assert "# my note" in lab.config.read_text()


def test_invalid_image_override_writes_nothing(tmp_path):
    with pytest.raises(ConfigError):
        build_lab(tmp_path / "lab", probe_image="Not An Image")
    assert not (tmp_path / "lab" / "config.toml").exists()


def test_hand_edited_config_without_prefix_is_refused(lab):
    text = lab.config.read_text().replace('"hslab-dockerproxy"', '"dockerproxy"')
    lab.config.write_text(text)
    with pytest.raises(HardstepError, match="dockerproxy"):
        build_lab(lab.dir, probe_image="hardstep-test/busybox:1")
    assert lab.config.read_text() == text  # not "repaired" behind the user's back


def test_symlink_out_of_the_lab_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "lab" / "root" / "opt").mkdir(parents=True)
    (tmp_path / "lab" / "root" / "opt" / "matrix").symlink_to(outside)
    with pytest.raises(HardstepError, match="outside the lab"):
        build_lab(tmp_path / "lab")
    assert not any(outside.iterdir())


def test_symlinked_root_out_of_the_lab_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "lab").mkdir()
    (tmp_path / "lab" / "root").symlink_to(outside)
    with pytest.raises(HardstepError, match="outside the lab"):
        build_lab(tmp_path / "lab")
    assert not any(outside.iterdir())


def test_homeserver_is_unhardened_and_holds_secrets(lab):
    text = (lab.root / "opt/matrix/synapse/homeserver.yaml").read_text()
    doc = YAML().load(text)
    assert doc["allow_public_rooms_without_auth"] is True
    assert doc["allow_public_rooms_over_federation"] is True
    assert "federation_domain_whitelist" not in doc
    assert "#federation_domain_whitelist:\n#  - lon.example.com" in text
    assert doc["enable_registration"] is True
    assert doc["enable_registration_without_verification"] is True
    assert doc["turn_allow_guests"] is True
    assert doc["turn_user_lifetime"] == 86400000
    assert list(doc["turn_uris"]) == ["turn:turn.hslab.test?transport=udp", "turn:turn.hslab.test?transport=tcp"]
    for key in ("registration_shared_secret", "macaroon_secret_key", "form_secret", "turn_shared_secret"):
        assert isinstance(doc[key], str) and len(doc[key]) >= 32, key
    assert any(c in doc["macaroon_secret_key"] for c in "#&*")
    # SQLite, said so: the reference's Postgres block stays as a comment.
    assert doc["database"] == {"name": "sqlite3", "args": {"database": "/data/homeserver.db"}}
    assert "#    password: ${POSTGRES_PASSWORD}\n" in text and "uses SQLite instead" in text
    # Traps an editor must survive: a YAML 1.1 octal, a `yes`, mixed sequence indentation.
    assert "suppress_key_server_warning: yes\n" in text
    assert "\n- \"#general:matrix.hslab.test\"\n" in text and "\n  - port: 8008\n" in text
    assert 250 <= len(text.splitlines()) <= 420


def test_turnserver_has_no_active_tls(lab):
    text = (lab.root / "opt/coturn/turnserver.conf").read_text()
    keys = {line.split("=", 1)[0].strip() for line in active_lines(text)}
    assert not keys & {"cert", "pkey", "tls-listening-port", "no-tlsv1", "no-cli", "no-tcp-relay"}
    assert {"listening-port", "realm", "use-auth-secret", "static-auth-secret", "min-port",
            "max-port", "fingerprint"} <= keys
    assert "#pkey=opt/turn.matrix.example.com/turn.matrix.example.com.key\n" in text
    assert text.count("#denied-peer-ip=") >= 3
    # Synapse and coTURN share the TURN secret.
    secret = re.search(r"^static-auth-secret=(\S+)$", text, re.M).group(1)
    homeserver = YAML().load((lab.root / "opt/matrix/synapse/homeserver.yaml").read_text())
    assert homeserver["turn_shared_secret"] == secret


def test_traefik_is_unhardened(lab):
    doc = tomlkit.parse((lab.root / "opt/traefik/traefik.toml").read_text()).unwrap()
    docker = doc["providers"]["docker"]
    assert docker["exposedByDefault"] is True and docker["watch"] is True
    assert "endpoint" not in docker
    assert doc["certificatesResolvers"]["le"]["acme"]["storage"] == "/acme.json"
    assert doc["entryPoints"]["websecure"]["address"] == ":443"
    # Its own certificates come from the lab's CA, with the TLS-ALPN-01 challenge.
    assert doc["certificatesResolvers"]["le"]["acme"]["caServer"] == "https://hslab-pebble:14000/dir"
    assert "tlsChallenge" in doc["certificatesResolvers"]["le"]["acme"]


def test_lab_config_aims_at_the_labs_own_engine_names_and_ca(lab):
    config = load_config(lab.config)
    engine = lab_engine(lab.dir)
    assert config.docker.endpoint == f"unix://{lab.dir}/engine/docker.sock" == engine.url
    assert config.docker.socket == str(engine.socket)
    assert config.docker.restart_command == ["/bin/sh", str(lab.dir / "engine" / "restart.sh")]
    assert config.synapse.url == "https://matrix.hslab.test" and config.turn.domain == "turn.hslab.test"
    assert sorted(config.checks.resolve) == sorted(f"{name}.hslab.test={engine.address}"
                                                   for name in ("matrix", "element", "turn"))
    assert engine.address.startswith("169.254.") and engine.peer_address != engine.address
    assert config.checks.ca_file == "/etc/hslab/lab-ca.pem"
    assert config.acme.server == "https://hslab-pebble:14000/dir"


def test_synapse_gets_a_signing_key_of_its_own_and_a_log_config(lab, tmp_path):
    key = lab.root / "opt/matrix/synapse/matrix.hslab.test.signing.key"
    assert re.fullmatch(r"ed25519 a_lab [A-Za-z0-9+/]{43}\n", key.read_text())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    other = build_lab(tmp_path / "other")
    assert (other.root / "opt/matrix/synapse/matrix.hslab.test.signing.key").read_text() != key.read_text()
    log_config = YAML().load((lab.root / "opt/matrix/synapse/matrix.hslab.test.log.config").read_text())
    assert log_config["root"]["handlers"] == ["console"]
    assert "Element" in (lab.root / "opt/element/index.html").read_text()


def test_default_lab_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_lab_dir() == tmp_path / "hardstep" / "lab"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_lab_dir() == tmp_path / ".local" / "share" / "hardstep" / "lab"


def test_a_lab_from_before_a_new_name_setting_gets_it_prefixed(tmp_path):
    """A setting added by a later hardstep is filled in with the prefix, not refused."""
    lab = build_lab(tmp_path / "lab")
    text = lab.config.read_text()
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("restricted_network")]
    lab.config.write_text("".join(lines))
    build_lab(tmp_path / "lab")
    assert load_config(lab.config).sandbox.restricted_network == "hslab-restricted"


def test_a_sandbox_list_naming_a_real_container_is_refused(tmp_path):
    lab = build_lab(tmp_path / "lab")
    lab.config.write_text(lab.config.read_text().replace("containers = []", 'containers = ["synapse"]'))
    with pytest.raises(HardstepError, match=r"\[sandbox\] containers"):
        build_lab(tmp_path / "lab")


def test_the_lab_engine_never_signals_a_process_that_took_its_pid(tmp_path):
    """A crash leaves the lab dockerd's pidfile behind, and its number goes to another process:
    the restart script (the daemon step's restart_command) and ``hardstep lab --stop`` leave that
    process alone, and still stop the lab's own dockerd (its config file among its arguments).
    No dockerd starts here: the lab's network namespace does not exist, so nsenter refuses."""
    import subprocess
    import time

    from app.host import LocalHost
    from app.lab.engine import LabEngine

    lab = LabEngine(tmp_path / "lab", tmp_path / "root", LocalHost())
    lab.dir.mkdir(parents=True)
    lab._write_restart_script()
    bystander = subprocess.Popen(["sleep", "60"])
    ours = subprocess.Popen(["sh", "-c", "trap 'exit 0' TERM; sleep 60 & wait", "dockerd", "--config-file",
                             str(lab.config_file)])
    try:
        time.sleep(0.2)
        lab.pidfile.write_text(f"{bystander.pid}\n")
        subprocess.run(lab.restart_argv(), timeout=30, check=True)
        lab.stop()
        assert bystander.poll() is None, "a process that only took the number was signalled"
        lab.pidfile.write_text(f"{ours.pid}\n")
        restart = subprocess.Popen(lab.restart_argv())
        assert ours.wait(timeout=10) == 0  # the lab's own dockerd is stopped (and reaped: the script waits for it)
        assert restart.wait(timeout=30) == 0
    finally:
        for proc in (bystander, ours):
            proc.kill()
            proc.wait()
