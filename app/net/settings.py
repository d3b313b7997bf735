"""The settings every probe from here reads (``config.toml``'s ``[checks]``): names pinned to an
address and an extra CA. The Engine hands them to ``app.net.pins``."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("checks", "resolve", [], "pins",
          "Names the checks reach at a fixed address instead of asking DNS (like curl --resolve), "
          "e.g. before DNS is live: NAME=ADDRESS, such as matrix.example.com=203.0.113.7."),
    Field("checks", "ca_file", "", "optional-abspath",
          "Extra CA (PEM, may hold several) that the TLS and HTTPS checks trust besides the system store."),
)
