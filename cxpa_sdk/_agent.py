"""AgentClient and AsyncAgentClient: a runtime reporting on its one run (agent API key)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx2

from . import _config as check
from . import _operations as ops
from ._base import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RETRIES,
    AsyncPools,
    ForkGuard,
    async_pool,
    checked_http_backend,
    checked_http_client,
    checked_proxies,
    make_settings,
    verify_option,
)
from ._driver import adrive, drive
from ._engine import Flow, Settings, T
from ._errors import CxpaError, InvalidArgumentError, InvalidArgumentTypeError
from ._transport import ProxyOption, enable_env_logging, logger, sync_client
from .types import CallbackAccepted, Credential, ResumePayload, RunStatus, TriggerPayload, parse_runtime_payload


class _AgentBase(ForkGuard):
    """What both agent clients share: checked settings, the run, the credentials token, the events."""

    _settings: Settings
    _owns_http: bool
    _last_status: RunStatus | None = None  # the run's status after the last event this client sent

    def _track(self, result: T) -> T:
        """Remember the run's status after an event, for the end of a `with` block."""
        if isinstance(result, CallbackAccepted):
            self._last_status = result.status
        return result

    def _unfinished(self) -> bool:
        """Whether a `with` block that ends now leaves the run neither ended nor waiting on a token."""
        status = self._last_status
        return status is None or not (status.terminal or status == RunStatus.WAITING)

    def _ended_without_outcome(self) -> Flow[CallbackAccepted]:
        message = (
            f"the `with {type(self).__name__}` block ended without complete() or fail(): the run was still "
            f"{self._last_status or 'running'}, so it is reported failed rather than left running"
        )
        return self._fail(message, "IncompleteRunError", None)

    def _setup(
        self,
        *,
        api_key: str,
        run_id: str,
        base_url: str | None,
        credentials_token: str | None,
        timeout: float | httpx2.Timeout | None,
        max_retries: int,
        deadline: float,
        allow_insecure: bool,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        enable_env_logging()
        if callable(api_key) and not isinstance(api_key, str):
            # The platform mints a run's agent key once, in the trigger payload, and never renews it:
            # there is nothing a callable could fetch that the payload did not already hold.
            raise InvalidArgumentTypeError(
                "api_key must be a str: an agent key is minted per run in the trigger payload and does not "
                "rotate (AgentClient.from_payload reads it)"
            )
        self._settings = make_settings(
            headers=default_headers,
            base_url=base_url,
            key=api_key,
            key_name="api_key",
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
        )
        self._run_id = check.identifier(run_id, "run_id")
        self._credentials_token = (
            None if credentials_token is None else check.secret(credentials_token, "credentials_token")
        )

    @property
    def run_id(self) -> str:
        """The run this client reports on."""
        return self._run_id

    @property
    def base_url(self) -> str:
        """The platform's base URL."""
        return self._settings.base_url

    def __repr__(self) -> str:
        run_id, settings = getattr(self, "_run_id", None), getattr(self, "_settings", None)
        if run_id is None or settings is None:  # the constructor refused an argument
            return f"{type(self).__name__}(not configured)"
        return f"{type(self).__name__}(run_id={run_id!r}, base_url={settings.base_url!r}, api_key='***')"

    def _event(self, event: Mapping[str, Any]) -> Flow[CallbackAccepted]:
        return ops.post_callback(self._settings, self._run_id, event)

    @staticmethod
    def _output_event(output: Any, outputs: int | None, **flags: bool) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "output", "output": output, **flags}
        if outputs is not None:
            event["outputs"] = check.non_negative_int(outputs, "outputs")
        return event

    def _started(self) -> Flow[CallbackAccepted]:
        return self._event({"type": "started"})

    def _output(self, output: Any, outputs: int | None) -> Flow[CallbackAccepted]:
        return self._event(self._output_event(output, outputs))

    def _complete(self, output: Any, outputs: int | None) -> Flow[CallbackAccepted]:
        return self._event(self._output_event(output, outputs, complete=True))

    def _fail(self, error: BaseException | str, name: str | None, stack: str | None) -> Flow[CallbackAccepted]:
        return self._event({"type": "output", "failed": True, "error": ops.error_body(error, name=name, stack=stack)})

    def _waiting(self, token_id: str, description: str, output: Any) -> Flow[CallbackAccepted]:
        if not isinstance(description, str):
            raise check.InvalidArgumentTypeError(f"description must be a str, not {type(description).__name__}")
        event: dict[str, Any] = {
            "type": "waiting",
            "tokenId": check.identifier(token_id, "token_id", 256),
            "description": description,
        }
        if output is not ops._UNSET:
            event["output"] = output
        return self._event(event)

    def _resolve(self, connection_id: str) -> Flow[Credential]:
        if self._credentials_token is None:
            raise InvalidArgumentError(
                "resolve_credential needs a credentials token: pass credentials_token= when creating the "
                "agent client (it comes in the trigger payload, or from register_run)"
            )
        return ops.resolve_credential(self._settings, connection_id, self._credentials_token)


