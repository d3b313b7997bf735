"""The settings the burmilla step reads (``config.toml``), with their defaults and kinds."""

from app.config.field import Field

FIELDS: tuple[Field, ...] = (
    Field("burmilla", "channel", "https://raw.githubusercontent.com/burmilla/releases/v1.9.x/releases.yml", "url",
          "Release channel for ros config set rancher.upgrade.url."),
    Field("burmilla", "target", "v1.9.6", "optional-version",
          "BurmillaOS version to upgrade to (v1.9.6 stays on 1.9); empty: what the channel calls current (2.x)."),
)
