"""The httpx2 adapter: the core's requests as httpx2 requests, httpx2's failures as the core's `SendFailed`.

httpx2's responses need no adapter: the core reads an `httpx2.Response` as its `Reply` (status and
headers) as it is.
"""

from __future__ import annotations

import functools

import httpx2

from .._core import _deadline
from .._core._exchange import Request, SendFailed, Timeouts


@functools.lru_cache(maxsize=1024)
def _url(text: str) -> httpx2.URL:
    """The parsed URL: parsing one costs httpx2 about 16 µs, and calls repeat them (an httpx2.URL is immutable)."""
    return httpx2.URL(text)


def httpx_request(request: Request, client_headers: httpx2.Headers) -> httpx2.Request:
    """`request` as an httpx2.Request, its httpx client's headers beneath its own (as httpx's `build_request` merges).

    That sends the SDK's User-Agent, and the headers of a client brought with `http_client=`; the
    headers a call sets (Authorization, Idempotency-Key, Accept...) win.
    """
    own = request.headers
    mine = {name.lower().encode("ascii") for name in own}
    headers = [(name, value) for name, value in client_headers.raw if name.lower() not in mine]
    headers.extend((name.encode("ascii"), value.encode("ascii")) for name, value in own.items())  # as httpx2 does
    return httpx2.Request(
        request.method,
        _url(request.url),
        content=request.body,
        headers=headers,
        extensions={"timeout": request.timeouts, _deadline.EXTENSION: request.deadline},
    )


_NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


def send_failed(exc: httpx2.TransportError) -> SendFailed:
    """What an httpx2 transport failure proves: no connection made (never sent), a timeout, a request unsendable."""
    what = type(exc).__name__
    return SendFailed(
        what,
        str(exc) or what,
        never_sent=isinstance(exc, _NEVER_SENT),
        timed_out=isinstance(exc, httpx2.TimeoutException),
        repeatable=not isinstance(exc, httpx2.LocalProtocolError),
    )


def httpx_timeout(timeouts: Timeouts) -> httpx2.Timeout:
    """The settings' timeouts as httpx2's (they are one already when the client's options made them)."""
    if isinstance(timeouts, httpx2.Timeout):
        return timeouts
    return httpx2.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool)
