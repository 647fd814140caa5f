"""The aiohttp backend of the async clients: one aiohttp.ClientSession that sends the core's requests as they are.

`AsyncCxpa(http_backend="aiohttp")` (and `AsyncAgentClient`) puts `AiohttpTransport` where the
default backend has httpx2's pool: the engine, retries, the applied flag and everything above the
transport stay the same. A call's request goes to aiohttp as the core built it (`send`) and comes
back as an `AiohttpReply`, with no httpx2 object on the way; the generated `raw` client, which
speaks httpx2, reaches the same session through `handle_async_request`. This module is
imported only when that backend is chosen (`pip install "cxpa-sdk[aiohttp]"`), so a plain
`import cxpa_sdk` loads no aiohttp.

What it keeps of the default backend:

- The pool: at most `limits.max_connections` connections (aiohttp's `limit`, no per-host limit),
  idle ones kept `keepalive_expiry` seconds; every socket gets the SDK's socket options (TCP_NODELAY,
  TCP keepalive) from aiohttp's `socket_factory`. No cookies, no redirects, no proxies from the
  environment, no decompression (the SDK decodes bodies itself, with bounded memory), and no
  header of aiohttp's own: the request's headers are sent as they are.
- Every timeout of the request's `timeout` extension: the wait for a free connection is `pool`
  (PoolTimeout), connecting (DNS, TCP, TLS) is `connect` (ConnectTimeout), writing the body is
  `write` (WriteTimeout), each wait for the answer's bytes is `read` (ReadTimeout); and the call's
  deadline (`_deadline.EXTENSION`) bounds it all, the body's reads included (aiohttp's `total`).
- Truthful errors. Whether the request may have reached the server is decided by what happened,
  not by aiohttp's exception class: a failure before aiohttp had a connection for the request is
  ConnectError or ConnectTimeout (the SDK reads "not applied"); any failure after it (the server
  closed without answering, a broken status line, a body cut short) is ReadError, WriteError,
  RemoteProtocolError or a read or write timeout ("unknown"). aiohttp's own silent resend of an
  idempotent request on a dropped connection is turned off: the SDK's retry policy decides. The
  aiohttp exception is the `__cause__`; messages name its class, never a header or a body byte.
- One pool per event loop, closed by `aclose()` or, failing that, as its loop ends.

(One thing differs, for the better: aiohttp closes a connection that holds bytes past its answer,
where httpcore2 reuses it and takes them for the next answer; tests/hostile/test_errors.py.)
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import math
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
import httpx2
from aiohttp.payload import BytesPayload
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .._core import _deadline
from .._core._exchange import Request
from ._transport import USER_AGENT, ProxyRoutes

if TYPE_CHECKING:
    import ssl

    from aiohttp.abc import AbstractStreamWriter
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

READ_BUFSIZE = 64 * 1024
"""aiohttp's read buffer size for an answer (it stops reading the socket past about twice that)."""
READ_MAX = 256 * 1024
"""The most one read of an answer's body returns: asyncio's largest socket read, so that each piece is
a buffer as aiohttp received it, handed on without a copy. (Reads of 64 KiB sliced a copy out of each
256 KiB buffer; on glibc every such piece grew and trimmed the heap, and a 1 GiB download ran at a
third of plain aiohttp's speed.)"""

# No header of aiohttp's own: the request carries Host, Accept, Accept-Encoding, User-Agent and
# Content-Length itself (httpx2 built it), and they go as they are.
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
_NO_CEIL = math.inf  # aiohttp rounds timeouts over 5 s up to a whole second; the deadline must not move
_HTTP_11 = b"HTTP/1.1"
# What the SDK's httpx2 client adds beneath a call's headers (`_transport.async_client`), in its order; the
# default backend sends the same bytes (tests/sdk/test_aiohttp_backend.py compares them).
_POOL_HEADERS = (("Connection", "keep-alive"), ("User-Agent", USER_AGENT))


class _Outgoing(NamedTuple):
    """A request as aiohttp gets it, whether the core or httpx2 (the generated client's) made it."""

    method: str
    url: str
    headers: CIMultiDict[str]
    content: bytes | None
    timeouts: Mapping[str, float | None]
    deadline: float | None


