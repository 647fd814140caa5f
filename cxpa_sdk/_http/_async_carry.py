"""Transports (async): they carry the call's deadline to the sockets under them, and bound the pool wait by it.

`scripts/unasync` writes the sync twin, `cxpa_sdk._http._carry`, from this file: edit this one.
The deadline travels in the request's extensions (`_deadline.EXTENSION`). While a request is sent
and its answer's headers are read, it is the current deadline (`_deadline.current`), which the
SDK's socket streams (`_sockets`) obey; once the headers are in, it goes on the answer's socket
stream (`_deadline.bind`), so the body's reads are bounded whoever reads them and whenever, and it
is taken off again when the body is closed (the connection then serves other calls). The wait for
a free connection in httpcore2's pool is no socket operation, so its pool timeout is cut to the
time left.

(Until the SDK moved to httpx2 this module was a gate that let at most one request per pool
connection into httpcore 1.0.9's pool, whose work grew with queued x connections. httpcore2's pool
scans in O(connections): 1000 calls at once on a pool of 100 finish with no error, and faster
without the gate; docs/reliability.md has the numbers.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import httpx2

from .._core import _deadline


def _deadline_of(request: httpx2.Request) -> float | None:
    """The call's deadline the engine put in the request (None for a request made without the engine)."""
    deadline: float | None = request.extensions.get(_deadline.EXTENSION)
    return deadline


def _bound_pool_wait(request: httpx2.Request, deadline: float) -> None:
    """Cut the request's pool timeout to the time left (PoolTimeout when none is)."""
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    pool = _deadline.clamp(timeout.get("pool"), httpx2.PoolTimeout, deadline)
    request.extensions["timeout"] = {**timeout, "pool": pool}


class _AsyncUnbindingStream(httpx2.AsyncByteStream):
    """A response body that takes the call's deadline off its socket stream when closed."""

    def __init__(self, stream: httpx2.AsyncByteStream, bound: _deadline.Bound) -> None:
        self._stream = stream
        self._bound = bound

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._stream)

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._bound.deadline = None


class AsyncDeadlineTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport whose requests, answers and answer bodies are bounded by their call's deadline."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send with the deadline current, then put it on the answer's socket stream until its body is closed."""
        deadline = _deadline_of(request)
        if deadline is None:
            return await self._inner.handle_async_request(request)
        _bound_pool_wait(request, deadline)
        token = _deadline.current.set(deadline)
        try:
            response = await self._inner.handle_async_request(request)
        finally:
            _deadline.current.reset(token)
        bound = _deadline.bind(response.extensions, deadline)
        if bound is not None:
            response.stream = _AsyncUnbindingStream(cast(httpx2.AsyncByteStream, response.stream), bound)
        return response

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()
