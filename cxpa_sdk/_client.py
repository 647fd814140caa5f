"""Cxpa: the sync client for callers of the platform (ingest API key)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx2

from ._base import BaseClient
from ._core import _operations as ops
from ._core._engine import DEFAULT_MAX_ANSWER_BYTES, Flow, T
from ._core._events import EventReader
from ._core._seam import Seam
from ._download._stream import Download
from ._handles import checked_reference, noting_run, trigger_answer
from ._http._driver import drive
from ._http._transport import ProxyOption, sync_client
from ._options import DEFAULT_DEADLINE_S, DEFAULT_MAX_RETRIES, checked_http_client, checked_proxies, verify_option
from ._sync_handles import RunHandle
from .hooks import Hook, checked_hooks
from .types import IngestedRun, RegisteredRun, Run, RunEvent, RunStatus, WaitTimedOut

if TYPE_CHECKING:
    from cxpa_api import AuthenticatedClient


class Cxpa(BaseClient):
    """The CXPA client (sync): trigger, wait for, download, register, report, read and cancel runs.

    One client holds one connection pool: create it once and share it (it is thread-safe).

    Example:
        >>> from cxpa_sdk import Cxpa                                   # doctest: +SKIP
        >>> with Cxpa() as client:  # CXPA_API_URL and CXPA_INGEST_KEY   # doctest: +SKIP
        ...     result = client.trigger_run_and_wait(42, {"topic": "Q3"}, timeout_ms=120_000)

    Args:
        base_url: The platform's URL; falls back to `CXPA_API_URL`.
        ingest_api_key: The ingest API key; falls back to `CXPA_INGEST_KEY`. Sent only in the
            Authorization header, never shown. A callable returning the key is asked before every
            attempt (for keys that rotate); the keys it returns are masked like a fixed one.
        timeout: Each HTTP request's timeouts, in seconds or as an httpx2.Timeout (default: connect
            5 s, read 60 s, write 60 s; every phase finite but the wait for a free connection, which
            is bounded by the call's deadline unless a `pool` is given).
        max_retries: Retries after the first attempt for transient failures (0 disables them).
        deadline: The most one call may take in all, attempts and backoff included, in seconds;
            waits add their own time on top.
        http_client: An httpx2.Client to use instead of the SDK's own (not closed by `close`).
        verify: TLS verification: True, a CA bundle path, or an ssl.SSLContext.
        allow_insecure: Allow a plain http:// URL to a host that is not this machine.
        max_answer_bytes: The largest JSON answer read into memory (default 8 MiB); a larger one is
            InvalidResponseError, read no further.
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
        ingest_api_key: str | Callable[[], str] | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        http_client: httpx2.Client | None = None,
        verify: bool | str | ssl.SSLContext = True,
        allow_insecure: bool = False,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
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
        )
        self._settings = self._settings.with_changes(hooks=checked_hooks(hooks))
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
        self._http = self._pool(self._http, self._new_pool)
        return drive(flow, self._http, self._sleep)

    @property
    def _seam(self) -> Seam:
        """This client as module functions and handles use it (`_core._seam`)."""
        return Seam(self._settings, self._run)

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated `cxpa_api` client on this client's httpx client, for edge cases."""
        return self._raw(self._http)

    def trigger_run(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> RunHandle:
        """Start a run of a platform-managed agent and return at once: a handle on it.

        The handle has the trigger's `run_id` and `status` (as the seed's `triggerRun` returns)
        and waits for, reads, cancels and follows the run: `handle.result()`, `handle.wait()`,
        `handle.refresh()`, `handle.cancel()`, `handle.events()`.

        Args:
            agent_id: The agent's id.
            input: The run's input, a JSON object.
            idempotency_key: The Idempotency-Key (default: a fresh UUID, the same on every retry).
        """
        triggered = self._run(ops.trigger_run(self._settings, agent_id, input, idempotency_key=idempotency_key))
        return RunHandle(self, agent_id, triggered.run_id, triggered.status, **trigger_answer(triggered))

    def run(self, agent_id: int, run_id: str) -> RunHandle:
        """A handle on an existing run (nothing is sent): `client.run(**handle.to_dict())` rebuilds a stored one."""
        agent, run = checked_reference(agent_id, run_id)
        return RunHandle(self, agent, run, None, attempts=0)

    def trigger_run_and_wait(
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
        known: list[str] = []
        key = ops.key_for(idempotency_key)
        flow = ops.trigger_run_and_wait(
            self._settings, agent_id, input, timeout_ms=timeout_ms, idempotency_key=key, known=known
        )
        with noting_run(agent_id, known, key):
            return self._run(flow)

    def trigger_run_and_download(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> Download:
        """Start a run of a file agent and stream its file; use the result with `with`.

        The request is sent when the `with` block is entered; it is retried only before the
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
        return Download(lambda: self._run(flow))

    def register_run(self, agent_id: int, external_run_id: str, *, idempotency_key: str | None = None) -> RegisteredRun:
        """Register an externally triggered run; its id and a credentials token for its runtime."""
        flow = ops.register_run(self._settings, agent_id, external_run_id, idempotency_key=idempotency_key)
        return self._run(flow)

    def ingest_run(
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
        return self._run(flow)

    def get_run(self, agent_id: int, run_id: str) -> Run:
        """Read a run as it stands."""
        return self._run(ops.get_run(self._settings, agent_id, run_id))

    def cancel_run(self, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Run:
        """Cancel a run that has not ended; the cancelled Run."""
        return self._run(ops.cancel_run(self._settings, agent_id, run_id, idempotency_key=idempotency_key))

    def resume_run(
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
        return self._run(flow)

    def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float = 300.0) -> Run:
        """Wait for an existing run to end, long-polling in segments under 60 s; the terminal Run.

        Raises:
            WaitTimeoutError: `timeout` seconds passed first (the run may still be running).
        """
        with noting_run(agent_id, [run_id]):
            return self._run(ops.wait_for_run(self._settings, agent_id, run_id, timeout=timeout))

    def run_events(
        self, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> Iterator[RunEvent]:
        """The run's events as they happen, oldest first, until its `ended` event (with the final Run).

        Each status change (`status`), each output its runtime sends (`output`), each wait on a
        token (`waiting`), and the end (`ended`). Each request is held at most about 50 s (under
        NAT idle timeouts); a read that fails on the way (a dropped connection, a 503) is retried
        with the same cursor, so no event is lost or repeated. Stopping the iteration never cancels
        the run. On an older platform without the events endpoint, the events are inferred from run
        reads: intermediate outputs may be coalesced, and `at` is None.

        Example:
            >>> for event in client.run_events(42, run_id, timeout=600):  # doctest: +SKIP
            ...     print(event.type, event.status, event.output)

        Args:
            agent_id: The agent's id.
            run_id: The run's id.
            after: The cursor of the last event already seen (`event.cursor`, or a WaitTimeoutError's
                `cursor`): only the events after it are yielded. None: every event from the start.
            timeout: The most the whole iteration may take, in seconds (default 300).

        Raises:
            WaitTimeoutError: `timeout` passed before the run's last event; its `cursor` resumes
                the iteration (`after=exc.cursor`).
            NotFoundError: No such run (or agent).
        """
        reader = EventReader(self._settings, agent_id, run_id, after=after, timeout=timeout)
        return self._events(reader)

    def _events(self, reader: EventReader) -> Iterator[RunEvent]:
        while not reader.ended:
            yield from self._run(reader.read())

    def close(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=` or shared by `with_options`)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Cxpa:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
