"""The settings the private-network step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("docker", "private_network", "private", "name",
          "User-defined bridge network shared only by Traefik and the socket proxy."),
)
