"""Redaction against a corpus of the secret shapes real hosts hold: Synapse's homeserver.yaml
(every option its configuration manual documents as a secret, in every YAML shape), coTURN's
turnserver.conf (its manual's secret options and the four database connection strings), Traefik
TOML, container environments, command arguments and labels, and free text. Each secret must go,
and what is no secret must stay readable."""

from __future__ import annotations

import json

import pytest

from app.editors.yaml_text import YamlEditError, load_plain, parse
from app.engine.actions import unified_diff
from app.redact import REDACTED, redact, redact_argv, redact_tree, redact_value, remember_secrets

PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Pem0Body"
# element-hq/synapse docs/usage/configuration/config_documentation.md: each documented secret.
HOMESERVER = f"""\
server_name: matrix.example.com
registration_shared_secret: "Quoted#S3cret&Reg"
macaroon_secret_key: >-
  Folded-Macaroon-Part1
  Folded-Macaroon-Part2
form_secret: |
  Literal-Form-Secret-1
worker_replication_secret:
  Plain-Next-Line-Worker9
database: {{name: psycopg2, args: {{user: synapse, password: Fl0w-Mapping-Pw, host: db}}}}
email:
  smtp_host: mail.example.com
  smtp_user: bob
  smtp_pass: Smtp-Pass-4242
redis: {{enabled: true, password: "Redis#Pw-77"}}
password_config:
  enabled: true
  pepper: Pepper-Spice-55
oidc_providers:
  - idp_id: corp
    client_secret: "Oidc-Client-S3c"
    client_secret_jwt_key:
      key: |
        -----BEGIN PRIVATE KEY-----
        {PEM_BODY}
        -----END PRIVATE KEY-----
      jwt_header: {{alg: ES256}}
jwt_config: {{enabled: true, secret: Jwt-Shared-Secret-1, algorithm: HS256}}
matrix_authentication_service:
  enabled: true
  secret: 'Mas-Shared-Secret-2'
manhole_settings:
  username: manhole
  password: Manhole-Pw-3
turn_shared_secret: Turn-Shared-4
turn_username: turnuser
turn_password: Turn-Pw-5
recaptcha_public_key: Recaptcha-Public-Visible
recaptcha_private_key: Recaptcha-Priv-6
sentry:
  dsn: "https://Sentry-Key-7@o1.ingest.sentry.io/1"
http_proxy: http://proxyuser:Proxy-Pw-8/x@10.0.1.1:8080/
api_keys:
  - List-Key-10a
  - List-Key-10b
enable_registration: false
"""
HOMESERVER_SECRETS = ("Quoted#S3cret&Reg", "Folded-Macaroon-Part1", "Folded-Macaroon-Part2", "Literal-Form-Secret-1",
                      "Plain-Next-Line-Worker9", "Fl0w-Mapping-Pw", "Smtp-Pass-4242", "Redis#Pw-77", "Pepper-Spice-55",
                      "Oidc-Client-S3c", PEM_BODY, "Jwt-Shared-Secret-1", "Mas-Shared-Secret-2", "Manhole-Pw-3",
                      "Turn-Shared-4", "Turn-Pw-5", "Recaptcha-Priv-6", "Sentry-Key-7", "Proxy-Pw-8", "List-Key-10a",
                      "List-Key-10b")
HOMESERVER_KEPT = ("server_name: matrix.example.com", "macaroon_secret_key: >-", "form_secret: |",
                   "{name: psycopg2, args: {user: synapse, password: <redacted>, host: db}}", "smtp_user: bob",
                   "password_config:\n  enabled: true\n", "idp_id: corp",
                   "algorithm: HS256", "username: manhole", "turn_username: turnuser",
                   "recaptcha_public_key: Recaptcha-Public-Visible", "http://proxyuser:<redacted>@10.0.1.1:8080/",
                   "enable_registration: false", 'registration_shared_secret: "<redacted>"')

# coturn/coturn examples/etc/turnserver.conf: its secret options and connection strings.
TURNSERVER = """\
realm=turn.example.com
static-auth-secret=Static-Auth-13
stateless-nonce-secret = Nonce-Sec-17
user=alice:User-Pw-14
user=bob:0xbc807ee29df3c9ffa736523fb2c4e8ee
#user=carol:Commented-Pw-15
cli-password=Cli-Pw-16
pkey-pwd=Pkey-Pwd-17
secret-key-file=/etc/coturn/aes.key
psql-userdb="host=db dbname=coturn user=coturn password=Psql-Pw-18 connect_timeout=30"
mysql-userdb="host=db dbname=coturn user=coturn password='My sql-Pw-19' port=3306"
mongo-userdb="mongodb://coturn:Mongo-Pw-20@db1:27017,db2/coturn?authSource=admin"
redis-userdb="ip=127.0.0.1 dbname=0 password=Redis-User-21 port=6379 connect_timeout=30"
redis-statsdb="ip=127.0.0.1 dbname=1 password=Redis-Stats-22"
"""
TURNSERVER_SECRETS = ("Static-Auth-13", "Nonce-Sec-17", "User-Pw-14", "0xbc807ee29df3c9ffa736523fb2c4e8ee",
                      "Commented-Pw-15", "Cli-Pw-16", "Pkey-Pwd-17", "Psql-Pw-18", "sql-Pw-19", "Mongo-Pw-20",
                      "Redis-User-21", "Redis-Stats-22")
