"""The host facade (``Host``) and its implementation for this machine (``LocalHost``).

Cheap to import: neither module imports the Docker SDK until a client is asked for.
"""

from app.host.base import CommandResult, FileStat, Host
from app.host.local import LocalHost

__all__ = ["CommandResult", "FileStat", "Host", "LocalHost"]
