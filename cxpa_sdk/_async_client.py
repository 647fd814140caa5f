"""AsyncCxpa: the async client for callers of the platform (ingest API key)."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import httpx2

from ._async_caller import AsyncCaller
from ._core._engine import DEFAULT_MAX_ANSWER_BYTES
from ._core._seam import AsyncSeam
from ._handles import AsyncWaits
from ._http._transport import ProxyOption
from ._options import DEFAULT_DEADLINE_S, DEFAULT_MAX_RETRIES
from ._pooled import AsyncPooledClient
from .hooks import Hook

if TYPE_CHECKING:
    import asyncio

    from cxpa_api import AuthenticatedClient

    from ._waits import AsyncWaitHub


class AsyncCxpa(AsyncCaller, AsyncPooledClient):
    """The CXPA client (async): trigger, wait for, download, register, report, read and cancel runs.

    One client holds one connection pool: create it once per event loop and share it between tasks.

    Examples:
        >>> from cxpa_sdk import AsyncCxpa                                     # doctest: +SKIP
        >>> async with AsyncCxpa() as client:  # CXPA_API_URL, CXPA_INGEST_KEY  # doctest: +SKIP
        ...     result = await client.trigger_run_and_wait(42, {"topic": "Q3"}, timeout_ms=120_000)

    Args:
        base_url: The platform's URL; falls back to `CXPA_API_URL`.
        ingest_api_key: The ingest API key; falls back to `CXPA_INGEST_KEY`. Sent only in the
            Authorization header, never shown. A callable (sync or async) returning the key is asked
            before every attempt (for keys that rotate); the keys it returns are masked like a fixed
            one. An async callable needs the SDK's own pool (not `http_client=`).
        timeout: Each HTTP request's timeouts, in seconds or as an httpx2.Timeout (default: connect
            5 s, read 60 s, write 60 s; every phase finite but the wait for a free connection, which
            is bounded by the call's deadline unless a `pool` is given).
        max_retries: Retries after the first attempt for transient failures (0 disables them).
        deadline: The most one call may take in all, attempts and backoff included, in seconds;
            waits add their own time on top.
        http_client: An httpx2.AsyncClient to use instead of the SDK's own (not closed by `close`).
        verify: TLS verification: True, a CA bundle path, or an ssl.SSLContext.
        allow_insecure: Allow a plain http:// URL to a host that is not this machine.
        max_answer_bytes: The largest JSON answer read into memory (default 8 MiB); a larger one is
            InvalidResponseError, read no further.
        http_backend: What the SDK's own pool sends with: "httpx2" (the default) or "aiohttp" (the
            `aiohttp` extra: `pip install "cxpa-sdk[aiohttp]"`), with the same timeouts, deadline,
            TCP keepalive and applied flags. aiohttp takes http:// and https:// proxies (from
            `proxy` or the environment), not socks5://.
        default_headers: Headers sent on every request (a gateway's, a tenant's, tracing); the SDK's
            own (Authorization, Idempotency-Key, ...) are refused, and a User-Agent is appended to
            the SDK's. Their values are never shown.
        proxy: A proxy for every request (an http://, https:// or socks5:// URL, or an httpx2.Proxy);
            not with `http_client=`.
        trust_env: Read HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY when `proxy` is not given, as
            httpx2 does (default True).
        hooks: Hook objects that hear of every call and attempt (docs/observability.md).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ingest_api_key: str | Callable[[], str] | Callable[[], Awaitable[str]] | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        http_client: httpx2.AsyncClient | None = None,
        verify: bool | str | ssl.SSLContext = True,
        allow_insecure: bool = False,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        http_backend: str = "httpx2",
        default_headers: Mapping[str, str] | None = None,
        proxy: ProxyOption | None = None,
        trust_env: bool = True,
        hooks: Sequence[Hook] | None = None,
    ) -> None:
        self._init_settings(
            base_url=base_url,
            ingest_api_key=ingest_api_key,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
            max_answer_bytes=max_answer_bytes,
            default_headers=default_headers,
            hooks=hooks,
            async_key_ok=True,
        )
        self._init_pool(http_client, verify=verify, proxy=proxy, trust_env=trust_env, http_backend=http_backend)
        self._hubs: dict[asyncio.AbstractEventLoop, AsyncWaitHub] = {}  # shared waits, one per event loop

    @property
    def _http(self) -> httpx2.AsyncClient:
        return self._pools.peek()

    @property
    def _seam(self) -> AsyncSeam:
        """This client as module functions and shared waits use it (`_core._seam`)."""
        return AsyncSeam(self._settings, self._run)

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated `cxpa_api` client on this client's httpx client, for edge cases."""
        return self._raw(self._http)

    def _waits(self) -> AsyncWaits:
        """How this client waits: the waits of an event loop share batched requests (`_waits`)."""
        from ._waits import SharedWaits  # noqa: PLC0415 - asyncio loads with the first wait

        return SharedWaits(self)

    def _cloned(self) -> None:
        self._hubs = {}  # a hub sends with its client's settings: a with_options copy gets its own

    async def aclose(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=` or shared by `with_options`).

        Pools this client opened for other event loops are dropped, not closed: close a client on the
        loop that used it.
        """
        if self._owns_http:
            await self._pools.aclose()

    async def __aenter__(self) -> AsyncCxpa:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
