"""An httpx transport that honours ``[checks] resolve``: a request for a pinned name connects to
its address, while the name stays the Host header, the SNI and the name the certificate is
checked against (httpcore's ``sni_hostname`` extension). Below redirects, so every hop is pinned.

Imported by ``app.net.http.get`` when it runs: httpx stays out of start-up.
"""

from __future__ import annotations

import httpx

from app.net import pins


class PinnedTransport(httpx.HTTPTransport):
    def __init__(self, verify) -> None:
        # No kept-alive connections: a connection made for one pinned name (its SNI, its
        # certificate) must not carry a redirect to another name pinned to the same address.
        super().__init__(verify=verify, limits=httpx.Limits(max_keepalive_connections=0))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host
        pinned = pins.address(name)
        if pinned != name:
            # A new request, not an edited one: the client reads redirects against its own.
            request = httpx.Request(request.method, request.url.copy_with(host=pinned), headers=request.headers,
                                    stream=request.stream, extensions={**request.extensions, "sni_hostname": name})
        return super().handle_request(request)
