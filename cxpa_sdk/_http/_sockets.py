"""httpcore network backends (sync): each connect, read, write and TLS handshake ends by the call's deadline.

Written by `scripts/unasync` from `_async_sockets.py`: edit that file, not this one.
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


class _Stream(Bound, httpcore2.NetworkStream):
    """A socket stream whose every operation ends by the deadline (its own while it reads a body)."""

    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, waiting at most until the deadline."""
        return self._stream.read(max_bytes, clamp(timeout, httpcore2.ReadTimeout, self.deadline))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, waiting at most until the deadline."""
        self._stream.write(buffer, clamp(timeout, httpcore2.WriteTimeout, self.deadline))

    def close(self) -> None:
        """Close the socket."""
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        """The TLS handshake, ending by the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """What the socket stream says (`is_readable`, `ssl_object`, ...)."""
        return self._stream.get_extra_info(info)


class Backend(httpcore2.NetworkBackend):
    """httpcore's network backend, its connections and streams ending by the deadline."""

    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        """Connect, waiting at most until the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        """Connect, waiting at most until the deadline."""
        timeout = clamp(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's connect retries)."""
        self._inner.sleep(seconds)
