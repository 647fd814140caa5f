"""How every client holds its connection pool: Cxpa and AgentClient (sync), AsyncCxpa and AsyncAgentClient (async).

Each constructor hands its pool options (`http_client`, `verify`, `proxy`, `trust_env`, and
`http_backend` for async) to `_init_pool`, which checks them, builds the SDK's own pool unless one
is brought, and keeps what a flow is driven with (`_run`): one pool rebuilt in a forked child
(sync), or one pool per event loop (async, `_http._pools.AsyncPools`).
"""

from __future__ import annotations

import ssl
import time

import httpx2

from ._core._engine import Flow, Settings, T
from ._http._driver import adrive, drive
from ._http._pools import AsyncPools, ForkGuard, async_pool
from ._http._transport import ProxyOption, sync_client
from ._options import checked_async_key, checked_http_backend, checked_http_client, checked_proxies, verify_option


class PooledClient(ForkGuard):
    """A sync client's pool: its own (rebuilt in a forked child), or an httpx2.Client brought with `http_client=`."""

    _settings: Settings
    _owns_http: bool

    def _init_pool(
        self,
        http_client: httpx2.Client | None,
        *,
        verify: bool | str | ssl.SSLContext,
        proxy: ProxyOption | None,
        trust_env: bool,
    ) -> None:
        """Check the constructor's pool options and open the pool (after `_settings`, which it is built with)."""
        http_client = checked_http_client(http_client, httpx2.Client)
        self._proxies = checked_proxies(proxy, trust_env=trust_env, brought=http_client is not None)
        self._owns_http = http_client is None
        self._sleep = time.sleep  # the backoff's sleep; tests replace it to retry without waiting
        self._verify = verify_option(verify)
        self._guard(brought_http=http_client is not None)
        self._http = http_client or self._new_pool()

    def _new_pool(self) -> httpx2.Client:
        settings = self._settings
        authorization = settings.authorization if settings.key_source is None else settings.key_source
        return sync_client(settings.base_url, settings.timeout, authorization, self._verify, proxies=self._proxies)

    def _run(self, flow: Flow[T]) -> T:
        """Perform `flow` on this process's pool."""
        self._http = self._pool(self._http, self._new_pool)
        return drive(flow, self._http, self._sleep)


class AsyncPooledClient(ForkGuard):
    """An async client's pools: its own (one per event loop), or an httpx2.AsyncClient brought with `http_client=`."""

    _settings: Settings
    _owns_http: bool

    def _init_pool(
        self,
        http_client: httpx2.AsyncClient | None,
        *,
        verify: bool | str | ssl.SSLContext,
        proxy: ProxyOption | None,
        trust_env: bool,
        http_backend: str,
    ) -> None:
        """Check the constructor's pool options and open the pool (after `_settings`, which it is built with)."""
        http_client = checked_http_client(http_client, httpx2.AsyncClient)
        self._http_backend = checked_http_backend(http_backend, brought=http_client is not None)
        self._proxies = checked_proxies(
            proxy, trust_env=trust_env, brought=http_client is not None, http_backend=self._http_backend
        )
        checked_async_key(self._settings, brought=http_client is not None)
        self._owns_http = http_client is None
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._asleep = asyncio.sleep  # the backoff's sleep; tests replace it to retry without waiting
        self._verify = verify_option(verify)
        self._pools = AsyncPools(
            http_client or self._new_pool(), None if http_client else self._new_pool, type(self).__name__
        )

    def _new_pool(self) -> httpx2.AsyncClient:
        return async_pool(self._settings, self._verify, self._http_backend, self._proxies)

    async def _run(self, flow: Flow[T]) -> T:
        """Perform `flow` on this event loop's pool."""
        return await adrive(flow, self._pools.here(), self._asleep)
