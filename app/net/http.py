"""HTTP as a client where hardstep runs sees it: one GET, the answer or why there was none.

httpx is imported inside ``get``, not at module import: start-up stays fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# What a reverse proxy answers while it catches up with a restart (routes not read from the labels
# yet, the backend not listening yet): worth asking again for a few seconds before judging.
SETTLING = (404, 502, 503, 504)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, TLS failed...)
    json: Any = None  # the body parsed as JSON, None when it is not JSON
    failure: str = ""  # the exception's class name when there was no answer (ConnectError, ReadTimeout...)
    message: str = ""  # what the exception said

    @property
    def error(self) -> str:
        """``"ConnectError: [Errno 111] Connection refused"``, empty when there was an answer."""
        return f"{self.failure}: {self.message}" if self.failure else ""


def get(url: str, timeout: float = 5, follow_redirects: bool = False, verify: bool = True) -> Answer:
    """GET ``url`` without credentials, honouring ``[checks] resolve`` and trusting ``[checks]
    ca_file`` besides the system store (``app.net.pins``). ``verify=False`` for "is it up?"
    polls, where the checks (not the poll) judge the certificate."""
    import httpx

    from app.net.pinned import PinnedTransport
    from app.net.pins import CaFileError
    from app.net.tls import client_context

    try:
        trust = client_context() if verify else False
    except CaFileError as exc:
        return Answer(None, failure=type(exc).__name__, message=str(exc))
    try:
        with httpx.Client(transport=PinnedTransport(trust), timeout=timeout, follow_redirects=follow_redirects) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        return Answer(None, failure=type(exc).__name__, message=str(exc))
    try:
        body = response.json()
    except ValueError:  # an empty or non-JSON body (JSONDecodeError and UnicodeDecodeError are ValueErrors)
        body = None
    return Answer(response.status_code, body)


def get_settled(url: str, settle: float = 10, **options: Any) -> Answer:
    """``get``, asked again for up to ``settle`` seconds while the answer is one of ``SETTLING``;
    the last answer. No answer at all is returned at once: a host out of reach stays quick to say so."""
    deadline = time.monotonic() + settle
    while True:
        answer = get(url, **options)
        if answer.status not in SETTLING or time.monotonic() >= deadline:
            return answer
        time.sleep(1)