TURNSERVER_KEPT = ("realm=turn.example.com", "user=alice:<redacted>", "user=bob:<redacted>",
                   "secret-key-file=/etc/coturn/aes.key", "host=db dbname=coturn user=coturn password=<redacted>",
                   "mongodb://coturn:<redacted>@db1:27017,db2/coturn", "ip=127.0.0.1 dbname=1 password=<redacted>")

TRAEFIK_TOML = """\
[certificatesResolvers.le.acme.eab]
  kid = "kid-visible"
  hmacEncoded = "Hmac-Enc-11"
[providers.redis]
  password = \"\"\"
Toml-Multi-Line-12
\"\"\"
  endpoints = ["127.0.0.1:6379"]
"""


def test_every_shape_in_a_homeserver_yaml_goes_and_the_rest_stays():
    out = redact(HOMESERVER)
    assert [s for s in HOMESERVER_SECRETS if s in out] == []
    assert [k for k in HOMESERVER_KEPT if k not in out] == []
    assert len(out.splitlines()) == len(HOMESERVER.splitlines())  # layout kept: diffs stay readable


def test_every_secret_option_of_turnserver_conf_goes():
    out = redact(TURNSERVER)
    assert [s for s in TURNSERVER_SECRETS if s in out] == []
    assert [k for k in TURNSERVER_KEPT if k not in out] == []


def test_toml_secrets_including_a_multi_line_string():
    out = redact(TRAEFIK_TOML)
    assert "Hmac-Enc-11" not in out and "Toml-Multi-Line-12" not in out
    assert 'kid = "kid-visible"' in out and 'endpoints = ["127.0.0.1:6379"]' in out


def test_a_diff_of_the_file_shows_no_secret_even_far_from_its_key():
    after = HOMESERVER.replace("enable_registration: false", "enable_registration: false\nallow_guest_access: false")
    diff = unified_diff("/homeserver.yaml", HOMESERVER, after)
    assert "+allow_guest_access: false" in diff
    assert not [s for s in HOMESERVER_SECRETS if s in diff]
    # Redacting a diff again (the plan view does) keeps it as it was.
    assert redact(diff) == diff


def test_redaction_is_idempotent_and_keeps_json_valid():
    data = {"detail": "connect postgres://u:Json-Url-Pw@db/x", "evidence": {"password": "Json-Pw-33", "n": 3},
            "action": 'registration_shared_secret: "Json-Quoted-34"', "diff": HOMESERVER}
    text = json.dumps(data, indent=2)
    out = redact(text)
    assert json.loads(out)["evidence"] == {"password": REDACTED, "n": 3}
    assert not [s for s in ("Json-Url-Pw", "Json-Pw-33", "Json-Quoted-34", *HOMESERVER_SECRETS) if s in out]
    assert redact(out) == out
    assert redact(redact(HOMESERVER)) == redact(HOMESERVER)


@pytest.mark.parametrize("text, secret, kept", [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.Zm9vYmFy", "eyJhbGciOiJIUzI1NiJ9", "Authorization:"),
    ("curl -H 'Authorization: Basic YWxpY2U6c2VjcmV0' https://x", "YWxpY2U6c2VjcmV0", "curl -H"),
    ("GET /sync?access_token=syt_Token123&since=s1", "syt_Token123", "since=s1"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXk",
     "PRIVATE KEY"),
    ("export DB_PASSWORD='sh ell-Pw-35'", "ell-Pw-35", "export DB_PASSWORD="),
    ("redis://:Redis-Url-36@redis:6379/0", "Redis-Url-36", "@redis:6379/0"),
    ("docker run -e=SMTP_PASS=Env-37 -e=SERVICE=demo img --password Flag-38", "Env-37", "-e=SERVICE=demo"),
    ("docker run img --password Flag-38 --realm=x", "Flag-38", "--realm=x"),
    ('found duplicate key "registration_shared_secret" with value "Dup-B-39" (original value: "Dup-A-40")',
     "Dup-A-40", 'duplicate key "registration_shared_secret"'),
])
def test_free_text_shapes(text, secret, kept):
    out = redact(text)
    assert secret not in out and kept in out, out


