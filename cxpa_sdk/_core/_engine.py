"""The I/O-free core of every call: building requests, retry decisions, deadlines, parsing answers.

A call is a generator that yields steps (`Send`, `ReadBody`, `Close`, `Sleep`) and receives their
results; `_driver.drive` (sync) and `_driver.adrive` (async) perform the steps. Everything else — which request,
which answer is a success, what is retried and when, which error is raised — lives here once for
both the sync and the async clients.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import unquote, urlencode

from .._errors import (
    APITimeoutError,
    CxpaError,
    InvalidResponseError,
    answer_request_id,
    applied_by_answer,
    scrub,
    status_error,
    transport_error,
)
from .._logging import logger
from .._schema import SchemaError, validate
from ..hooks import AttemptEnded, AttemptHeaders, AttemptStarted, CallEnded, CallInfo, RetryScheduled, new_call
from ._decoding import ACCEPT_ENCODING, DecodingError
from ._exchange import Reply, Request, SendFailed, Timeouts
from ._keys import KeySource
from ._retry import RetryPolicy, decide, is_retryable_status, parse_retry_after

T = TypeVar("T")
# The largest JSON answer read into memory (an error or a Run row is a few KiB; 1 MiB inputs echo back).
DEFAULT_MAX_ANSWER_BYTES = 8 << 20


# The internal records below are NamedTuples, not dataclasses: a frozen dataclass costs about 1 ms of
# `import cxpa_sdk` each (it compiles its methods), a NamedTuple a tenth of that.


class Send(NamedTuple):
    """Send a request.

    The driver answers with the backend's response (headers read, body not yet), or throws
    SendFailed.
    """

    request: Request


class ReadBody(NamedTuple):
    """Read a response's body, decoded, at most `limit` bytes of it, by `deadline`, and close it.

    The driver answers with the bytes, or throws BodyTooLarge, DecodingError or SendFailed.
    """

    response: Reply
    limit: int
    deadline: float


class Close(NamedTuple):
    """Close a response (return its connection to the pool)."""

    response: Reply


class Sleep(NamedTuple):
    """Wait before the next attempt."""

    seconds: float


class Notify(NamedTuple):
    """Tell the client's hooks: the driver calls `method` of each with `event` (awaiting async ones).

    The driver logs what a hook raises and answers with None; a flow yields this only when the
    client has hooks.
    """

    hooks: tuple[Any, ...]
    method: str
    event: Any


Step = Send | ReadBody | Close | Sleep | Notify
Flow = Generator[Step, Any, T]


class BodyTooLarge(Exception):
    """Raised by a driver into the flow when an answer's body passes ReadBody's limit."""


class Settings(NamedTuple):
    """What a client fixes for its calls: where, who, and how patient.

    Attributes:
        base_url: The platform's base URL, without a trailing slash.
        authorization: The Authorization header value (`Bearer <key>`); never logged or shown.
        timeout: Each HTTP request's timeouts (every phase finite).
        deadline: The most one call may take in all, attempts and backoff included, in seconds.
        retry: The retry policy.
        max_answer_bytes: The largest JSON answer read into memory, decoded.
        rng: The jitter source (tests pass a seeded one).
        key_source: The callable that gives the key per attempt, when the key rotates (then
            `authorization` is a placeholder); None for a fixed key.
        headers: The caller's own headers (default_headers, with_options' extra_headers), checked;
            their values are never shown (one may be a tenant's token).
        hooks: The client's hooks (`hooks.Hook` objects); none: no hook work at all.
        trace_context: The W3C trace context an agent client continues (from its trigger payload).
        clock: The flows' clock, in `time.monotonic()` seconds (tests pass one that a fake Sleep
            advances, and drive flows with no sockets and no sleeping).
    """

    base_url: str
    authorization: str
    timeout: Timeouts
    deadline: float
    retry: RetryPolicy
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    rng: random.Random | None = None
    key_source: KeySource | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hooks: tuple[Any, ...] = ()
    trace_context: tuple[tuple[str, str], ...] = ()
    clock: Callable[[], float] = time.monotonic

    def __repr__(self) -> str:
        """The settings without the Authorization value."""
        return (
            f"Settings(base_url={self.base_url!r}, timeout={self.timeout!r}, deadline={self.deadline!r}, "
            f"retry={self.retry!r}, max_answer_bytes={self.max_answer_bytes!r})"
        )

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return self._replace(**changes)


class Operation(NamedTuple):
    """One HTTP operation of the spec: how to ask, and which answers mean success.

    Attributes:
        name: The operationId, for logs.
        method: GET or POST.
        path: The path, its parameters already percent-encoded.
        body: The JSON body bytes, or None.
        params: Query parameters.
        answers: Success status -> the component schema of its JSON body (None: a streamed file).
        extra_headers: Headers beyond Authorization and Idempotency-Key (not shown: one may be a token).
        read_timeout: A longer read timeout for requests the server holds open (long polls), in seconds.
        secrets: Values the call sends that no error may show (a credentials token), beside the key.
    """

    name: str
    method: str
    path: str
    body: bytes | None = None
    params: Mapping[str, str] | None = None
    answers: Mapping[int, str | None] = MappingProxyType({})
    extra_headers: Mapping[str, str] = MappingProxyType({})
    read_timeout: float | None = None
    secrets: tuple[str, ...] = ()

    def __repr__(self) -> str:
        """The operation without its extra headers and secrets (one may be a token)."""
        return (
            f"Operation(name={self.name!r}, method={self.method!r}, path={self.path!r}, "
            f"answers={dict(self.answers)!r}, read_timeout={self.read_timeout!r})"
        )


class Answer(NamedTuple):
    """A successful answer: its status, its validated JSON (None for a stream), and the open response.

    It carries what a result needs of it, so that results are built from the answer alone: its
    request id (masked like an error's: a server may echo what it was sent), whether it was an
    idempotent replay, and the attempts made. A streamed answer also carries what its reader's errors
    need: the call's Idempotency-Key and the secrets to mask in text that came from the server.
    """

    status: int
    data: Any
    response: Reply
    attempts: int = 1
    idempotency_key: str | None = None
    secrets: tuple[str, ...] = ()
    request_id: str | None = None
    replayed: bool = False

    def __repr__(self) -> str:
        """The answer without its data and secrets."""
        return f"Answer(status={self.status!r}, response={self.response!r}, attempts={self.attempts!r})"


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key for one logical call (the same on every retry): a random UUID, version 4.

    Built from os.urandom here, as uuid.uuid4() does, without importing `uuid` (which loads
    `platform`: some milliseconds of `import cxpa_sdk`).
    """
    value = bytearray(os.urandom(16))
    value[6] = (value[6] & 0x0F) | 0x40  # version 4
    value[8] = (value[8] & 0x3F) | 0x80  # RFC 9562 variant
    text = value.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def deadline_at(settings: Settings, seconds: float | None = None) -> float:
    """The `time.monotonic()` value at which a call started now must give up."""
    return settings.clock() + (settings.deadline if seconds is None else seconds)


def _attempt_timeout(settings: Settings, op: Operation, left: float) -> dict[str, float]:
    """Per-phase timeouts for one attempt, none beyond the time left before the deadline."""
    read = settings.timeout.read if op.read_timeout is None else op.read_timeout
    phases = {
        "connect": settings.timeout.connect,
        "read": read,
        "write": settings.timeout.write,
        "pool": settings.timeout.pool,
    }
    return {name: min(float(value or left), left) for name, value in phases.items()}


def _request(settings: Settings, op: Operation, key: str | None, left: float, deadline: float) -> Request:
    source = settings.key_source
    headers = {
        # A sync key source is asked here, for each attempt; an async one by the async pool's `send_own`.
        "Authorization": settings.authorization if source is None or source.is_async else source.authorization(),
        "Accept": "application/json",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if settings.headers:
        headers.update(settings.headers)  # checked: none of them is a header the SDK sets
    headers.update(op.extra_headers)
    if op.body is not None:
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    url = settings.base_url + op.path
    if op.params:
        url += "?" + urlencode(op.params)
    return Request(op.method, url, op.path, headers, op.body, _attempt_timeout(settings, op, left), deadline)


def _decode(body: bytes | bytearray, schema: str) -> tuple[Any, str | None]:
    """JSON answer bytes checked against the spec's schema: (the data, None), or (None, what is wrong)."""
    try:
        data = json.loads(body)
        validate(data, schema, open_enums=True)
    except (ValueError, SchemaError) as exc:
        return None, str(exc)
    except RecursionError:
        return None, "the JSON is nested too deeply"
    return data, None


def _error_fields(body: bytes | bytearray) -> tuple[str, str, str | None] | None:
    """The Error envelope's code, message and run id, or None when the body is not one."""
    try:
        data = json.loads(body)
        validate(data, "Error")
    except (ValueError, SchemaError, RecursionError):
        return None
    detail = data["error"]
    return detail["code"], detail["message"], detail.get("runId")


def call_secrets(settings: Settings, *tokens: str) -> tuple[str, ...]:
    """What no error, log line or result of a call may show: its key (every one a key callable gave), and `tokens`."""
    if settings.key_source is not None:
        return (*settings.key_source.seen(), *tokens)
    return (settings.authorization.removeprefix("Bearer "), *tokens)


def _secrets(settings: Settings, op: Operation) -> tuple[str, ...]:
    return call_secrets(settings, *op.secrets)


def _combine(earlier: bool | None, now: bool | None) -> bool | None:
    """What all attempts together prove: applied if any was, unknown if any may have been, else not."""
    if earlier is True or now is True:
        return True
    if earlier is None or now is None:
        return None
    return False


def call(  # noqa: PLR0912 - the retry loop; each hook point is one `if info`, free without hooks
    settings: Settings, op: Operation, *, deadline: float, idempotency_key: str | None = None
) -> Flow[Answer]:
    """Perform one operation with retries, within `deadline`; its successful Answer.

    A JSON answer is read, decoded and validated; a file answer (schema None) is returned with its
    body unread, for the caller to stream. POSTs carry `idempotency_key` on every attempt. Every
    error raised says what all the attempts together prove of whether the request was applied, and
    shows none of the call's secrets. The client's hooks (if any) hear of the call and each attempt.

    Raises:
        APIStatusError: an error answer that is not retried, or the last one when retries ran out.
        APIConnectionError: no answer, when retries ran out.
        APITimeoutError: the deadline passed.
        InvalidResponseError: an answer outside the spec.
    """
    attempt = 0
    applied: bool | None = False
    hooks = settings.hooks
    info = _call_info(settings, op, idempotency_key) if hooks else None
    began = settings.clock()
    if info is not None:
        yield Notify(hooks, "call_started", info)
    while True:
        attempt += 1
        common: dict[str, Any] = {"attempts": attempt, "idempotency_key": idempotency_key}
        left = deadline - settings.clock()
        if left <= 0:
            late = APITimeoutError(
                f"{op.name}: the call's deadline passed",
                attempts=attempt - 1,
                idempotency_key=idempotency_key,
                applied=applied,
            )
            if info is not None:
                yield Notify(hooks, "call_ended", CallEnded(info, "error", attempt - 1, applied, None, late, 0.0))
            raise late
        request = _request(settings, op, idempotency_key, left, deadline)
        if info is not None:
            yield from _attempt_started(hooks, info, attempt, request)
        started = settings.clock()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s attempt %d", op.name, op.method, request.path, attempt)
        response: Reply | None = None
        try:
            response = yield Send(request)
            outcome = yield from _outcome(settings, op, response, started=started, deadline=deadline, common=common)
        except SendFailed as exc:
            failure: CxpaError = transport_error(
                exc.what,
                exc.detail,
                never_sent=exc.never_sent,
                timed_out=exc.timed_out,
                **common,
                status=None if response is None else response.status_code,
            )
            if isinstance(failure, APITimeoutError) and settings.clock() >= deadline:
                failure.message = (
                    f"{op.name}: the call's deadline passed before the platform answered ({failure.message})"
                )
            # A request h11 refused to send (a malformed header) fails the same way every time.
            retryable, retry_after = exc.repeatable, None
        else:
            if isinstance(outcome, Answer):
                if info is not None:
                    yield from _ended_well(settings, op, info, outcome, attempt=attempt, started=started, began=began)
                return outcome
            failure, retryable, retry_after = outcome
        # An earlier attempt that may have been applied makes the call's outcome unknown, whatever
        # a later attempt was told (a replayed download answers 409 download_not_replayable, say).
        applied = _combine(applied, failure.applied)
        failure.applied = applied
        verdict = decide(
            attempt=attempt,
            policy=settings.retry,
            retryable=retryable,
            retry_after=retry_after,
            time_left=deadline - settings.clock(),
            rng=settings.rng,
        )
        if info is not None:
            delay = verdict.delay if verdict.retry else None
            yield from _failed(settings, op, info, failure, attempt=attempt, delay=delay, started=started, began=began)
        if not verdict.retry:
            raise scrub(failure, _secrets(settings, op))
        if logger.isEnabledFor(logging.INFO):
            _log_retry(op, scrub(failure, _secrets(settings, op)), attempt, settings.retry.max_retries, verdict.delay)
        yield Sleep(verdict.delay)


def _log_retry(op: Operation, failure: CxpaError, attempt: int, max_retries: int, delay: float) -> None:
    """One INFO line for a retry: the operation, what failed (secrets masked), the wait and the retry's number."""
    status, code = getattr(failure, "status_code", None), getattr(failure, "code", None)
    what = " ".join(str(part) for part in (type(failure).__name__, status, code) if part)
    told = (op.name, delay, attempt, max_retries, what, failure.message)
    logger.info("%s: retrying in %.2f s (retry %d of %d) after %s: %s", *told)


def _since(settings: Settings, moment: float) -> float:
    return settings.clock() - moment


_RUN_VERBS = frozenset({"trigger", "trigger-and-wait", "trigger-and-download", "register", "ingest"})


def _call_info(settings: Settings, op: Operation, idempotency_key: str | None) -> CallInfo:
    """What the hooks are told of a call: its operation, URL (no query), and the agent and run it names."""
    parts = op.path.split("/")  # /api/agents/{agentId}/runs/{runId}/... or /api/runs/{runId}/...
    params: dict[str, Any] = {}
    if len(parts) > 3 and parts[2] == "agents" and parts[3].isdigit():
        params["agentId"] = int(parts[3])
        if len(parts) > 5 and parts[4] == "runs" and parts[5] not in _RUN_VERBS:
            params["runId"] = unquote(parts[5])
    elif len(parts) > 3 and parts[2] == "runs" and parts[3] != "wait":
        params["runId"] = unquote(parts[3])
    url = settings.base_url + op.path
    return new_call(
        op.name, op.method, url, params, idempotency_key=idempotency_key, trace_context=dict(settings.trace_context)
    )


def _attempt_started(hooks: tuple[Any, ...], info: CallInfo, attempt: int, request: Request) -> Flow[None]:
    """Tell the hooks an attempt starts; send the headers they add with it."""
    added = AttemptHeaders()
    yield Notify(hooks, "attempt_started", AttemptStarted(info, attempt, added))
    request.headers.update(added)


def _ended_well(
    settings: Settings, op: Operation, info: CallInfo, answer: Answer, *, attempt: int, started: float, began: float
) -> Flow[None]:
    """Tell the hooks a call's last attempt succeeded, and so the call."""
    hooks = settings.hooks
    request_id = answer.request_id
    yield Notify(
        hooks, "attempt_ended", AttemptEnded(info, attempt, answer.status, request_id, None, _since(settings, started))
    )
    run_id = info.run_id or _answer_run_id(answer)
    yield Notify(
        hooks, "call_ended", CallEnded(info, "ok", attempt, True, answer.status, None, _since(settings, began), run_id)
    )


def _answer_run_id(answer: Answer) -> str | None:
    """The run an answer names: a TriggeredRun's `runId`, a Run row's `id`, a download's X-Run-Id."""
    data = answer.data
    if isinstance(data, dict):
        found = data.get("runId", data.get("id"))
        return found if isinstance(found, str) else None
    return answer.response.headers.get("x-run-id") if data is None else None


def _failed(
    settings: Settings,
    op: Operation,
    info: CallInfo,
    failure: CxpaError,
    *,
    attempt: int,
    delay: float | None,
    started: float,
    began: float,
) -> Flow[None]:
    """Tell the hooks an attempt failed, then that the call retries after `delay` s, or (None) ends with it."""
    hooks = settings.hooks
    told = scrub(failure, _secrets(settings, op))
    status = getattr(told, "status_code", None)
    request_id = getattr(told, "request_id", None)
    yield Notify(
        hooks, "attempt_ended", AttemptEnded(info, attempt, status, request_id, told, _since(settings, started))
    )
    if delay is None:
        run_id = info.run_id or told.run_id
        ended = CallEnded(info, "error", attempt, told.applied, status, told, _since(settings, began), run_id)
        yield Notify(hooks, "call_ended", ended)
    else:
        reason = f"{type(told).__name__}: {told.message}"
        yield Notify(hooks, "retry_scheduled", RetryScheduled(info, attempt, delay, reason))


Outcome = Answer | tuple[CxpaError, bool, float | None]


def _outcome(
    settings: Settings,
    op: Operation,
    response: Reply,
    *,
    started: float,
    deadline: float,
    common: dict[str, Any],
) -> Generator[Step, Any, Outcome]:
    """The Answer of a success, or the failure of an answer with whether to retry it and its Retry-After.

    Failures are returned, not raised, so that no frame holding the answer's bytes outlives the call.
    """
    status = response.status_code
    request_id = answer_request_id(response.headers.get("x-request-id"), _secrets(settings, op))
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s -> %d request %s attempt %d in %.1f ms",
            op.name,
            status,
            request_id,
            common["attempts"],
            (settings.clock() - started) * 1000,
        )
    schema = op.answers.get(status, "")
    if schema is None:
        return Answer(
            status,
            None,
            response,
            **common,
            secrets=_secrets(settings, op),
            request_id=request_id,
            replayed=_replayed(response),
        )
    try:
        body = yield ReadBody(response, settings.max_answer_bytes, deadline)
    except BodyTooLarge:
        problem = f"is over {settings.max_answer_bytes} bytes"
    except DecodingError as exc:
        problem = f"can't be decoded: {exc}"
    else:
        return _judge(response, body, schema, request_id=request_id, common=common)
    return _invalid(f"the platform's {status} answer {problem}", status, request_id, common), False, None


def _replayed(response: Reply) -> bool:
    """Whether the platform says it replayed an earlier answer to the same Idempotency-Key."""
    return (response.headers.get("idempotent-replayed") or "").strip().lower() == "true"


def _invalid(message: str, status: int, request_id: str | None, common: dict[str, Any]) -> InvalidResponseError:
    """The error for an answer outside the spec; a 2xx one was applied all the same."""
    return InvalidResponseError(
        message, status_code=status, request_id=request_id, applied=applied_by_answer(status, None), **common
    )


def _judge(
    response: Reply,
    body: bytes | bytearray,
    schema: str,
    *,
    request_id: str | None,
    common: dict[str, Any],
) -> Outcome:
    """What a read answer is: an Answer, or a failure with whether to retry it and its Retry-After."""
    status = response.status_code
    if schema:
        data, problem = _decode(body, schema)
        if problem is None:
            return Answer(
                status, data, response, attempts=common["attempts"], request_id=request_id, replayed=_replayed(response)
            )
        message = f"the platform's {status} answer is not a valid {schema}: {problem}"
        return _invalid(message, status, request_id, common), False, None
    if 200 <= status < 300:
        message = f"the platform answered {status}, which the operation does not document"
        return _invalid(message, status, request_id, common), False, None
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    fields = _error_fields(body)
    if fields is None:
        kind = (response.headers.get("content-type") or "no Content-Type")[:60]
        message = (
            f"the answer {status} is not in the platform's Error envelope ({kind}, {len(body)} bytes): "
            "a proxy or load balancer may have sent it"
        )
        code, run_id = None, None
    else:
        code, message, run_id = fields
    failure = status_error(
        status,
        code=code,
        message=message,
        run_id=run_id,
        request_id=request_id,
        retry_after=retry_after,
        headers=_headers_of(response),
        body=bytes(body),
        **common,
    )
    return failure, is_retryable_status(status, code), retry_after


def _headers_of(response: Reply) -> dict[str, str]:
    """An answer's headers by lower-case name, a repeated header's values joined with ", " (as httpx2 does)."""
    found: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found
