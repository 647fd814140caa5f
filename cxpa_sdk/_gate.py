"""Gated transports: never more requests inside httpx's pool than it has connections.

httpcore 1.0.9's pool rescans every queued request against every connection on each event, so work
grows with queued x connections: 1000 `trigger_run` calls started at once on a pool of 100 all
failed with timeouts, after about 2 minutes of CPU. The SDK's own pools therefore let at most
`limit` requests in at a time; the rest wait in a first-come, first-served semaphore, which costs
O(1) per event. A slot is held from sending the request until its response is closed, as a pool
connection is, and the wait for one is bounded by the request's pool timeout, as httpx's own is.

The same transports carry the call's deadline (`_deadline`) from the request's extensions to the
sockets: it is in force while the request is sent and its headers read, and then on the answer's
socket stream for every read of its body, whoever reads it and whenever.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, cast

import httpx2

from . import _deadline

if TYPE_CHECKING:
    import asyncio


def _pool_timeout(request: httpx2.Request) -> float | None:
    """The pool phase of the request's timeout (httpx puts it in the request's extensions)."""
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("pool")


def _deadline_of(request: httpx2.Request) -> float | None:
    """The call's deadline the engine put in the request (None for a request made without the engine)."""
    deadline: float | None = request.extensions.get(_deadline.EXTENSION)
    return deadline


def _no_slot(limit: int, seconds: float | None) -> httpx2.PoolTimeout:
    """The error for a wait that outlasted the pool timeout: the one httpx raises for its own pool."""
    return httpx2.PoolTimeout(f"no free connection among {limit} within the pool timeout ({seconds} s)")


def _once(release: Callable[[], None]) -> Callable[[], None]:
    """`release` that acts on its first call only: a body may be closed more than once."""
    pending = True

    def release_once() -> None:
        nonlocal pending
        if pending:
            pending = False
            release()

    return release_once


class _ReleasingStream(httpx2.SyncByteStream):
    """A response body that frees its slot, and its socket's deadline, when closed."""

    def __init__(
        self, stream: httpx2.SyncByteStream, release: Callable[[], None], bound: _deadline.Bound | None
    ) -> None:
        self._stream = stream
        self._release = _once(release)
        self._bound = bound

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            if self._bound is not None:
                self._bound.deadline = None
            self._release()


class _AsyncReleasingStream(httpx2.AsyncByteStream):
    """The async twin of `_ReleasingStream`."""

    def __init__(
        self, stream: httpx2.AsyncByteStream, release: Callable[[], None], bound: _deadline.Bound | None
    ) -> None:
        self._stream = stream
        self._release = _once(release)
        self._bound = bound

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._bound is not None:
                self._bound.deadline = None
            self._release()


class GatedTransport(httpx2.BaseTransport):
    """An httpx transport that lets at most `limit` requests into `inner` at once."""

    def __init__(self, inner: httpx2.BaseTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Wait for a slot (at most the pool timeout), send, and free the slot when the body is closed."""
        deadline = _deadline_of(request)
        token = _deadline.current.set(deadline)
        try:
            if not self._slots.acquire(blocking=False):  # a free slot needs no clock
                seconds = _deadline.clamp(_pool_timeout(request), httpx2.PoolTimeout)
                if not self._slots.acquire(timeout=seconds):
                    raise _no_slot(self._limit, seconds)
            try:
                response = self._inner.handle_request(request)
            except BaseException:
                self._slots.release()
                raise
        finally:
            _deadline.current.reset(token)
        body = cast(httpx2.SyncByteStream, response.stream)  # a sync transport answers with a sync body
        bound = _deadline.bind(response.extensions, deadline)
        response.stream = _ReleasingStream(body, self._slots.release, bound)
        return response

    def close(self) -> None:
        """Close the pool."""
        self._inner.close()


class AsyncGatedTransport(httpx2.AsyncBaseTransport):
    """The async twin of `GatedTransport` (asyncio)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int) -> None:
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._inner = inner
        self._limit = limit
        self._asyncio = asyncio
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.BoundedSemaphore] | None = None

    def _slots_here(self) -> asyncio.BoundedSemaphore:
        """The running event loop's semaphore (an asyncio semaphore is bound to the loop it first waits on)."""
        loop = self._asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, self._asyncio.BoundedSemaphore(self._limit))
        return self._slots[1]

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Wait for a slot (at most the pool timeout), send, and free the slot when the body is closed."""
        slots = self._slots_here()
        deadline = _deadline_of(request)
        token = _deadline.current.set(deadline)
        try:
            if slots.locked():
                seconds = _deadline.clamp(_pool_timeout(request), httpx2.PoolTimeout)
                try:
                    async with self._asyncio.timeout(seconds):
                        await slots.acquire()
                except TimeoutError:
                    raise _no_slot(self._limit, seconds) from None
            else:
                await slots.acquire()  # free: returns at once, without yielding to the loop
            try:
                response = await self._inner.handle_async_request(request)
            except BaseException:
                slots.release()
                raise
        finally:
            _deadline.current.reset(token)
        body = cast(httpx2.AsyncByteStream, response.stream)  # an async transport answers with an async body
        bound = _deadline.bind(response.extensions, deadline)
        response.stream = _AsyncReleasingStream(body, slots.release, bound)
        return response

    async def aclose(self) -> None:
        """Close the pool."""
        await self._inner.aclose()
