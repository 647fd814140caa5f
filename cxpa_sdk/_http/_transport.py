"""Building httpx clients: finite timeouts, pool limits, TCP keepalive, one SSL context per process, proxies.

Their pools never reuse a connection that holds bytes past its last answer (`_pool_guard`), and
their auth asks a rotating key (`KeySource`) before every attempt.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from functools import cache
from typing import Any

import httpx2
from httpx2._utils import URLPattern, get_environment_proxies

from .._core._exchange import Request, Timeouts
from .._core._keys import KeySource
from .._version import __version__
from ._async_carry import AsyncDeadlineTransport
from ._carry import DeadlineTransport
from ._httpx import httpx_request, httpx_timeout
from ._pool_guard import guard_pool
from ._reply import AsyncReply

# No pool phase: a request waits for a free connection as long as its call's deadline allows (a burst
# larger than the pool queues within each call's own budget instead of failing at a fixed 10 s).
DEFAULT_TIMEOUT = httpx2.Timeout(connect=5.0, read=60.0, write=60.0, pool=None)
# Keep as many idle connections as the pool may open, so a fan-out reuses them instead of reconnecting.
POOL_SIZE = 100
DEFAULT_LIMITS = httpx2.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=30.0)
USER_AGENT = f"cxpa-sdk-python/{__version__} python/{sys.version_info.major}.{sys.version_info.minor}"


def _socket_options() -> list[tuple[int, int, int]]:
    """TCP_NODELAY, and keepalive probes after 30 s idle, every 10 s, 3 strikes.

    Without TCP_NODELAY a small body written after its headers waits for the server's delayed ACK
    (about 40 ms a request); keepalive lets long waits survive NATs that drop idle connections.
    """
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1), (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    return options


SOCKET_OPTIONS = _socket_options()


@cache
def ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """One verifying SSL context per CA bundle per process (loading certificates costs milliseconds)."""
    if ca_bundle is None:
        return httpx2.create_ssl_context()
    return ssl.create_default_context(cafile=ca_bundle)


def verify_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext | bool:
    """What httpx's `verify` gets: the shared context, a CA bundle's context, the caller's, or False."""
    if isinstance(verify, ssl.SSLContext) or verify is False:
        return verify
    return ssl_context(None if verify is True else os.fspath(verify))


class BearerAuth(httpx2.Auth):
    """Sends `Authorization: <value>` on every request of a client; the value never shows in repr.

    It makes the raw generated client, which shares the httpx client, authenticated too; with a
    `KeySource` it asks it for each request.
    """

    def __init__(self, authorization: str | KeySource) -> None:
        self._authorization = authorization

    def __repr__(self) -> str:
        return "BearerAuth('***')"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Set the header and send."""
        source = self._authorization
        request.headers["Authorization"] = source if isinstance(source, str) else source.authorization()
        yield request

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Set the header (asking an async key source) and send."""
        source = self._authorization
        request.headers["Authorization"] = source if isinstance(source, str) else await source.aauthorization()
        yield request


ProxyOption = str | httpx2.URL | httpx2.Proxy
"""What `proxy=` takes: a proxy URL (http://, https://, socks5://; credentials in it are never shown)."""


def proxy_map(proxy: httpx2.Proxy | None, *, trust_env: bool) -> dict[str, httpx2.Proxy | None]:
    """Where requests go, as httpx2 decides it: `proxy` for every URL, else HTTP(S)_PROXY, ALL_PROXY, NO_PROXY.

    Keys are httpx2 URL patterns ("https://", "all://*example.com"); None means "no proxy".
    An empty map: every request goes straight to its host.
    """
    if proxy is not None:
        return {"all://": proxy}
    if not trust_env:
        return {}
    return {
        pattern: None if url is None else httpx2.Proxy(url=url) for pattern, url in get_environment_proxies().items()
    }


