"""The process's ``[checks]`` settings for every probe from here: names reached at a fixed address
instead of asking DNS (like curl's ``--resolve``), and an extra CA trusted besides the system store.

The Engine sets them (``configure``) whenever it is given settings, so the TLS, HTTP and TCP
probes in ``app.net`` honour them without every caller passing them along. A pinned name stays
the name everywhere else: the SNI, the Host header, the name the certificate must carry.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from app.config.validate import split_pin
from app.errors import HardstepError


class CaFileError(HardstepError):
    """``[checks] ca_file`` is set but holds no usable CA; the checks that need it say so."""


@dataclass
class _Pins:
    """The pinned addresses and CA the checks use (``[checks]`` in config.toml): the process's, or
    one thread's inside ``isolated()``."""

    addresses: dict[str, str] = field(default_factory=dict)
    ca_file: str = ""
    ca_pem: str | None = None
    ca_problem: str = ""


_process = _Pins()
_thread = threading.local()  # a thread inside ``isolated()``: its own settings (many hosts at once)


def _current() -> _Pins:
    return getattr(_thread, "pins", None) or _process


@contextmanager
def isolated() -> Iterator[None]:
    """While it lasts, ``configure`` and the probes of this thread use settings of their own: the
    checks of several hosts run side by side, each with its host's ``[checks]``."""
    _thread.pins = _Pins()
    try:
        yield
    finally:
        _thread.pins = None


def configure(resolve: list[str], ca_file: str = "", read: Callable[[str], str | None] | None = None) -> None:
    """Pin the ``NAME=ADDRESS`` entries and take the CA in ``ca_file``, read with ``read`` (a path
    on the managed host: ``Host.read_text``). An unusable CA file does not raise here: the checks
    that trust it fail naming it."""
    pins = _current()
    pins.addresses = dict(split_pin(entry) for entry in resolve)
    pins.ca_file, pins.ca_pem, pins.ca_problem = ca_file, None, ""
    if not ca_file:
        return
    try:
        text = read(ca_file) if read else None
    except HardstepError as exc:  # unreadable: permissions, not UTF-8
        pins.ca_problem = f"{exc}; fix [checks] ca_file"
        return
    if text is None:
        pins.ca_problem = f"{ca_file} does not exist; fix [checks] ca_file"
    elif "-----BEGIN CERTIFICATE-----" not in text:
        pins.ca_problem = f"{ca_file} holds no PEM certificate; fix [checks] ca_file"
    else:
        pins.ca_pem = text


def address(name: str) -> str:
    """Where to connect for ``name``: its pinned address, else the name itself (DNS answers)."""
    return _current().addresses.get(name.lower().rstrip("."), name)


def shown(name: str, port: int) -> str:
    """``name:port``, with the pinned address when there is one: for messages about a connection."""
    pinned = address(name)
    return f"{name}:{port}" + ("" if pinned == name else f" (at {pinned}, [checks] resolve)")


def extra_ca() -> str | None:
    """The PEM text of ``[checks] ca_file``, None when it is empty; CaFileError when unusable."""
    pins = _current()
    if pins.ca_problem:
        raise CaFileError(pins.ca_problem)
    return pins.ca_pem


def trusted() -> str:
    """What a verifying probe trusts, as a message says it."""
    store = "this machine's trust store"
    ca_file = _current().ca_file
    return f"{store} and the CA in {ca_file} ([checks] ca_file)" if ca_file else store
