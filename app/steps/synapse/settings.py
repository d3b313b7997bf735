"""The settings the synapse step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("synapse", "container", "synapse", "name", "Name of the Synapse container."),
    Field("synapse", "config", "/opt/matrix/synapse/homeserver.yaml", "abspath", "Synapse's homeserver.yaml."),
    Field("synapse", "server_name", "matrix.example.com", "hostname", "The homeserver's server_name."),
    Field("synapse", "url", "https://matrix.example.com", "url", "Public URL of the homeserver."),
    Field("synapse", "federation_whitelist", [], "hostnames",
          "Servers allowed to federate besides this one; empty: federation off."),
    Field("synapse", "disable_registration", False, "bool", "Plan item: set enable_registration: false."),
    Field("synapse", "disable_guest_access", False, "bool", "Plan item: set allow_guest_access: false."),
    Field("synapse", "disable_turn_guests", False, "bool", "Plan item: set turn_allow_guests: false."),
    Field("synapse", "restart_timeout", 120, "seconds", "How long to wait for Synapse to answer after a restart."),
)
