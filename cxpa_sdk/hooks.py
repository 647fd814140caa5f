"""Hooks: observe (and add headers to) every attempt of every call, sync and async.

A call is one HTTP operation of the spec with its retries (`trigger_run` is one; `wait_for_run`
is one per held read). For each, a client's hooks hear, in order: `call_started`, then for each
attempt `attempt_started` (which may add headers) and `attempt_ended` (its status or error),
`retry_scheduled` between attempts (the delay and the reason), and `call_ended` (the outcome, the
attempts, the applied flag). They run inside the retry loop, in the call's own thread or task. A
hook method of an async client may be `async def`; it is awaited.

A hook that raises never breaks the call: the exception is logged (a WARNING on the `cxpa_sdk`
logger, without its traceback's locals) and the call goes on as if the hook had returned. A
client without hooks does no hook work at all.
"""

from __future__ import annotations

__all__ = ["AttemptEnded", "AttemptStarted", "CallEnded", "CallInfo", "Hook", "RetryScheduled"]

import itertools
from collections.abc import Mapping, MutableMapping
from typing import Any, NamedTuple

from . import _config as check
from ._errors import InvalidArgumentError, InvalidArgumentTypeError

_ids = itertools.count(1)

# The headers the SDK sets itself: a hook may not replace them (as `default_headers=` may not).
SDK_HEADERS = frozenset(
    {
        "authorization",
        "idempotency-key",
        "x-credentials-token",
        "accept",
        "accept-encoding",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
    }
)


class CallInfo(NamedTuple):
    """One call, as every event of it names it.

    Attributes:
        id: A number unique to this call in this process (to key per-call state, such as a span).
        operation: The spec's operationId (`trigger_run`, `get_run`, `post_callback`, ...).
        method: GET or POST.
        url: The URL without its query, and never with a key (`http://127.0.0.1:8787/api/...`).
        agent_id: The agent the call is about, when its path names one.
        run_id: The run the call is about, when its path names one.
        idempotency_key: The call's Idempotency-Key (POSTs), the same on every attempt.
        trace_context: The W3C trace context (`traceparent`, `tracestate`) an agent client was
            given in its trigger payload, to continue the caller's trace; empty otherwise.
    """

    id: int
    operation: str
    method: str
    url: str
    agent_id: int | None
    run_id: str | None
    idempotency_key: str | None
    trace_context: Mapping[str, str]


class AttemptStarted(NamedTuple):
    """An attempt is about to be sent.

    Attributes:
        call: The call.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        headers: The attempt's extra headers: set a header here (`traceparent`, a gateway's) and it is
            sent with this attempt. The SDK's own (Authorization, Idempotency-Key, ...) are refused
            with an InvalidArgumentError (logged, as any error of a hook).
    """

    call: CallInfo
    attempt: int
    headers: MutableMapping[str, str]


class AttemptEnded(NamedTuple):
    """An attempt got an answer, or failed without one.

    Attributes:
        call: The call.
        attempt: The attempt's number.
        status_code: The answer's HTTP status (None: no answer arrived).
        request_id: The answer's X-Request-Id (secrets masked), when there is one.
        error: The error this attempt ends the call with, or retries after (None: a success).
        elapsed: The attempt's seconds, from sending to its outcome.
    """

    call: CallInfo
    attempt: int
    status_code: int | None
    request_id: str | None
    error: BaseException | None
    elapsed: float


class RetryScheduled(NamedTuple):
    """The call will try again after a pause.

    Attributes:
        call: The call.
        attempt: The attempt that failed.
        delay: The seconds before the next attempt (Retry-After, or the backoff).
        reason: Why: the failed attempt's error class and message (secrets masked).
    """

    call: CallInfo
    attempt: int
    delay: float
    reason: str


class CallEnded(NamedTuple):
    """The call is over.

    Attributes:
        call: The call.
        outcome: `ok` or `error`.
        attempts: How many attempts it made.
        applied: True when the platform certainly applied it, False when certainly not, None when
            nobody can know (as `CxpaError.applied`; True for every success).
        status_code: The last answer's HTTP status (None: none arrived).
        error: The error the call raises (None: a success).
        elapsed: The call's seconds, from its first attempt to its outcome.
        run_id: The run the call concerned, once known: the path's, the answer's (a trigger's new
            run, a download's `X-Run-Id`), or the error's; None when none is.
    """

    call: CallInfo
    outcome: str
    attempts: int
    applied: bool | None
    status_code: int | None
    error: BaseException | None
    elapsed: float
    run_id: str | None = None


class Hook:
    """Base of a client's hooks: override the methods you need (each does nothing here).

    Pass instances with `hooks=[...]` to Cxpa, AsyncCxpa, AgentClient or AsyncAgentClient. With
    an async client a method may be `async def`. Example:

        >>> class Retries(Hook):                                        # doctest: +SKIP
        ...     def retry_scheduled(self, event: RetryScheduled) -> None:
        ...         metrics.increment("cxpa.retries", tags={"op": event.call.operation})
    """

    def call_started(self, event: CallInfo) -> Any:
        """A call begins (before its first attempt)."""

    def attempt_started(self, event: AttemptStarted) -> Any:
        """An attempt is about to be sent; `event.headers` takes headers to send with it."""

    def attempt_ended(self, event: AttemptEnded) -> Any:
        """An attempt got an answer or failed."""

    def retry_scheduled(self, event: RetryScheduled) -> Any:
        """The call will retry after `event.delay` seconds."""

    def call_ended(self, event: CallEnded) -> Any:
        """The call is over."""


def checked_hooks(hooks: object) -> tuple[Hook, ...]:
    """The hooks a client was given: a sequence of Hook instances (InvalidArgumentTypeError otherwise)."""
    if hooks is None:
        return ()
    if isinstance(hooks, Hook) or not isinstance(hooks, list | tuple):
        raise InvalidArgumentTypeError(f"hooks must be a list of Hook objects, not {type(hooks).__name__}")
    for hook in hooks:
        if not isinstance(hook, Hook):
            raise InvalidArgumentTypeError(
                f"hooks must be Hook objects (subclass cxpa_sdk.Hook), not {type(hook).__name__}"
            )
    return tuple(hooks)


def new_call(
    operation: str,
    method: str,
    url: str,
    params: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    trace_context: Mapping[str, str],
) -> CallInfo:
    """A CallInfo with a fresh id."""
    agent_id = params.get("agentId")
    run_id = params.get("runId")
    return CallInfo(
        next(_ids),
        operation,
        method,
        url,
        agent_id if isinstance(agent_id, int) else None,
        run_id if isinstance(run_id, str) else None,
        idempotency_key,
        trace_context,
    )


class AttemptHeaders(dict[str, str]):
    """The headers hooks add to an attempt: the SDK's own are refused by name."""

    def __setitem__(self, name: str, value: str) -> None:
        if name.lower() in SDK_HEADERS:
            raise InvalidArgumentError(f"a hook may not set {name}: the SDK sets it")
        check.header_value(value, f"header {name}", 8192)
        super().__setitem__(name, value)