class _Attempt:
    """How far one request got: `connect` (no connection yet), `write` (its body is being written), `read`."""

    __slots__ = ("body", "phase", "transport")

    def __init__(self, body: bool) -> None:
        self.body = body
        self.phase = "connect"
        self.transport: asyncio.Transport | None = None  # the connection's, once aiohttp has one


# The attempt in flight in this task: aiohttp's connector marks it connected (`_Connector.connect`).
_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("cxpa_aiohttp_attempt", default=None)


class _Connector(aiohttp.TCPConnector):
    """aiohttp's TCP connector, marking the attempt in flight as connected when it has its connection."""

    async def connect(self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout) -> Connection:
        """A connection for `req` (pooled or new); from here on the request may reach the server."""
        connection = await super().connect(req, traces, timeout)
        attempt = _attempt.get()
        if attempt is not None:
            attempt.phase = "write" if attempt.body else "read"
            attempt.transport = connection.transport
        return connection


# A body this small, with the connection's write buffer, is taken by the transport whole without
# waiting (asyncio's default high-water mark is 64 KiB; aiohttp drains only past it).
_WRITES_AT_ONCE = 16 * 1024


class _WriteTimedOut(TimeoutError):
    """The request's body was not written within the write timeout."""


class _Body(BytesPayload):
    """A request body written within the write timeout; the attempt is in its `read` phase once it is written."""

    def __init__(self, value: bytes, attempt: _Attempt, write_timeout: float | None) -> None:
        super().__init__(value)  # its Content-Type is not sent (skip_auto_headers): the request has its own
        self._attempt = attempt
        self._write_timeout = write_timeout

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body (the older of aiohttp's two entry points to a payload)."""
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the body, at most `content_length` bytes of it, within the write timeout."""
        self._attempt.phase = "write"
        transport = getattr(writer, "transport", None)  # now: aiohttp forgets it when it closes the connection
        try:
            if transport is not None and len(self._value) + transport.get_write_buffer_size() <= _WRITES_AT_ONCE:
                # It goes to the socket's buffer at once, with nothing to wait for: no timer to set.
                await super().write_with_length(writer, content_length)
            else:
                async with asyncio.timeout(self._write_timeout):
                    await super().write_with_length(writer, content_length)
        except BaseException as exc:
            # A body left half-written (timed out, or cancelled by the deadline or a failed answer)
            # ends its connection now, unsent bytes and all: closing it would wait for a server that
            # may never read them, and leave the socket open.
            if transport is not None:
                transport.abort()
            if isinstance(exc, TimeoutError):
                # aiohttp hands a TimeoutError from the body's writer to the answer's reader as it is.
                raise _WriteTimedOut("the request's body was not written in time") from None
            raise
        if self._attempt.phase == "write":
            self._attempt.phase = "read"


# After aiohttp had a connection for the request: (aiohttp's error, the httpx2 error, what happened).
_AFTER_CONNECTING: tuple[tuple[type[Exception], type[httpx2.TransportError], str], ...] = (
    (aiohttp.ServerDisconnectedError, httpx2.RemoteProtocolError, "the server closed the connection, no whole answer"),
    (aiohttp.ClientPayloadError, httpx2.RemoteProtocolError, "the answer's body ended early or is malformed"),
    (aiohttp.ClientResponseError, httpx2.RemoteProtocolError, "the answer is not valid HTTP/1.1"),
)


def _mapped(exc: Exception, phase: str) -> httpx2.TransportError:
    """The httpx2 error for an aiohttp failure in `phase`; its message names the class, never a server's bytes."""
    what = type(exc).__name__
    if isinstance(exc, ValueError):  # a request aiohttp refuses to send as it is (a newline in a header value)
        return httpx2.LocalProtocolError(f"{what}: the request could not be sent as it is")
    if phase == "connect":  # aiohttp had no connection for the request: nothing of it was sent
        if isinstance(exc, TimeoutError):
            return httpx2.ConnectTimeout(f"{what}: connecting timed out")
        return httpx2.ConnectError(f"{what}: {exc}" if isinstance(exc, aiohttp.ClientConnectorError) else what)
    if isinstance(exc, TimeoutError):  # aiohttp's sock_read, its total (the deadline), or the write timeout
        writing = phase == "write" or isinstance(exc, _WriteTimedOut)
        timeout = httpx2.WriteTimeout if writing else httpx2.ReadTimeout
        return timeout(
            f"{what}: the request's body was not written in time" if writing else f"{what}: no answer in time"
        )
    for cls, error, happened in _AFTER_CONNECTING:
        if isinstance(exc, cls):
            return error(f"{what}: {happened}")
    detail = f" [Errno {exc.errno}] {exc.strerror}" if isinstance(exc, OSError) and exc.errno else ""
    failed, happened = (
        (httpx2.WriteError, "the request could not be written")
        if phase == "write"
        else (httpx2.ReadError, "the answer could not be read")
    )
    return failed(f"{what}:{detail} {happened}")


class ReplyHeaders:
    """An aiohttp answer's headers read as httpx2 reads them: case-insensitive, a repeated one's values joined.

    (aiohttp's own `get` returns a repeated header's first value; the SDK judges what every backend
    received the same way, so a repeated Content-Length or X-Run-Id is refused on both.)
    """

    __slots__ = ("_headers",)

    def __init__(self, headers: CIMultiDictProxy[str]) -> None:
        self._headers = headers

    def get(self, key: str, default: str | None = None) -> str | None:
        """The header's value, its values joined with ", " when repeated, or `default`."""
        values = self._headers.getall(key, ())
        if not values:
            return default
        return values[0] if len(values) == 1 else ", ".join(values)

    def __contains__(self, key: object) -> bool:
        """Whether the answer has the header."""
        return key in self._headers

    def multi_items(self) -> list[tuple[str, str]]:
        """Every header as a (name, value) pair, in the answer's order (as httpx2's `Headers.multi_items`)."""
        return list(self._headers.items())

    def __repr__(self) -> str:
        return f"ReplyHeaders({len(self._headers)} headers)"


class AiohttpReply:
    """An aiohttp answer as the SDK reads it (`_reply.AsyncReply`), its body read in pieces of at most READ_MAX bytes.

    The connection goes back to the pool (or is closed, when the body was not read to its end or
    failed) when the body ends, fails, or is closed, whichever comes first.
    """

    __slots__ = ("_response", "_slots", "headers", "is_stream_consumed", "num_bytes_downloaded", "status_code")

    content = b""  # read only through `aiter_raw`: never a body read before the SDK saw it

    def __init__(self, response: aiohttp.ClientResponse, slots: asyncio.Semaphore) -> None:
        self._response = response
        self._slots: asyncio.Semaphore | None = slots
        self.status_code = response.status
        self.headers = ReplyHeaders(response.headers)
        self.is_stream_consumed = False
        self.num_bytes_downloaded = 0

    def __repr__(self) -> str:
        return f"<AiohttpReply [{self.status_code}]>"

    @property
    def is_closed(self) -> bool:
        """Whether the answer is closed (its connection given back)."""
        return self._slots is None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (aiohttp's `total` ends the reads by the call's deadline)."""
        self.is_stream_consumed = True
        content = self._response.content
        while True:
            try:
                piece = await content.read(READ_MAX)
            except Exception as exc:  # every failure becomes an httpx2 error, with it as the cause
                self._release()
                raise _mapped(exc, "read") from exc
            if not piece:
                self._release()
                return
            self.num_bytes_downloaded += len(piece)
            if content.at_eof():  # the last piece: the connection goes back before it is handed on
                self._release()
                yield piece
                return
            yield piece

    def _release(self) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            try:
                self._response.release()  # aiohttp closes a connection whose body is unfinished or failed
            finally:
                slots.release()

    async def aclose(self) -> None:
        """Give the connection back: kept alive when the body was read to its end, else closed."""
        self._release()


class _Answer(httpx2.AsyncByteStream):
    """An AiohttpReply's body as an httpx2 stream, for requests made through httpx2 (the generated client's)."""

    def __init__(self, reply: AiohttpReply) -> None:
        self._reply = reply

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive."""
        async for piece in self._reply.aiter_raw():
            yield piece

    async def aclose(self) -> None:
        """Give the connection back."""
        await self._reply.aclose()


