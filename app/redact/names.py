"""Which keys hold secrets: the options the manuals of the services hardstep touches document as
a credential, a shared secret, a token or a private key, and a pattern for every other name
(environment variables, labels, modules hardstep does not know).

Keys are compared in one spelling: lower case, ``-`` as ``_``, leading dashes of a command-line
flag dropped, and for a dotted key (a label, a TOML path) its last part.
"""

from __future__ import annotations

import re
from functools import cache

REDACTED = "<redacted>"

# Synapse, element-hq/synapse docs/usage/configuration/config_documentation.md (where each sits).
SYNAPSE = {
    "registration_shared_secret": "top level",
    "macaroon_secret_key": "top level",
    "form_secret": "top level",
    "worker_replication_secret": "top level",
    "turn_shared_secret": "top level",
    "turn_password": "top level",
    "recaptcha_private_key": "top level",
    "smtp_pass": "email",
    "password": "database.args, databases.<name>.args, redis, manhole_settings",
    "secret": "matrix_authentication_service, jwt_config",
    "client_secret": "oidc_providers[]",
    "client_secret_jwt_key": "oidc_providers[] (its key: a PEM signing key)",
    "pepper": "password_config",
    "dsn": "sentry",
}
# coTURN, coturn/coturn examples/etc/turnserver.conf (and README.turnserver for the flags).
COTURN = {
    "static_auth_secret": "static-auth-secret, --static-auth-secret",
    "stateless_nonce_secret": "stateless-nonce-secret",
    "cli_password": "cli-password, --cli-password",
    "pkey_pwd": "pkey-pwd, --pkey-pwd",
}
KNOWN = frozenset(SYNAPSE) | frozenset(COTURN)

# ``name:password`` lists: coturn's static users (user=name:password or name:0xkey, --user, -u)
# and Traefik's basic/digest auth middlewares (traefik.http.middlewares.<m>.basicauth.users).
# The names stay readable, what follows the first colon goes.
CREDENTIAL_LISTS = frozenset({"user", "users"})
# Connection strings with a password inside (coturn psql-userdb, mysql-userdb, mongo-userdb,
# redis-userdb, redis-statsdb; Synapse http_proxy, https_proxy): the text rules take out the
# ``password=`` pair or the URL's password, the rest (host, database) stays readable.

# Any other name that says what it holds. ``pass``, ``pwd``, ``dsn`` and ``psk`` only as a whole
# part of the name: ``passthrough``, ``bypass`` and ``PWD`` (the working directory) are no secrets.
_SECRET_WORDS = (
    r"secret|password|passwd|passphrase|token|credential|macaroon|pepper|hmac|authorization|"
    r"(?:private|api|access|signing|auth|encryption|master|client|session|shared)_?key|"
    r"(?:^|_)(?:pass|pwd|dsn|psk)(?:$|_)"
)
# Names that match but hold no secret: where a secret is (a path, a file), how long a token
# lives, or a whole section of settings (password_config, password_providers) whose secrets
# have names of their own.
_NOT_SECRET = (
    r"(?:^|_)(?:path|file|files|dir|lifetime|validity|timeout|endpoint|method|methods|config|"
    r"providers|enabled|length|expiry|type|name|names|id|header|alg)$|^(?:pwd|oldpwd)$"
)
# Values that never carry a secret, quoted or not: empty, a boolean or a 0/1 switch (the socket
# proxy's SECRETS=0 names an API section), an empty collection, or what redaction already left
# (also as a Markdown or HTML report escapes it).
HARMLESS = frozenset({"", "true", "false", "yes", "no", "on", "off", "null", "none", "~", "0", "1", "{}", "[]",
                      REDACTED, "\\<redacted\\>", "&lt;redacted&gt;"})


def normal(key: str) -> str:
    """A key in the one spelling used to compare it."""
    return key.strip().strip("\"'").lstrip("-").rsplit(".", 1)[-1].lower().replace("-", "_")


@cache
def is_secret_key(key: str) -> bool:
    name = normal(key)
    if name in KNOWN:
        return True
    return bool(name) and not re.search(_NOT_SECRET, name) and bool(re.search(_SECRET_WORDS, name))


def is_credential_list(key: str) -> bool:
    return normal(key) in CREDENTIAL_LISTS


def harmless(value: str) -> bool:
    text = value.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text.lower() in HARMLESS
