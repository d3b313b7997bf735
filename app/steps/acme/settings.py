"""The settings the acme step reads (``config.toml``), with their defaults and kinds."""

from app.config import validate
from app.config.field import Field

# The CA names acme.sh's --server takes besides a directory URL (its CA_NAMES and the wiki's
# "Server" page); "letsencrypttest", "buypasstest" and "google_test" are its aliases.
SERVER_NAMES = ("letsencrypt", "letsencrypt_test", "letsencrypttest", "zerossl", "buypass", "buypass_test",
                "buypasstest", "google", "googletest", "google_test", "sslcom")
SERVER_HELP = f"is not an ACME directory: an https:// URL or one of {', '.join(SERVER_NAMES)}, nor empty"


def is_server(value: str) -> bool:
    """Empty (acme.sh's own default CA), a CA name acme.sh knows, or an https:// directory URL."""
    return value == "" or value in SERVER_NAMES or validate.is_https_url(value)


FIELDS: tuple[Field, ...] = (
    Field("acme", "container", "acme", "name", "Container that gets coTURN's certificate through Traefik."),
    Field("acme", "image", "alpine:latest", "image", "Image of the acme container (acme.sh is installed with apk)."),
    Field("acme", "email", "", "optional-email", "Account e-mail the certificate authority needs for the first issuance."),
    Field("acme", "server", "", "acme-server",
          "ACME directory acme.sh asks (--server): empty = acme.sh's default CA (ZeroSSL since 3.0), "
          "a name such as letsencrypt, or an https:// URL."),
    Field("acme", "proxy_container", "acme-dockerproxy", "name",
          "The acme container's own narrow socket proxy (restart only)."),
    Field("acme", "network", "acme-private", "name", "Network shared only by the acme container and its proxy."),
    Field("traefik", "https_address", "", "optional-address",
          "host:port where Traefik's TLS entrypoint answers; empty: <TURN domain>:443."),
)
