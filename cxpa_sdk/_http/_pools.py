"""Connection pools that stay where they belong: one per event loop, a new one in a forked child."""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2

from .._core._engine import Settings
from .._core._exchange import Timeouts
from .._core._keys import KeySource
from .._errors import CxpaError
from ._transport import (
    DEFAULT_LIMITS,
    SOCKET_OPTIONS,
    AsyncSdkClient,
    async_client,
    verify_context,
)

if TYPE_CHECKING:
    import asyncio


H = TypeVar("H")


def async_pool(
    settings: Settings,
    verify: bool | str | ssl.SSLContext,
    http_backend: str,
    proxies: Mapping[str, httpx2.Proxy | None] | None = None,
) -> httpx2.AsyncClient:
    """A new pool of an async client, on httpx2 (the default) or on aiohttp (`_aiohttp`), with `proxies`."""
    authorization = settings.authorization if settings.key_source is None else settings.key_source
    return backend_client(
        settings.base_url, settings.timeout, authorization, verify, http_backend=http_backend, proxies=proxies
    )


def backend_client(
    base_url: str,
    timeout: Timeouts,
    authorization: str | KeySource,
    verify: bool | str | ssl.SSLContext,
    *,
    http_backend: str,
    proxies: Mapping[str, httpx2.Proxy | None] | None = None,
) -> AsyncSdkClient:
    """The SDK's own async client on `http_backend`: httpx2's pool, or aiohttp's (`_aiohttp`)."""
    if http_backend == "aiohttp":
        from ._aiohttp import AiohttpTransport  # noqa: PLC0415 - aiohttp loads only with this backend

        transport = AiohttpTransport(
            verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS, proxies=proxies
        )
        return async_client(base_url, timeout, authorization, verify, transport, native=transport.send)
    return async_client(base_url, timeout, authorization, verify, proxies=proxies)


class ForkGuard:
    """Gives a forked child its own connection pool: sockets inherited from the parent are never shared.

    Clients call `_pool(current, build)` before each call; in the process that created them it
    returns the pool as it is (one getpid() call). In a forked child it builds a fresh pool, or,
    for an httpx client brought with `http_client=`, refuses with a clear error.
    """

    _pid: int
    _brought_http: bool

    def _guard(self, *, brought_http: bool) -> None:
        self._pid = os.getpid()
        self._brought_http = brought_http

    def __reduce__(self) -> tuple[Any, ...]:
        """Refuse pickling (and copying) with a CxpaError that says what to do instead.

        A client holds a connection pool, whose sockets belong to this process, and a key, which is
        never serialised: a child process (multiprocessing, Celery, Ray) creates its own client.
        """
        name = type(self).__name__
        raise CxpaError(
            f"a {name} can't be pickled or copied: its connection pool belongs to this process and its key is "
            f"never serialised. Create the {name} in the child process (pass it the base URL and let it read the "
            "key from its CXPA_* environment), or share one client between threads instead."
        )

    def _pool(self, current: H, build: Callable[[], H]) -> H:
        if self._pid == os.getpid():
            return current
        if self._brought_http:
            raise CxpaError(
                f"this {type(self).__name__} was created in process {self._pid} with http_client=..., and is used "
                f"in forked process {os.getpid()}: its sockets belong to the parent. Create the client in the child."
            )
        self._pid = os.getpid()
        return build()


class AsyncPools:
    """An async client's connection pools: one per event loop, and new ones in a forked child.

    An httpx2.AsyncClient's connections belong to the event loop that opened them; used from another
    loop (a second `asyncio.run()`, or a thread with its own loop) they fail with "Event loop is
    closed" or hang. So the pool the client was built with serves the first loop that uses it, and
    each other loop gets a pool of its own, built on first use; pools of closed loops are dropped.
    A pool brought with `http_client=` can't be rebuilt: on another loop, or in a forked child, the
    call fails at once with a CxpaError that says what to do.

    The fast path is one `get_running_loop()`, one `getpid()` and one identity check.
    """

    def __init__(self, first: httpx2.AsyncClient, build: Callable[[], httpx2.AsyncClient] | None, owner: str) -> None:
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._running_loop = asyncio.get_running_loop
        self._build = build
        self._owner = owner
        self._pid = os.getpid()
        self._unclaimed: httpx2.AsyncClient | None = first
        self._current: tuple[asyncio.AbstractEventLoop | None, httpx2.AsyncClient] = (None, first)
        self._by_loop: dict[asyncio.AbstractEventLoop, httpx2.AsyncClient] = {}
        self._lock = threading.Lock()

    def here(self) -> httpx2.AsyncClient:
        """The pool for the running event loop."""
        loop = self._running_loop()
        current = self._current
        if current[0] is loop and self._pid == os.getpid():
            return current[1]
        with self._lock:
            return self._switch(loop)

    def peek(self) -> httpx2.AsyncClient:
        """The pool for the running loop if it has one, else the last one used (for `raw`)."""
        try:
            loop = self._running_loop()
        except RuntimeError:
            return self._current[1]
        return self._by_loop.get(loop, self._current[1])

    def _switch(self, loop: asyncio.AbstractEventLoop) -> httpx2.AsyncClient:
        if self._pid != os.getpid():
            if self._build is None:
                raise CxpaError(
                    f"this {self._owner} was created in process {self._pid} with http_client=..., and is used in "
                    f"forked process {os.getpid()}: its sockets belong to the parent. Create the client in the child."
                )
            self._pid, self._unclaimed, self._by_loop = os.getpid(), None, {}
        self._by_loop = {known: pool for known, pool in self._by_loop.items() if not known.is_closed()}
        pool = self._by_loop.get(loop)
        if pool is None:
            if self._unclaimed is not None:
                pool, self._unclaimed = self._unclaimed, None
            elif self._build is None:
                raise CxpaError(
                    f"this {self._owner} was given http_client=..., which was first used on another event loop: an "
                    "httpx2.AsyncClient can't move between event loops. Create the client (and its httpx2.AsyncClient) "
                    "on the loop that uses it."
                )
            else:
                pool = self._build()
            self._by_loop[loop] = pool
        self._current = (loop, pool)
        return pool

    async def aclose(self) -> None:
        """Close the running loop's pool; pools of other loops are dropped (they can't be closed from here)."""
        with self._lock:
            pools = [self._by_loop.pop(self._running_loop(), None), self._unclaimed]
            self._unclaimed = None
            self._by_loop.clear()
        for pool in pools:
            if pool is not None:
                await pool.aclose()