class AgentClient(_AgentBase):
    """The runtime's client for one run (sync): report progress and resolve credentials.

    As a context manager it sends `started` on entry and, if the block raises, `fail` with the
    exception (type, message and traceback), then re-raises it. A block that ends normally with the
    run neither ended (complete, fail) nor waiting on a token sends `fail` (`IncompleteRunError`),
    so a forgotten `complete()` never leaves the run running until its maxRunDurationMs.

    Example:
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
        )
        http_client = checked_http_client(http_client, httpx2.Client)
        self._proxies = checked_proxies(proxy, trust_env=trust_env, brought=http_client is not None)
        self._owns_http = http_client is None
        self._sleep = time.sleep  # the backoff's sleep; tests replace it to retry without waiting
        self._verify = verify_option(verify)
        self._guard(brought_http=http_client is not None)
        self._http = http_client or self._new_pool()

    def _new_pool(self) -> httpx2.Client:
        settings = self._settings
        return sync_client(
            settings.base_url, settings.timeout, settings.authorization, self._verify, proxies=self._proxies
        )

    @classmethod
    def from_payload(
        cls,
        payload: TriggerPayload | ResumePayload | bytes | str | Mapping[str, Any],
        *,
        base_url: str | None = None,
        **options: Any,
    ) -> Self:
        """The client for the run a trigger or resume payload describes (its key, run id and credentials token)."""
        parsed = payload if isinstance(payload, TriggerPayload | ResumePayload) else parse_runtime_payload(payload)
        return cls(
            api_key=parsed.agent_api_key,
            run_id=parsed.run_id,
            base_url=base_url,
            credentials_token=parsed.credentials_token,
            **options,
        )

    def _do(self, flow: Flow[T]) -> T:
        self._http = self._pool(self._http, self._new_pool)
        return self._track(drive(flow, self._http, self._sleep))

    def started(self) -> CallbackAccepted:
        """Report that the runtime began work; the platform's answer (the run's status after it)."""
        return self._do(self._started())

    def output(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """Report an intermediate output (any JSON) and optionally a count of output units."""
        return self._do(self._output(output, outputs))

    def complete(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """End the run completed with its output."""
        return self._do(self._complete(output, outputs))

    def fail(self, error: BaseException | str, *, name: str | None = None, stack: str | None = None) -> CallbackAccepted:
        """End the run failed: an exception (its type, message and traceback are sent) or a message."""
        return self._do(self._fail(error, name, stack))

    def waiting(self, token_id: str, description: str, output: Any = ops._UNSET) -> CallbackAccepted:
        """Pause the run until `token_id` is resumed; `description` says what it waits for."""
        return self._do(self._waiting(token_id, description, output))

    def resolve_credential(self, connection_id: str) -> Credential:
        """A credential connection's values (needs the credentials token); never shown in repr."""
        return self._do(self._resolve(connection_id))

    def close(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=`)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        try:
            self.started()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if isinstance(exc, Exception):
                try:
                    self.fail(exc)
                except CxpaError as report_error:
                    logger.warning("could not report the failure of run %s: %s", self._run_id, report_error)
            elif exc is None and self._unfinished():
                try:
                    self._do(self._ended_without_outcome())
                except CxpaError as report_error:
                    _log_unreported(self._run_id, report_error)
        finally:
            self.close()


class AsyncAgentClient(_AgentBase):
    """The runtime's client for one run (async): report progress and resolve credentials.

    As an async context manager it sends `started` on entry and, if the block raises, `fail` with
    the exception, then re-raises it; a block that ends with the run unfinished sends `fail`, as
    AgentClient's does. It takes AgentClient's arguments (`http_client` an
    httpx2.AsyncClient), and `http_backend`: "httpx2" (the default) or "aiohttp" (see AsyncCxpa; no
    proxy there).

    Example:
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
        )
        http_client = checked_http_client(http_client, httpx2.AsyncClient)
        self._http_backend = checked_http_backend(http_backend, brought=http_client is not None)
        self._proxies = checked_proxies(
            proxy, trust_env=trust_env, brought=http_client is not None, http_backend=self._http_backend
        )
        self._owns_http = http_client is None
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._asleep = asyncio.sleep  # the backoff's sleep; tests replace it to retry without waiting
        self._verify = verify_option(verify)
        self._pools = AsyncPools(
            http_client or self._new_pool(), None if http_client else self._new_pool, type(self).__name__
        )

    def _new_pool(self) -> httpx2.AsyncClient:
        return async_pool(self._settings, self._verify, self._http_backend, self._proxies)

    @classmethod
    def from_payload(
        cls,
        payload: TriggerPayload | ResumePayload | bytes | str | Mapping[str, Any],
        *,
        base_url: str | None = None,
        **options: Any,
    ) -> Self:
        """The client for the run a trigger or resume payload describes (its key, run id and credentials token)."""
        parsed = payload if isinstance(payload, TriggerPayload | ResumePayload) else parse_runtime_payload(payload)
        return cls(
            api_key=parsed.agent_api_key,
            run_id=parsed.run_id,
            base_url=base_url,
            credentials_token=parsed.credentials_token,
            **options,
        )

    async def _do(self, flow: Flow[T]) -> T:
        return self._track(await adrive(flow, self._pools.here(), self._asleep))

    async def started(self) -> CallbackAccepted:
        """Report that the runtime began work; the platform's answer (the run's status after it)."""
        return await self._do(self._started())

    async def output(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """Report an intermediate output (any JSON) and optionally a count of output units."""
        return await self._do(self._output(output, outputs))

    async def complete(self, output: Any, outputs: int | None = None) -> CallbackAccepted:
        """End the run completed with its output."""
        return await self._do(self._complete(output, outputs))

    async def fail(self, error: BaseException | str, *, name: str | None = None, stack: str | None = None) -> CallbackAccepted:
        """End the run failed: an exception (its type, message and traceback are sent) or a message."""
        return await self._do(self._fail(error, name, stack))

    async def waiting(self, token_id: str, description: str, output: Any = ops._UNSET) -> CallbackAccepted:
        """Pause the run until `token_id` is resumed; `description` says what it waits for."""
        return await self._do(self._waiting(token_id, description, output))

    async def resolve_credential(self, connection_id: str) -> Credential:
        """A credential connection's values (needs the credentials token); never shown in repr."""
        return await self._do(self._resolve(connection_id))

    async def aclose(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=`)."""
        if self._owns_http:
            await self._pools.aclose()

    async def __aenter__(self) -> Self:
        try:
            await self.started()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if isinstance(exc, Exception):
                try:
                    await self.fail(exc)
                except CxpaError as report_error:
                    logger.warning("could not report the failure of run %s: %s", self._run_id, report_error)
            elif exc is None and self._unfinished():
                try:
                    await self._do(self._ended_without_outcome())
                except CxpaError as report_error:
                    _log_unreported(self._run_id, report_error)
        finally:
            await self.aclose()


def _log_unreported(run_id: str, error: CxpaError) -> None:
    """Log that the end of a block could not end its run: DEBUG when the run had ended anyway (cancelled)."""
    if getattr(error, "code", None) == "run_finished":
        logger.debug("run %s had already ended when its block ended: %s", run_id, error)
    else:
        logger.warning("could not report that the block of run %s ended unfinished: %s", run_id, error)