class ProxyRoutes:
    """Which pool a URL goes to: a proxy's, or the direct one (httpx2's own `_transport_for_url` rule).

    `mounts` is keyed by `proxy_map`'s URL patterns.
    """

    def __init__(self, direct: Any, mounts: Mapping[str, Any]) -> None:
        self._direct = direct
        self._mounts = dict(sorted((URLPattern(key), mount) for key, mount in mounts.items()))
        self._chosen: dict[tuple[str, str, int | None], Any] = {}

    def pick(self, url: httpx2.URL) -> Any:
        """The pool for `url` (remembered per scheme, host and port: NO_PROXY rules match on nothing else)."""
        where = (url.scheme, url.host, url.port)
        pool = self._chosen.get(where)
        if pool is None:
            pool = next((mount for pattern, mount in self._mounts.items() if pattern.matches(url)), None)
            pool = self._direct if pool is None else pool
            if len(self._chosen) < 64:
                self._chosen[where] = pool
        return pool

    def pools(self) -> list[Any]:
        """Every pool, the direct one first."""
        return [self._direct, *(pool for pool in self._mounts.values() if pool is not self._direct)]


class ProxyTransport(httpx2.BaseTransport):
    """Sends each request on the pool its URL's proxy rule picks: a proxy's pool, or the direct one.

    The SDK's pools send a call's request straight to their transport (`SdkClient.send_own`), past
    httpx2.Client's mounts, so the proxy rules live here, under the deadline transport; every
    pool has the SDK's limits, socket options and deadline-bounded sockets.
    """

    def __init__(self, direct: httpx2.BaseTransport, mounts: Mapping[str, httpx2.BaseTransport]) -> None:
        self._routes = ProxyRoutes(direct, mounts)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send on the pool for the request's URL."""
        transport: httpx2.BaseTransport = self._routes.pick(request.url)
        return transport.handle_request(request)

    def close(self) -> None:
        """Close every pool."""
        for pool in self._routes.pools():
            pool.close()


class AsyncProxyTransport(httpx2.AsyncBaseTransport):
    """The async twin of `ProxyTransport`."""

    def __init__(self, direct: httpx2.AsyncBaseTransport, mounts: Mapping[str, httpx2.AsyncBaseTransport]) -> None:
        self._routes = ProxyRoutes(direct, mounts)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send on the pool for the request's URL."""
        transport: httpx2.AsyncBaseTransport = self._routes.pick(request.url)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._routes.pools():
            await pool.aclose()


def adapt_pool(transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport, backend: Callable[[Any], Any]) -> None:
    """Adapt the httpcore2 pool under an httpx transport: `backend` around its network backend, reuse guarded.

    httpx has no parameter for either. The backend goes into `transport._pool._network_backend`,
    which httpx and httpcore have kept for years; `_pool_guard` closes a connection that holds bytes
    past its last answer instead of reusing it. Should a release rename what they rely on, this
    fails when the client is built, not during a call.
    """
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is None:
        raise RuntimeError("cxpa_sdk needs httpx's transport._pool._network_backend, which this httpx lacks")
    pool._network_backend = backend(inner)  # type: ignore[union-attr]
    guard_pool(pool)


_CLOSED = "Cannot send a request, as the client has been closed."