async def _closed_with_its_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Closes `session` when closed: by `aclose()`, or by the event loop as it ends.

    Once started, the loop knows this generator (PEP 525's hooks), and `asyncio.run()` closes the
    generators still open before it closes the loop. So a pool whose loop ended without `aclose()`
    (a client used on successive `asyncio.run()`) is closed on that loop, not dropped open; aiohttp
    would otherwise log "Unclosed client session" when it is collected.
    """
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


def _socket_factory(options: tuple[tuple[int, int, int], ...]) -> Callable[[tuple[Any, ...]], socket.socket]:
    """The `socket_factory` of aiohttp's connector: a socket for one address of the host, with `options` set."""

    def make(addr_info: tuple[Any, ...]) -> socket.socket:
        family, kind, proto, _, _ = addr_info
        sock = socket.socket(family=family, type=kind, proto=proto)
        try:
            for level, option, value in options:
                if family in (socket.AF_INET, socket.AF_INET6) or level == socket.SOL_SOCKET:
                    sock.setsockopt(level, option, value)
        except OSError:
            sock.close()
            raise
        return sock

    return make


def _via(proxy: httpx2.Proxy | None) -> tuple[URL, CIMultiDict[str]] | None:
    """An httpx2 proxy as aiohttp's `proxy=` and `proxy_headers=` (credentials as Proxy-Authorization)."""
    if proxy is None:
        return None
    headers = CIMultiDict(proxy.headers.multi_items())
    if proxy.raw_auth is not None:
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(b":".join(proxy.raw_auth)).decode("ascii")
    return URL(str(proxy.url), encoded=True), headers


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport on one aiohttp.ClientSession, opened on the first request on the running loop.

    One transport serves one event loop (the async clients build a pool per loop). Close it with
    `aclose()` on that loop.

    Args:
        verify: The SSL context to verify servers with, or False.
        limits: `max_connections` and `keepalive_expiry` (aiohttp keeps every idle connection up to
            its limit, as the SDK's default pool does with `max_keepalive_connections` equal to it).
        socket_options: `(level, option, value)` set on every socket before it connects.
        proxies: The proxy rules (`_transport.proxy_map`): each request goes through its URL's
            http:// or https:// proxy, on the one session and its connection limit.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool,
        limits: httpx2.Limits,
        socket_options: Iterable[tuple[int, int, int]],
        proxies: Mapping[str, httpx2.Proxy | None] | None = None,
    ) -> None:
        self._verify = verify
        self._proxies = ProxyRoutes(None, {key: _via(proxy) for key, proxy in proxies.items()}) if proxies else None
        self._limit = limits.max_connections or 100
        self._keepalive = limits.keepalive_expiry
        self._socket_options = tuple(socket_options)
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closer: AsyncGenerator[None, None] | None = None

    async def _open(self) -> aiohttp.ClientSession:
        connector = _Connector(
            limit=self._limit,
            limit_per_host=0,
            keepalive_timeout=self._keepalive,
            ssl=self._verify,
            socket_factory=_socket_factory(self._socket_options),
            timeout_ceil_threshold=_NO_CEIL,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            auto_decompress=False,
            trust_env=False,
            read_bufsize=READ_BUFSIZE,
        )
        # aiohttp resends an idempotent request once when its connection drops (aiohttp's own test
        # client turns this off the same way); the SDK's retry policy decides, and counts, attempts.
        session._retry_connection = False
        self._session = session
        self._slots = asyncio.Semaphore(self._limit)
        self._closer = _closed_with_its_loop(session)
        await anext(self._closer)  # runs to its `yield` at once: the loop now closes it as it ends
        return session

    async def _acquire(self, slots: asyncio.Semaphore, pool: float | None) -> None:
        """A place in the pool, waiting at most `pool` seconds for one (PoolTimeout)."""
        if not slots.locked():
            await slots.acquire()  # returns at once
            return
        try:
            async with asyncio.timeout(pool):
                await slots.acquire()
        except TimeoutError:
            raise httpx2.PoolTimeout("no connection of the pool became free in time") from None

    async def send(self, request: Request) -> AiohttpReply:
        """Send a request of the core with aiohttp (no httpx2 object built); its answer, the body still to read."""
        own = request.headers
        headers: CIMultiDict[str] = CIMultiDict()
        if request.body is None and request.method == "POST":
            headers["Content-Length"] = "0"  # where httpx2 puts it: first (the default backend sends the same bytes)
        for name, value in _POOL_HEADERS:  # beneath the call's own, as on the default backend
            if name not in own and name.lower() not in own:
                headers[name] = value
        headers.extend(own)
        return await self._exchange(
            _Outgoing(request.method, request.url, headers, request.body, request.timeouts, request.deadline)
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send an httpx2 request (the generated client's) with aiohttp; its answer with the body still to read."""
        try:
            content = request.content
        except httpx2.RequestNotRead:
            content = await request.aread()
        reply = await self._exchange(
            _Outgoing(
                request.method,
                str(request.url),
                CIMultiDict(request.headers.multi_items()),
                content,
                request.extensions.get("timeout", {}),
                request.extensions.get(_deadline.EXTENSION),
            )
        )
        version = reply._response.version
        return httpx2.Response(
            reply.status_code,
            headers=list(reply._response.raw_headers),
            stream=_Answer(reply),
            extensions={
                "http_version": _HTTP_11 if version in (None, (1, 1)) else f"HTTP/{version[0]}.{version[1]}".encode(),
                "reason_phrase": (reply._response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def _exchange(self, outgoing: _Outgoing) -> AiohttpReply:
        session = self._session or await self._open()
        slots = self._slots
        assert slots is not None  # noqa: S101 - set with the session
        pool = _deadline.clamp(outgoing.timeouts.get("pool"), httpx2.PoolTimeout, outgoing.deadline)
        await self._acquire(slots, pool)
        try:
            response = await self._send(session, outgoing)
        except BaseException:
            slots.release()
            raise
        return AiohttpReply(response, slots)

    async def _send(self, session: aiohttp.ClientSession, outgoing: _Outgoing) -> aiohttp.ClientResponse:
        method, url, headers, content, timeouts, deadline = outgoing
        connect = _deadline.clamp(timeouts.get("connect"), httpx2.ConnectTimeout, deadline)
        total = None if deadline is None else max(deadline - time.monotonic(), 1e-3)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=connect, sock_connect=connect, sock_read=timeouts.get("read"), ceil_threshold=_NO_CEIL
        )
        attempt = _Attempt(body=bool(content))
        body = _Body(content, attempt, timeouts.get("write")) if content else None
        target = URL(url, encoded=True)
        via = None if self._proxies is None else self._proxies.pick(httpx2.URL(url))
        proxy, proxy_headers = (None, None) if via is None else via
        if proxy_headers and target.scheme == "http":
            headers.extend(proxy_headers)  # the proxy reads the request itself (aiohttp sends these on CONNECT only)
        token = _attempt.set(attempt)
        try:
            response = await session.request(
                method,
                target,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=timeout,
                proxy=proxy,
                proxy_headers=proxy_headers,
            )
        except BaseException as exc:
            if attempt.transport is not None:
                # aiohttp closes a failed connection, which waits for unsent bytes to go first (a server
                # that reads nothing never takes them): end it now instead.
                attempt.transport.abort()
            if isinstance(exc, Exception):  # every failure becomes an httpx2 error, with it as the cause
                raise _mapped(exc, attempt.phase) from exc
            raise
        finally:
            _attempt.reset(token)
        attempt.phase = "read"
        return response

    async def aclose(self) -> None:
        """Close the session and its connections (on the loop that used them)."""
        closer, self._closer, self._session = self._closer, None, None
        if closer is not None:
            await closer.aclose()
