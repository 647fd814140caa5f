"""AsyncCxpa: the async client for callers of the platform (ingest API key)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx2

from . import _config as check
from ._async_handles import AsyncRunHandle
from ._base import BaseClient
from ._core import _operations as ops
from ._core._engine import DEFAULT_MAX_ANSWER_BYTES, Flow, T
from ._core._events import EventReader
from ._core._seam import AsyncSeam
from ._download._stream import AsyncDownload
from ._handles import checked_reference, noting_run, trigger_answer
from ._http._driver import adrive
from ._http._pools import AsyncPools, async_pool
from ._http._transport import ProxyOption
from ._options import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RETRIES,
    checked_async_key,
    checked_http_backend,
    checked_http_client,
    checked_proxies,
    verify_option,
)
from .hooks import Hook, checked_hooks
from .types import IngestedRun, RegisteredRun, Run, RunEvent, RunStatus, WaitTimedOut

if TYPE_CHECKING:
    import asyncio

    from cxpa_api import AuthenticatedClient

    from ._waits import AsyncWaitHub


class AsyncCxpa(BaseClient):
    """The CXPA client (async): trigger, wait for, download, register, report, read and cancel runs.

    One client holds one connection pool: create it once per event loop and share it between tasks.

    Example:
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
            async_key_ok=True,
        )
        self._settings = self._settings.with_changes(hooks=checked_hooks(hooks))
        http_client = checked_http_client(http_client, httpx2.AsyncClient)
        self._http_backend = checked_http_backend(http_backend, brought=http_client is not None)
        self._proxies = checked_proxies(
            proxy, trust_env=trust_env, brought=http_client is not None, http_backend=self._http_backend
        )
        checked_async_key(self._settings, brought=http_client is not None)
        self._owns_http = http_client is None
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._asleep = asyncio.sleep  # the backoff's sleep; tests replace it to retry without waiting
        self._hubs: dict[asyncio.AbstractEventLoop, AsyncWaitHub] = {}  # shared waits, one per event loop
        self._verify = verify_option(verify)
        self._pools = AsyncPools(
            http_client or self._new_pool(), None if http_client else self._new_pool, type(self).__name__
        )

    def _new_pool(self) -> httpx2.AsyncClient:
        return async_pool(self._settings, self._verify, self._http_backend, self._proxies)

    @property
    def _http(self) -> httpx2.AsyncClient:
        return self._pools.peek()

    async def _run(self, flow: Flow[T]) -> T:
        return await adrive(flow, self._pools.here(), self._asleep)

    @property
    def _seam(self) -> AsyncSeam:
        """This client as module functions and shared waits use it (`_core._seam`)."""
        return AsyncSeam(self._settings, self._run)

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated `cxpa_api` client on this client's httpx client, for edge cases."""
        return self._raw(self._http)

    async def trigger_run(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> AsyncRunHandle:
        """Start a run of a platform-managed agent and return at once: a handle on it.

        The handle has the trigger's `run_id` and `status` and waits for, reads, cancels and
        follows the run: `await handle.result()`, `wait()`, `refresh()`, `cancel()`, `events()`.

        Args:
            agent_id: The agent's id.
            input: The run's input, a JSON object.
            idempotency_key: The Idempotency-Key (default: a fresh UUID, the same on every retry).
        """
        flow = ops.trigger_run(self._settings, agent_id, input, idempotency_key=idempotency_key)
        triggered = await self._run(flow)
        return AsyncRunHandle(self, agent_id, triggered.run_id, triggered.status, **trigger_answer(triggered))

    def run(self, agent_id: int, run_id: str) -> AsyncRunHandle:
        """A handle on an existing run (nothing is sent): `client.run(**handle.to_dict())` rebuilds a stored one."""
        agent, run = checked_reference(agent_id, run_id)
        return AsyncRunHandle(self, agent, run, None, attempts=0)

    async def trigger_run_and_wait(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> Run | WaitTimedOut:
        """Start a run and wait for it to end: the terminal Run, or WaitTimedOut when `timeout_ms` passed.

        Each HTTP request stays under 60 s (a server window of about 50 s, then run reads with
        waitMs on the same run), so long waits survive proxies and NATs; the run is never
        triggered twice.

        Args:
            agent_id: The agent's id.
            input: The run's input, a JSON object.
            timeout_ms: How long to wait for the run, in milliseconds (default 30000).
            idempotency_key: The trigger's Idempotency-Key (default: a fresh UUID).
        """
        from ._waits import SharedWaits  # noqa: PLC0415 - asyncio loads with the first wait

        known: list[str] = []
        key = ops.key_for(idempotency_key)
        with noting_run(agent_id, known, key):
            return await SharedWaits(self).trigger_run_and_wait(
                agent_id, input, timeout_ms=timeout_ms, idempotency_key=key, known=known
            )

    def trigger_run_and_download(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncDownload:
        """Start a run of a file agent and stream its file; use the result with `async with`.

        The request is sent when the `async with` block is entered; it is retried only before the
        first byte of the file.

        Args:
            agent_id: The agent's id (its outputKind must be file_download).
            input: The run's input, a JSON object.
            timeout_ms: How long to wait for the first byte, in milliseconds (default 30000).
            idempotency_key: The trigger's Idempotency-Key (default: a fresh UUID).
        """
        flow = ops.open_download(
            self._settings, agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key
        )
        return AsyncDownload(lambda: self._run(flow))

    async def register_run(
        self, agent_id: int, external_run_id: str, *, idempotency_key: str | None = None
    ) -> RegisteredRun:
        """Register an externally triggered run; its id and a credentials token for its runtime."""
        flow = ops.register_run(self._settings, agent_id, external_run_id, idempotency_key=idempotency_key)
        return await self._run(flow)

    async def ingest_run(
        self,
        agent_id: int,
        external_run_id: str,
        status: RunStatus | str,
        *,
        output: Any = ops._UNSET,
        outputs: int | None = None,
        error: BaseException | str | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> IngestedRun:
        """Report the status of a standalone agent's run (created or updated by its external id).

        Args:
            agent_id: The standalone agent's id.
            external_run_id: Your id for the run.
            status: The run's status.
            output: Its output, any JSON.
            outputs: A count of output units.
            error: Why it failed: an exception (type, message and traceback are sent), a message,
                or a mapping with message, name and stack.
            idempotency_key: The Idempotency-Key (default: a fresh UUID).
        """
        flow = ops.ingest_run(
            self._settings,
            agent_id,
            external_run_id,
            status,
            output=output,
            outputs=outputs,
            error=error,
            idempotency_key=idempotency_key,
        )
        return await self._run(flow)

    async def get_run(self, agent_id: int, run_id: str) -> Run:
        """Read a run as it stands."""
        return await self._run(ops.get_run(self._settings, agent_id, run_id))

    async def cancel_run(self, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Run:
        """Cancel a run that has not ended; the cancelled Run."""
        return await self._run(ops.cancel_run(self._settings, agent_id, run_id, idempotency_key=idempotency_key))

    async def resume_run(
        self,
        agent_id: int,
        run_id: str,
        token_id: str,
        output: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Run:
        """Resume a run that waits on `token_id` (it reported `waiting`); the Run as it stands after.

        The platform takes the token and tells the run's runtime (a URL runtime is sent the resume
        payload, with `output` and the run's input), whose `started` moves the run back to running:
        until then the Run is still `waiting`, with `waiting` None. An extension of the seed's
        contract (`POST .../runs/{runId}/resume`).

        Args:
            agent_id: The agent's id.
            run_id: The run's id.
            token_id: The token the run waits on (`run.waiting.token_id`).
            output: What to pass on to the runtime, a JSON object (such as an approval's details);
                None sends none (the runtime sees `{}`).
            idempotency_key: The Idempotency-Key (default: a fresh UUID, the same on every retry).

        Raises:
            NotFoundError: No such run, or the run never waited on that token (`token_not_found`);
                also a platform without the endpoint (another code).
            ConflictError: The run is not waiting on that token now (`not_waiting`: resumed already,
                or it moved on), or it has ended (`run_finished`).
        """
        flow = ops.resume_run(self._settings, agent_id, run_id, token_id, output, idempotency_key=idempotency_key)
        return await self._run(flow)

    async def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float = 300.0) -> Run:
        """Wait for an existing run to end, long-polling in segments under 60 s; the terminal Run.

        Raises:
            WaitTimeoutError: `timeout` seconds passed first (the run may still be running).
        """
        agent, run_id = checked_reference(agent_id, run_id)
        wait_s = check.seconds(timeout, "timeout")
        from ._waits import SharedWaits  # noqa: PLC0415 - asyncio loads with the first wait

        with noting_run(agent, [run_id]):
            return await SharedWaits(self).wait_for_run(agent, run_id, wait_s)

    def _cloned(self) -> None:
        self._hubs = {}  # a hub sends with its client's settings: a with_options copy gets its own

    def run_events(
        self, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> AsyncIterator[RunEvent]:
        """The run's events as they happen, oldest first, until its `ended` event: `async for event in ...`.

        As `Cxpa.run_events` (status changes, outputs, waits, the end; each request under the NAT
        window; retried with the same cursor, so nothing is lost or repeated; an older platform's
        events inferred from run reads). The arguments are checked at once, before anything is sent.
        Cancelling the task that iterates never cancels the run.

        Args:
            agent_id: The agent's id.
            run_id: The run's id.
            after: The cursor of the last event already seen; None: every event from the start.
            timeout: The most the whole iteration may take, in seconds (default 300).

        Raises:
            WaitTimeoutError: `timeout` passed before the run's last event; its `cursor` resumes it.
            NotFoundError: No such run (or agent).
        """
        reader = EventReader(self._settings, agent_id, run_id, after=after, timeout=timeout)
        return self._events(reader)

    async def _events(self, reader: EventReader) -> AsyncIterator[RunEvent]:
        while not reader.ended:
            for event in await self._run(reader.read()):
                yield event

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