class SdkClient(httpx2.Client):
    """The httpx2 client of the SDK's own pool: `send_own` hands the engine's requests to its pool directly.

    A request the engine built already carries all it needs (Authorization, the timeouts, the
    deadline); `httpx2.Client.send` would add an auth flow, a redirect loop, event hooks, a timer
    around the body, a cookie jar and a log line, about 5% of an async call's CPU. Requests made
    any other way (the generated `raw` client's) go through `send`.
    """

    def __init__(self, transport: httpx2.BaseTransport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self._pool_transport = transport

    def send_own(self, request: Request) -> httpx2.Response:
        """Send an engine's request on the pool; the answer with its body not read."""
        if self.is_closed:
            raise RuntimeError(_CLOSED)
        built = httpx_request(request, self.headers)
        response = self._pool_transport.handle_request(built)
        response.request = built
        return response


class AsyncSdkClient(httpx2.AsyncClient):
    """The async twin of `SdkClient`; on the aiohttp backend, `send_own` goes to aiohttp with no httpx2 object."""

    def __init__(
        self,
        transport: httpx2.AsyncBaseTransport,
        *,
        key_source: KeySource | None = None,
        native: Callable[[Request], Awaitable[AsyncReply]] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(transport=transport, **options)
        self._pool_transport = transport
        self._async_key = key_source if key_source is not None and key_source.is_async else None
        self._native = native

    async def send_own(self, request: Request) -> AsyncReply:
        """Send an engine's request on the pool (asking an async key source first); the answer, body not read."""
        if self.is_closed:
            raise RuntimeError(_CLOSED)
        if self._async_key is not None:
            request.headers["Authorization"] = await self._async_key.aauthorization()
        if self._native is not None:
            return await self._native(request)
        built = httpx_request(request, self.headers)
        response = await self._pool_transport.handle_async_request(built)
        response.request = built
        return response


def _sync_pool(verify: bool | str | ssl.SSLContext, proxy: httpx2.Proxy | None = None) -> httpx2.HTTPTransport:
    """One httpx2 pool (direct, or through `proxy`) with the SDK's limits, socket options and sockets."""
    from ._sockets import Backend  # noqa: PLC0415 - httpcore loads with the first client, not with the package

    transport = httpx2.HTTPTransport(
        verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS, proxy=proxy
    )
    adapt_pool(transport, Backend)
    return transport


def _async_pool(verify: bool | str | ssl.SSLContext, proxy: httpx2.Proxy | None = None) -> httpx2.AsyncHTTPTransport:
    """The async twin of `_sync_pool`."""
    from ._async_sockets import AsyncBackend  # noqa: PLC0415 - httpcore loads with the first client, not the package

    transport = httpx2.AsyncHTTPTransport(
        verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS, proxy=proxy
    )
    adapt_pool(transport, AsyncBackend)
    return transport


def sync_client(
    base_url: str,
    timeout: Timeouts,
    authorization: str | KeySource,
    verify: bool | str | ssl.SSLContext = True,
    *,
    proxies: Mapping[str, httpx2.Proxy | None] | None = None,
) -> SdkClient:
    """An httpx2.Client as the SDK wants it: no redirects followed, keepalive on, the shared SSL context.

    Its transport carries each call's deadline (`_carry`), and its sockets end every operation by
    it (`_sockets`). `proxies` (from `proxy_map`) routes requests through proxies, per URL.
    """
    transport: httpx2.BaseTransport = _sync_pool(verify)
    if proxies:
        mounts = {key: transport if proxy is None else _sync_pool(verify, proxy) for key, proxy in proxies.items()}
        transport = ProxyTransport(transport, mounts)
    return SdkClient(
        DeadlineTransport(transport),
        base_url=base_url,
        timeout=httpx_timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        auth=BearerAuth(authorization),
    )


def async_client(
    base_url: str,
    timeout: Timeouts,
    authorization: str | KeySource,
    verify: bool | str | ssl.SSLContext = True,
    transport: httpx2.AsyncBaseTransport | None = None,
    *,
    proxies: Mapping[str, httpx2.Proxy | None] | None = None,
    native: Callable[[Request], Awaitable[AsyncReply]] | None = None,
) -> AsyncSdkClient:
    """The async twin of `sync_client`; `transport` replaces httpx2's pool (the aiohttp backend's, no proxies).

    `native` sends the engine's requests instead of the transport (the aiohttp backend's own `send`).
    """
    if transport is None:
        transport = _async_pool(verify)
        if proxies:
            direct = transport
            mounts = {key: direct if proxy is None else _async_pool(verify, proxy) for key, proxy in proxies.items()}
            transport = AsyncProxyTransport(direct, mounts)
    return AsyncSdkClient(
        AsyncDeadlineTransport(transport),
        key_source=authorization if isinstance(authorization, KeySource) else None,
        native=native,
        base_url=base_url,
        timeout=httpx_timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        auth=BearerAuth(authorization),
    )
