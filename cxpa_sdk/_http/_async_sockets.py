"""httpcore network backends (async): each connect, read, write and TLS handshake ends by the call's deadline.

`scripts/unasync` writes the sync twin, `cxpa_sdk._http._sockets`, from this file: edit this one.
See `_deadline`: the deadline comes from its context variable; outside a call (none set) the
timeouts are httpx's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpcore2

from .._core._deadline import Bound, clamp

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable


class _AsyncStream(Bound, httpcore2.AsyncNetworkStream):
    """A socket stream whose every operation ends by the deadline (its own while it reads a body)."""

    def __init__(self, stream: httpcore2.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, waiting at most until the deadline."""
        return await self._stream.read(max_bytes, clamp(timeout, httpcore2.ReadTimeout, self.deadline))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, waiting at most until the deadline."""
        await self._stream.write(buffer, clamp(timeout, httpcore2.WriteTimeout, self.deadline))

    async def aclose(self) -> None:
        """Close the socket."""
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.AsyncNetworkStream:
        """The TLS handshake, ending by the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """What the socket stream says (`is_readable`, `ssl_object`, ...)."""
        return self._stream.get_extra_info(info)


class AsyncBackend(httpcore2.AsyncNetworkBackend):
    """httpcore's network backend, its connections and streams ending by the deadline."""

    def __init__(self, inner: httpcore2.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        """Connect, waiting at most until the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        """Connect, waiting at most until the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's connect retries)."""
        await self._inner.sleep(seconds)
