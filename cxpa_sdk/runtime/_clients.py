"""The agent clients a runtime host's runs report with: one per run, all on one connection pool per kind.

Each run has its own key, run id, token and trace context, so each gets its own AgentClient; the
connections under them are the host's, kept alive from run to run, instead of a new pool (and a
new connection) per run. The pools are the SDK's own (deadlines on every socket operation, the
proxies of the environment); each request carries its run's key, set by the engine, never the
pool's. The async pool is made on the serving loop at its first use; `aclose` and `close` end them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import httpx2

from .._http._pools import backend_client
from .._http._transport import DEFAULT_TIMEOUT, AsyncSdkClient, SdkClient, sync_client
from .._logging import logger
from .._options import checked_http_backend, checked_proxies
from .._runtime._agent import AgentClient, AsyncAgentClient
from ..hooks import Hook
from ..types import ResumePayload, TriggerPayload

_NO_KEY = "Bearer -"  # the pools' own Authorization: never sent, each run's request carries its key


class RunClients:
    """Makes each run's agent client, on the host's shared pools (one async, one for the sync functions' threads)."""

    def __init__(
        self,
        base_url: str | None,
        http_backend: str = "httpx2",
        hooks: Sequence[Hook] = (),
        lease_seconds: int | None = None,
    ) -> None:
        self._base_url = base_url
        self._lease_seconds = lease_seconds
        self._hooks = list(hooks)
        self._http_backend = checked_http_backend(http_backend, brought=False)
        self._async: AsyncSdkClient | None = None
        self._sync: SdkClient | None = None
        self._sync_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RunClients(base_url={self._base_url!r}, http_backend={self._http_backend!r})"

    @property
    def hooks(self) -> list[Hook]:
        """The hooks every run's client takes (the tracing's)."""
        return list(self._hooks)

    @property
    def http_backend(self) -> str:
        """What the async pool is built on: `httpx2` or `aiohttp`."""
        return self._http_backend

    @property
    def base_url(self) -> str | None:
        """The platform's URL the runs report to (None: each client reads CXPA_API_URL)."""
        return self._base_url

    @property
    def lease_seconds(self) -> int | None:
        """The lease each run asks for with its `started`, in seconds (None: none, or the platform has no leases)."""
        return self._lease_seconds

    def refuse_lease(self) -> None:
        """The platform has no leases (it refused one): no run asks for one, nor sends heartbeats, from now on."""
        if self._lease_seconds is not None:
            logger.info("the platform has no run leases (an older one): runs report without them")
        self._lease_seconds = None

    def for_async(self, payload: TriggerPayload | ResumePayload, **options: Any) -> AsyncAgentClient:
        """The async client of the run `payload` describes, on the shared async pool (call on the serving loop).

        `options` are the client's (`deadline`, `max_retries`: a heartbeat's are short).
        """
        if self._async is None:
            self._async = self._new_async_pool()
        return AsyncAgentClient.from_payload(
            payload, base_url=self._base_url, http_client=self._async, hooks=self._hooks, **options
        )

    def for_sync(self, payload: TriggerPayload | ResumePayload) -> AgentClient:
        """The sync client of the run `payload` describes, on the shared sync pool (safe from any thread)."""
        with self._sync_lock:
            pool = self._sync
            if pool is None:
                pool = self._sync = sync_client(self._pool_url(), DEFAULT_TIMEOUT, _NO_KEY, proxies=_proxies())
        return AgentClient.from_payload(payload, base_url=self._base_url, http_client=pool, hooks=self._hooks)

    async def aclose(self) -> None:
        """Close the async pool (the runs that used it have ended)."""
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    def close(self) -> None:
        """Close the sync pool."""
        with self._sync_lock:
            pool, self._sync = self._sync, None
        if pool is not None:
            pool.close()

    def _new_async_pool(self) -> AsyncSdkClient:
        return backend_client(
            self._pool_url(), DEFAULT_TIMEOUT, _NO_KEY, True, http_backend=self._http_backend, proxies=_proxies()
        )

    def _pool_url(self) -> str:
        return self._base_url or "http://127.0.0.1"  # a pool's base URL is unused: every request has its own


def _proxies() -> dict[str, httpx2.Proxy | None]:
    """The proxies of the environment, as each run's own client would take them."""
    return checked_proxies(None, trust_env=True, brought=False)
