"""Building httpx clients: finite timeouts, pool limits, TCP keepalive, one SSL context per process.

Also the `cxpa_sdk` logger (its DEBUG lines never carry a key, a token or a body).
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import sys
from collections.abc import Callable, Generator
from functools import cache
from typing import Any

import httpx2

from ._carry import AsyncDeadlineTransport, DeadlineTransport
from ._version import __version__

logger = logging.getLogger("cxpa_sdk")

DEFAULT_TIMEOUT = httpx2.Timeout(connect=5.0, read=60.0, write=60.0, pool=10.0)
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

    It makes the raw generated client, which shares the httpx client, authenticated too.
    """

    def __init__(self, authorization: str) -> None:
        self._authorization = authorization

    def __repr__(self) -> str:
        return "BearerAuth('***')"

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Set the header and send."""
        request.headers["Authorization"] = self._authorization
        yield request


def install_backend(transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport, backend: Callable[[Any], Any]) -> None:
    """Put a network backend around the one under an httpx transport's pool (httpx has no parameter for it).

    It reaches into `transport._pool._network_backend`, which httpx and httpcore have kept for years;
    should either rename it, this fails when the client is built, not during a call.
    """
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if inner is None:
        raise RuntimeError("cxpa_sdk needs httpx's transport._pool._network_backend, which this httpx lacks")
    pool._network_backend = backend(inner)  # type: ignore[union-attr]


_CLOSED = "Cannot send a request, as the client has been closed."


class SdkClient(httpx2.Client):
    """The httpx2 client of the SDK's own pool: `send_own` hands the engine's requests to its pool directly.

    A request the engine built already carries all it needs (Authorization, the timeouts, the
    deadline); `httpx2.Client.send` would add an auth flow, a redirect loop, event hooks, a timer
    around the body, a cookie jar and a log line, about 5% of an async call's CPU (7% on the
    aiohttp backend). Requests made any other way (the generated `raw` client's) go through `send`.
    """

    def __init__(self, transport: httpx2.BaseTransport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self._pool_transport = transport

    def send_own(self, request: httpx2.Request) -> httpx2.Response:
        """Send an engine's request on the pool; the answer with its body not read."""
        if self.is_closed:
            raise RuntimeError(_CLOSED)
        response = self._pool_transport.handle_request(request)
        response.request = request
        return response


class AsyncSdkClient(httpx2.AsyncClient):
    """The async twin of `SdkClient`."""

    def __init__(self, transport: httpx2.AsyncBaseTransport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self._pool_transport = transport

    async def send_own(self, request: httpx2.Request) -> httpx2.Response:
        """Send an engine's request on the pool; the answer with its body not read."""
        if self.is_closed:
            raise RuntimeError(_CLOSED)
        response = await self._pool_transport.handle_async_request(request)
        response.request = request
        return response


def sync_client(
    base_url: str, timeout: httpx2.Timeout, authorization: str, verify: bool | str | ssl.SSLContext = True
) -> SdkClient:
    """An httpx2.Client as the SDK wants it: no redirects followed, keepalive on, the shared SSL context.

    Its transport carries each call's deadline (`_carry`), and its sockets end every operation by
    it (`_sockets`).
    """
    from ._sockets import Backend  # noqa: PLC0415 - httpcore loads with the first client, not with the package

    transport = httpx2.HTTPTransport(
        verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS
    )
    install_backend(transport, Backend)
    return SdkClient(
        DeadlineTransport(transport),
        base_url=base_url,
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        auth=BearerAuth(authorization),
    )


def async_client(
    base_url: str,
    timeout: httpx2.Timeout,
    authorization: str,
    verify: bool | str | ssl.SSLContext = True,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> AsyncSdkClient:
    """The async twin of `sync_client`; `transport` replaces httpx2's pool (the aiohttp backend's)."""
    if transport is None:
        from ._sockets import AsyncBackend  # noqa: PLC0415 - httpcore loads with the first client, not the package

        transport = httpx2.AsyncHTTPTransport(
            verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS
        )
        install_backend(transport, AsyncBackend)
    return AsyncSdkClient(
        AsyncDeadlineTransport(transport),
        base_url=base_url,
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        auth=BearerAuth(authorization),
    )


def enable_env_logging() -> None:
    """`CXPA_LOG=debug` (or info) shows the SDK's log lines on stderr without code; otherwise nothing."""
    level = os.environ.get("CXPA_LOG", "").upper()
    if level not in ("DEBUG", "INFO") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
