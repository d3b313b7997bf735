"""No secret leaves hardstep by any channel: real ``python -m app`` commands (plan, apply, check,
report in every format, rollback) against files and containers holding every secret shape, then
one search of everything they produced: stdout, stderr, every file of the state folder, the
reports. A real Synapse must accept the file with its secret shapes, a real container carries
the environment, arguments and labels, a real coTURN is asked its version for the plan.

The state folder's ``backups/`` is left out on purpose: a backup is the user's own file, kept
byte for byte (mode 0600) so that rollback can restore it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config.settings import Config, save_config
from tests.fixtures_synapse import CONFIG, TURN_SECRET, wait_for_health
from tests.infra.coturn import DOMAIN, coturn  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent


class Channels:
    """Runs hardstep commands on one host and keeps everything they print."""

    def __init__(self, root: Path, config: Path, state: Path):
        self.args = ["--root", str(root), "--config", str(config), "--state-dir", str(state)]
        self.state, self.printed, self.reports = state, [], []

    def run(self, *command: str, timeout: int = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "app", *command, *self.args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=dict(os.environ))
        self.printed += [done.stdout, done.stderr]
        return done

    def report_everywhere(self) -> None:
        """The report on stdout (Markdown) and into files in each format."""
        assert self.run("report").returncode == 0
        for fmt in ("json", "html", "md"):
            out = self.state.parent / f"report.{fmt}"
            assert self.run("report", "--format", fmt, "--output", str(out)).returncode == 0
            self.reports.append(out)

    def everything(self) -> str:
        stored = [p for p in self.state.rglob("*") if p.is_file() and "backups" not in p.relative_to(self.state).parts]
        assert self.state / "state.json" in stored
        return "\n".join(self.printed + [p.read_text(errors="replace") for p in stored + self.reports])


def leaked(secrets, text: str) -> list[str]:
    return [secret for secret in secrets if secret in text]


def write_config(path: Path, **sections) -> Path:
    save_config(Config(sections), path)
    return path


def test_a_parser_error_quoting_the_file_leaks_no_secret(tmp_path):
    """A repeated registration_shared_secret: the YAML error names both values. It must reach
    stderr, state.json and the report without them."""
    root = tmp_path / "root"
    (root / CONFIG.lstrip("/")).parent.mkdir(parents=True)
    (root / CONFIG.lstrip("/")).write_text("server_name: hs.test\nregistration_shared_secret: First-Dup-S3cret\n"
                                           "macaroon_secret_key: >-\n  Folded-Mac-S3cret\n"
                                           "registration_shared_secret: Second-Dup-S3cret\n")
    config = write_config(tmp_path / "config.toml", synapse={"config": CONFIG, "container": "hst-secrets-none",
                                                             "url": "http://127.0.0.1:9"})
    hardstep = Channels(root, config, tmp_path / "state")
    refused = hardstep.run("plan", "synapse")
    assert refused.returncode == 2 and 'duplicate key "registration_shared_secret"' in refused.stderr
    assert hardstep.run("check", "synapse").returncode == 1  # the file check fails, and is stored
    hardstep.report_everywhere()
    everything = hardstep.everything()
    assert 'duplicate key \\"registration_shared_secret\\"' in everything  # state.json says what is wrong
    assert leaked(["First-Dup-S3cret", "Second-Dup-S3cret", "Folded-Mac-S3cret"], everything) == []


# Each shape sits next to a line the synapse step changes, so the plan's diff shows it as context.
SHAPES = {
    "allow_public_rooms_without_auth: true\n": "macaroon_secret_key: >-\n  Folded#Mac-Part1\n  Folded&Mac-Part2\n",
    "allow_public_rooms_over_federation: true\n": ("email: {smtp_host: localhost, smtp_user: hs, smtp_pass: \"Smtp#Flow-Pass9\", "
                                                   "notif_from: \"hs <noreply@hs.test>\"}\nworker_replication_secret:\n"
                                                   "  Plain-Next-Line-Wrk7\n"),
    "enable_registration: true\n": "redis: {enabled: false, password: Redis-Flow-Pw3}\n#form_secret: Old-Commented-F5\n",
    "enable_registration_without_verification: true\n": ("manhole_settings: {username: m, password: 'Manhole-Pw-4x'}\n"
                                                         "x_hardstep_anchor: &turnpw Anchored-Turn-Pw6\n"),
    "allow_guest_access: true\n": ("turn_username: turnuser\nturn_password: *turnpw\n"
                                   "password_config: {enabled: true, pepper: Pepper-Spice-8q}\n"),
    "turn_allow_guests: true\n": ("recaptcha_private_key: |\n  Literal-Recaptcha-2k\n"
                                  "x_hardstep_api_keys: [Flow-List-Key1a, Flow-List-Key1b]\n"
                                  "http_proxy: http://proxyuser:Proxy%2FPw-Encoded@127.0.0.1:9/\n"),
}
SHAPE_SECRETS = ("Folded#Mac-Part1", "Folded&Mac-Part2", "Smtp#Flow-Pass9", "Plain-Next-Line-Wrk7", "Redis-Flow-Pw3",
                 "Old-Commented-F5", "Manhole-Pw-4x", "Anchored-Turn-Pw6", "Pepper-Spice-8q", "Literal-Recaptcha-2k",
                 "Flow-List-Key1a", "Flow-List-Key1b", "Proxy%2FPw-Encoded", "Pw-Encoded")


@pytest.mark.docker
def test_homeserver_secret_shapes_never_leave_through_any_channel(synapse):
    text = synapse.config_file.read_text()
    generated = [line.split(": ", 1)[1].strip('"') for line in text.splitlines()
                 if line.startswith(("registration_shared_secret:", "form_secret:"))]
    text = "\n".join(line for line in text.split("\n") if not line.startswith("macaroon_secret_key:"))
    for after, shape in SHAPES.items():
        assert after in text
        text = text.replace(after, after + shape)
    synapse.config_file.write_text(text)
    synapse.container.restart(timeout=10)
    wait_for_health(synapse.url, synapse.container)  # Synapse itself takes every shape
    engine = synapse.engine
    hardstep = Channels(engine.host.root, engine.config.path, engine.state.dir)

    planned = hardstep.run("plan", "synapse")
    assert planned.returncode == 0 and "<redacted>" in planned.stdout
    assert "+allow_public_rooms_without_auth: false" in planned.stdout and "smtp_user: hs" in planned.stdout
    applied = hardstep.run("apply", "synapse", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert hardstep.run("check", "synapse", "--json").returncode == 0
    hardstep.report_everywhere()
    rolled = hardstep.run("rollback", "synapse", "--yes")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr

    assert leaked([*SHAPE_SECRETS, *generated, TURN_SECRET], hardstep.everything()) == []


ENV = {"DB_PASSWORD": "Env-Db-Pw-51", "DATABASE_URL": "postgres://synapse:Pa/ss-Url-52@db:5432/synapse",
       "REDIS_URL": "redis://:Redis-Url-Pw53@redis:6379/0", "SMTP_PASS": "Smtp-Env-54", "SERVICE": "demo"}
ARGS = ["--static-auth-secret=Arg-Static-55", "--password=Arg-Pw-56", "user=alice:Arg-User-57", "--user",
        "bob:Arg-User-58", "--psql-userdb", "host=db dbname=coturn password=Arg-Psql-59"]
LABELS = {"traefik.http.middlewares.auth.basicauth.users": "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,"
                                                           "bob:$2y$05$Lbl.Bcrypt.Hash60",
          "com.example.api-token": "Label-Token-61", "app": "demo"}
CONTAINER_SECRETS = ("Env-Db-Pw-51", "Pa/ss-Url-52", "ss-Url-52", "Redis-Url-Pw53", "Smtp-Env-54", "Arg-Static-55",
                     "Arg-Pw-56", "Arg-User-57", "Arg-User-58", "Arg-Psql-59", "IgXLP6ewTrSuBkTrqE8wj",
                     "Lbl.Bcrypt.Hash60", "Label-Token-61")


@pytest.mark.docker
def test_container_environment_arguments_and_labels_never_leave_through_any_channel(
        tmp_path, unique, images, docker_client):
    """The sandbox step recreates the container: its docker run line (plan, audit, report) and
    its settings diff would carry its environment, arguments and labels."""
    from tests.fixtures_core import make_engine

    name = unique("secretive")
    script = "trap 'exit 0' TERM; sleep 3600 & wait"  # the extra arguments are only $0, $1, ...
    docker_client.containers.run(images["busybox"], ["sh", "-c", script, "sh", *ARGS], name=name, detach=True,
                                 environment=ENV, labels=LABELS)
    engine = make_engine(tmp_path, unique, images, sandbox={"containers": [name]})
    hardstep = Channels(engine.host.root, engine.config.path, engine.state.dir)

    planned = hardstep.run("plan", "sandbox")
    assert planned.returncode == 0, planned.stderr
    for shown in ("-e=DB_PASSWORD=<redacted>", "postgres://synapse:<redacted>@db:5432/synapse", "-e=SERVICE=demo",
                  "user=alice:<redacted>", "bob:<redacted>", "admin:<redacted>,bob:<redacted>", "-l=app=demo"):
        assert shown in planned.stdout, shown
    applied = hardstep.run("apply", "sandbox", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert docker_client.containers.get(name).attrs["Config"]["Env"][:1] == ["DB_PASSWORD=Env-Db-Pw-51"]  # kept
    hardstep.run("check", "sandbox")
    hardstep.report_everywhere()
    rolled = hardstep.run("rollback", "sandbox", "--yes")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr

    assert leaked(CONTAINER_SECRETS, hardstep.everything()) == []


# coturn/coturn examples/etc/turnserver.conf: every secret option, each next to a line the step changes.
TURNSERVER = """\
static-auth-secret=Static-Auth-S3c71
user=alice:User-Pw-72
#cert=/usr/local/etc/turn_server_cert.pem
cli-password=Cli-Pw-73
pkey-pwd=Pkey-Pwd-74
#pkey=/usr/local/etc/turn_server_pkey.pem
psql-userdb="host=db dbname=coturn user=coturn password=Psql-Pw-75 connect_timeout=30"
mysql-userdb="host=db dbname=coturn user=coturn password=Mysql-Pw-76 port=3306"
#tls-listening-port=5349
mongo-userdb="mongodb://coturn:Mongo-Pw-77@db:27017/coturn"
redis-userdb="ip=127.0.0.1 dbname=0 password=Redis-User-78 port=6379"
#no-tlsv1
redis-statsdb="ip=127.0.0.1 dbname=1 password=Redis-Stats-79"
stateless-nonce-secret=Nonce-Sec-80
#no-tlsv1_1
"""
TURN_SECRETS = ("Static-Auth-S3c71", "User-Pw-72", "Cli-Pw-73", "Pkey-Pwd-74", "Psql-Pw-75", "Mysql-Pw-76",
                "Mongo-Pw-77", "Redis-User-78", "Redis-Stats-79", "Nonce-Sec-80")


@pytest.mark.docker
def test_turnserver_secret_options_never_leave_through_any_channel(coturn, tmp_path):
    from tests.infra.certs import write_pair

    coturn.conf.write_text(coturn.conf.read_text().rstrip("\n") + "\n" + TURNSERVER)
    hs = coturn.root / CONFIG.lstrip("/")
    hs.parent.mkdir(parents=True)
    hs.write_text("server_name: hs.test\nturn_shared_secret: Static-Auth-S3c71\n")
    write_pair(coturn.certs, coturn.ca, DOMAIN)
    config = write_config(tmp_path / "config.toml", turn=coturn.values,
                          synapse={"config": CONFIG, "container": "hst-secrets-none", "url": "http://127.0.0.1:9"})
    hardstep = Channels(coturn.root, config, tmp_path / "state")

    planned = hardstep.run("plan", "coturn-tls")
    assert planned.returncode == 0, planned.stderr
    for shown in ("user=alice:<redacted>", "password=<redacted> connect_timeout=30", "mongodb://coturn:<redacted>@db",
                  "+cert=/opt/certs/fullchain.pem"):
        assert shown in planned.stdout, shown
    hardstep.run("check", "coturn-tls")
    hardstep.report_everywhere()

    assert leaked(TURN_SECRETS, hardstep.everything()) == []