@pytest.mark.parametrize("text", [
    "traefik.tcp.routers.turn.tls.passthrough=true", "--cap-drop=ALL --security-opt=no-new-privileges",
    "-v=/var/run/docker.sock:/var/run/docker.sock:ro", "turns:turn.example.org:5349?transport=udp",
    "-e=SECRETS=0 -e=CONTAINERS=1", "registration_requires_token: true", "access_token_lifetime: 1h",
    "POSTGRES_PASSWORD_FILE=/run/secrets/pg", "turn_shared_secret_path: /run/secrets/turn",
    "HostSNI(`turn.example.com`)", "2026-01-01T00:00:00+00:00 synapse ok", "PWD=/srv",
])
def test_what_is_no_secret_stays(text):
    assert redact(text) == text


def test_container_environment_arguments_and_labels():
    env = {"POSTGRES_PASSWORD": "Pg-Env-23", "DATABASE_URL": "postgres://synapse:Pa/ss-24@db/synapse",
           "SMTP_PASS": "Smtp-Env-25", "CF_DNS_API_TOKEN": "Cf-Token-26", "AWS_SECRET_ACCESS_KEY": "Aws-Key-27",
           "SECRETS": "0", "SERVICE": "demo"}
    shown = {k: redact_value(k, v) for k, v in env.items()}
    assert shown == {"POSTGRES_PASSWORD": REDACTED, "DATABASE_URL": "postgres://synapse:<redacted>@db/synapse",
                     "SMTP_PASS": REDACTED, "CF_DNS_API_TOKEN": REDACTED, "AWS_SECRET_ACCESS_KEY": REDACTED,
                     "SECRETS": "0", "SERVICE": "demo"}
    argv = ["--log-file=stdout", "--static-auth-secret=Arg-25", "--password=Arg-26", "user=name:Arg-27",
            "--user", "carol:Arg-28", "--cli-password", "Arg-29", "--use-auth-secret", "--realm=turn.example.com",
            "-u", "dave:Arg-30", "--psql-userdb=host=db password=Arg-31", "-e", "host=db password=Arg-32"]
    assert redact_argv(argv, "coturn/coturn:4.6 turnserver") == [
        "--log-file=stdout", "--static-auth-secret=<redacted>", "--password=<redacted>", "user=name:<redacted>",
        "--user", "carol:<redacted>", "--cli-password", "<redacted>", "--use-auth-secret", "--realm=turn.example.com",
        "-u", "dave:<redacted>", "--psql-userdb=host=db password=<redacted>", "-e", "host=db password=<redacted>"]
    assert redact_argv(["-u", "1000", "sh", "-c", "run --password=Script-33"]) == [
        "-u", "1000", "sh", "-c", "run --password=<redacted>"]
    users = "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,bob:$2y$05$Bcrypt.Hash.34"
    assert redact_value("traefik.http.middlewares.auth.basicauth.users", users) == "admin:<redacted>,bob:<redacted>"
    assert redact_value("traefik.http.routers.web.rule", "Host(`x`)") == "Host(`x`)"


def test_structure_takes_whole_values_and_remembers_them_for_any_later_text():
    document = load_plain("x: &pw Anchored-Pw-41x\ndatabase:\n  args:\n    password: *pw\n"
                          "client_secret_jwt_key: {key: Nested-Key-42, alg: ES256}\nturn_password: 123456789\n")
    tree = redact_tree(document)
    assert tree["database"]["args"]["password"] == REDACTED and tree["turn_password"] == REDACTED
    assert tree["client_secret_jwt_key"] == {"key": REDACTED, "alg": REDACTED}  # under a secret key: all of it
    remember_secrets(document)
    # The anchor's line names no secret key, and an engine error quotes the value bare.
    assert redact("x: &pw Anchored-Pw-41x") == f"x: &pw {REDACTED}"
    assert redact("container exited: auth failed with 123456789") == f"container exited: auth failed with {REDACTED}"


def test_state_keeps_undo_records_as_they_are():
    data = {"steps": {"synapse": {"error": "refused: password=State-Pw-43 rejected",
                                  "undo": [{"type": "file", "path": "/opt/password=x", "backup": "/b"}]}}}
    out = redact_tree(data, keep=frozenset({"undo"}))
    assert out["steps"]["synapse"]["error"] == "refused: password=<redacted> rejected"
    assert out["steps"]["synapse"]["undo"] == data["steps"]["synapse"]["undo"]


def test_a_repeated_secret_key_is_refused_without_quoting_either_value():
    with pytest.raises(YamlEditError) as caught:
        parse("registration_shared_secret: Dup-First-44\nregistration_shared_secret: Dup-Second-45\n", "/hs.yaml")
    message = str(caught.value)
    assert 'duplicate key "registration_shared_secret"' in message and "line 2" in message
    assert "Dup-First-44" not in message and "Dup-Second-45" not in message
