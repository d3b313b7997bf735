"""HTTP as a client where hardstep runs sees it: one GET, the answer or why there was none.

httpx is imported inside ``get``, not at module import: start-up stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    """GET ``url`` without credentials. ``verify=False`` for "is it up?" polls, where the checks
    (not the poll) judge the certificate."""
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=follow_redirects, verify=verify)
    except httpx.HTTPError as exc:
        return Answer(None, failure=type(exc).__name__, message=str(exc))
    try:
        body = response.json()
    except ValueError:  # an empty or non-JSON body (JSONDecodeError and UnicodeDecodeError are ValueErrors)
        body = None
    return Answer(response.status_code, body)
