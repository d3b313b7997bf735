"""The process's ``[checks]`` settings for every probe from here: names reached at a fixed address
instead of asking DNS (like curl's ``--resolve``), and an extra CA trusted besides the system store.

The Engine sets them (``configure``) whenever it is given settings, so the TLS, HTTP and TCP
probes in ``app.net`` honour them without every caller passing them along. A pinned name stays
the name everywhere else: the SNI, the Host header, the name the certificate must carry.
"""

from __future__ import annotations

from typing import Callable

from app.config.validate import split_pin
from app.errors import HardstepError


class CaFileError(HardstepError):
    """``[checks] ca_file`` is set but holds no usable CA; the checks that need it say so."""


_addresses: dict[str, str] = {}
_ca_file = ""
_ca_pem: str | None = None
_ca_problem = ""


def configure(resolve: list[str], ca_file: str = "", read: Callable[[str], str | None] | None = None) -> None:
    """Pin the ``NAME=ADDRESS`` entries and take the CA in ``ca_file``, read with ``read`` (a path
    on the managed host: ``Host.read_text``). An unusable CA file does not raise here: the checks
    that trust it fail naming it."""
    global _ca_file, _ca_pem, _ca_problem
    _addresses.clear()
    _addresses.update(split_pin(entry) for entry in resolve)
    _ca_file, _ca_pem, _ca_problem = ca_file, None, ""
    if not ca_file:
        return
    try:
        text = read(ca_file) if read else None
    except HardstepError as exc:  # unreadable: permissions, not UTF-8
        _ca_problem = f"{exc}; fix [checks] ca_file"
        return
    if text is None:
        _ca_problem = f"{ca_file} does not exist; fix [checks] ca_file"
    elif "-----BEGIN CERTIFICATE-----" not in text:
        _ca_problem = f"{ca_file} holds no PEM certificate; fix [checks] ca_file"
    else:
        _ca_pem = text


def address(name: str) -> str:
    """Where to connect for ``name``: its pinned address, else the name itself (DNS answers)."""
    return _addresses.get(name.lower().rstrip("."), name)


def shown(name: str, port: int) -> str:
    """``name:port``, with the pinned address when there is one: for messages about a connection."""
    pinned = address(name)
    return f"{name}:{port}" + ("" if pinned == name else f" (at {pinned}, [checks] resolve)")


def extra_ca() -> str | None:
    """The PEM text of ``[checks] ca_file``, None when it is empty; CaFileError when unusable."""
    if _ca_problem:
        raise CaFileError(_ca_problem)
    return _ca_pem


def trusted() -> str:
    """What a verifying probe trusts, as a message says it."""
    store = "this machine's trust store"
    return f"{store} and the CA in {_ca_file} ([checks] ca_file)" if _ca_file else store
