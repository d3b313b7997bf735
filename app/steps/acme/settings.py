"""The settings the acme step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("acme", "container", "acme", "name", "Container that gets coTURN's certificate through Traefik."),
    Field("acme", "image", "alpine:latest", "image", "Image of the acme container (acme.sh is installed with apk)."),
    Field("acme", "email", "", "optional-email", "Account e-mail the certificate authority needs for the first issuance."),
    Field("acme", "proxy_container", "acme-dockerproxy", "name",
          "The acme container's own narrow socket proxy (restart only)."),
    Field("acme", "network", "acme-private", "name", "Network shared only by the acme container and its proxy."),
    Field("traefik", "https_address", "", "optional-address",
          "host:port where Traefik's TLS entrypoint answers; empty: <TURN domain>:443."),
)
