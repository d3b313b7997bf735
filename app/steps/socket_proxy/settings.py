"""The settings the socket-proxy step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("docker", "socket_proxy_container", "dockerproxy", "name",
          "Name of the Docker socket proxy container."),
    Field("docker", "socket_proxy_image", "tecnativa/docker-socket-proxy:latest", "image",
          "Image of the socket proxy."),
)
