"""AgentClient and AsyncAgentClient: a runtime reporting on its one run (agent API key)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence

import httpx2

from .._core._engine import Flow, T
from .._errors import RunCancelledError
from .._http._transport import ProxyOption
from .._options import DEFAULT_DEADLINE_S, DEFAULT_MAX_RETRIES
from .._pooled import AsyncPooledClient, PooledClient
from ..hooks import Hook
from ._async_reporter import AsyncReporter
from ._reporter import Reporter


class AgentClient(Reporter, PooledClient):
    """The runtime's client for one run (sync): report progress and resolve credentials.

    As a context manager it sends `started` on entry and, if the block raises, `fail` with the
    exception (type, message and traceback), then re-raises it. A block that ends normally with the
    run neither ended (complete, fail) nor waiting on a token sends `fail` (`IncompleteRunError`),
    so a forgotten `complete()` never leaves the run running until its maxRunDurationMs.

    Examples:
        >>> payload = TriggerPayload.parse(request_body)                    # doctest: +SKIP
        >>> with AgentClient.from_payload(payload) as agent:                # doctest: +SKIP
        ...     agent.output({"progress": 0.5})
        ...     agent.complete({"pages": 42}, outputs=42)

    Args:
        api_key: The agent API key (from the trigger payload); never shown.
        run_id: The run to report on.
        base_url: The platform's URL; falls back to `CXPA_API_URL`.
        credentials_token: The run's credentials token, needed by `resolve_credential`.
        timeout: Each HTTP request's timeouts, in seconds or as an httpx2.Timeout.
        max_retries: Retries after the first attempt (each event carries one Idempotency-Key).
        deadline: The most one call may take in all, in seconds.
        http_client: An httpx2.Client to use (not closed by `close`).
        verify: TLS verification: True, a CA bundle path, or an ssl.SSLContext.
        allow_insecure: Allow a plain http:// URL to a host that is not this machine.
        default_headers: Headers sent on every request (a gateway's, tracing); the SDK's own
            (Authorization, Idempotency-Key, X-Credentials-Token, ...) are refused, and a
            User-Agent is appended to the SDK's. Their values are never shown.
        proxy: A proxy for every request (a URL or an httpx2.Proxy); not with `http_client=`.
        trust_env: Read HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY when `proxy` is not given
            (default True).
        hooks: Hook objects that hear of every call and attempt (docs/observability.md).
        trace_context: The W3C trace context to continue: `traceparent` and optionally
            `tracestate`, as the trigger payload carries them (`from_payload` passes them on);
            hooks see it in `CallInfo.trace_context` (`cxpa_sdk.otel.OpenTelemetryHook` makes
            this client's spans children of the caller's trace).
    """

    def __init__(
        self,
        *,
        api_key: str,
        run_id: str,
        base_url: str | None = None,
        credentials_token: str | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        http_client: httpx2.Client | None = None,
        verify: bool | str | ssl.SSLContext = True,
        allow_insecure: bool = False,
        default_headers: Mapping[str, str] | None = None,
        proxy: ProxyOption | None = None,
        trust_env: bool = True,
        hooks: Sequence[Hook] | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        self._setup(
            api_key=api_key,
            run_id=run_id,
            base_url=base_url,
            credentials_token=credentials_token,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
            default_headers=default_headers,
            hooks=hooks,
            trace_context=trace_context,
        )
        self._init_pool(http_client, verify=verify, proxy=proxy, trust_env=trust_env)

    def _do(self, flow: Flow[T]) -> T:
        try:
            return self._track(self._run(flow))
        except RunCancelledError as error:
            self._note_cancel(error)
            raise

    def close(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=`)."""
        if self._owns_http:
            self._http.close()


class AsyncAgentClient(AsyncReporter, AsyncPooledClient):
    """The runtime's client for one run (async): report progress and resolve credentials.

    As an async context manager it sends `started` on entry and, if the block raises, `fail` with
    the exception, then re-raises it; a block that ends with the run unfinished sends `fail`, as
    AgentClient's does. It takes AgentClient's arguments (`http_client` an
    httpx2.AsyncClient), and `http_backend`: "httpx2" (the default) or "aiohttp" (see AsyncCxpa; no
    proxy there).

    Examples:
        >>> async with AsyncAgentClient.from_payload(payload) as agent:      # doctest: +SKIP
        ...     await agent.complete({"pages": 42})
    """

    def __init__(
        self,
        *,
        api_key: str,
        run_id: str,
        base_url: str | None = None,
        credentials_token: str | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        http_client: httpx2.AsyncClient | None = None,
        verify: bool | str | ssl.SSLContext = True,
        allow_insecure: bool = False,
        http_backend: str = "httpx2",
        default_headers: Mapping[str, str] | None = None,
        proxy: ProxyOption | None = None,
        trust_env: bool = True,
        hooks: Sequence[Hook] | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        self._setup(
            api_key=api_key,
            run_id=run_id,
            base_url=base_url,
            credentials_token=credentials_token,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
            default_headers=default_headers,
            hooks=hooks,
            trace_context=trace_context,
        )
        self._init_pool(http_client, verify=verify, proxy=proxy, trust_env=trust_env, http_backend=http_backend)

    async def _do(self, flow: Flow[T]) -> T:
        try:
            return self._track(await self._run(flow))
        except RunCancelledError as error:
            self._note_cancel(error)
            raise

    async def aclose(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=`)."""
        if self._owns_http:
            await self._pools.aclose()
