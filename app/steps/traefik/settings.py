"""The settings the traefik step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("traefik", "container", "proxy", "name", "Name of the Traefik container."),
    Field("traefik", "config", "/opt/traefik/traefik.toml", "abspath", "Traefik's static configuration file."),
    Field("traefik", "web_network", "web", "name", "Network Traefik shares with the services it routes."),
    Field("traefik", "network", "", "optional-name",
          "providers.docker.network to write; empty: the web network."),
)
