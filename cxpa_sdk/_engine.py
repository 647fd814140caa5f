"""The I/O-free core of every call: building requests, retry decisions, deadlines, parsing answers.

A call is a generator that yields steps (`Send`, `ReadBody`, `Close`, `Sleep`) and receives their
results; `drive` (sync) and `adrive` (async) perform the steps. Everything else — which request,
which answer is a success, what is retried and when, which error is raised — lives here once for
both the sync and the async clients.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from ._errors import APITimeoutError, CxpaError, InvalidResponseError, status_error, transport_error
from ._retry import RetryPolicy, decide, is_retryable_status, parse_retry_after
from ._schema import SchemaError, validate
from ._transport import logger

T = TypeVar("T")
# The largest JSON answer read into memory (an error or a Run row is a few KiB; 1 MiB inputs echo back).
DEFAULT_MAX_ANSWER_BYTES = 8 << 20


@dataclass(frozen=True, slots=True)
class Send:
    """Send a request.

    The driver answers with the response (headers read, body not yet), or throws the
    httpx.TransportError it raised.
    """

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class ReadBody:
    """Read a response's body, at most `limit` bytes, and close it.

    The driver answers with the bytes, or throws BodyTooLarge or an httpx.TransportError.
    """

    response: httpx.Response
    limit: int


@dataclass(frozen=True, slots=True)
class Close:
    """Close a response (return its connection to the pool)."""

    response: httpx.Response


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait before the next attempt."""

    seconds: float


Step = Send | ReadBody | Close | Sleep
Flow = Generator[Step, Any, T]


class BodyTooLarge(Exception):
    """Raised by a driver into the flow when an answer's body passes ReadBody's limit."""


@dataclass(frozen=True)
class Settings:
    """What a client fixes for its calls: where, who, and how patient.

    Attributes:
        base_url: The platform's base URL, without a trailing slash.
        authorization: The Authorization header value (`Bearer <key>`); never logged or shown.
        timeout: Each HTTP request's timeouts (every phase finite).
        deadline: The most one call may take in all, attempts and backoff included, in seconds.
        retry: The retry policy.
        max_answer_bytes: The largest JSON answer read into memory.
        rng: The jitter source (tests pass a seeded one).
        clock: The monotonic clock (tests may pass a fake one).
    """

    base_url: str
    authorization: str = field(repr=False)
    timeout: httpx.Timeout
    deadline: float
    retry: RetryPolicy
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    rng: random.Random | None = field(default=None, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def with_changes(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Operation:
    """One HTTP operation of the spec: how to ask, and which answers mean success.

    Attributes:
        name: The operationId, for logs.
        method: GET or POST.
        path: The path, its parameters already percent-encoded.
        body: The JSON body bytes, or None.
        params: Query parameters.
        answers: Success status -> the component schema of its JSON body (None: a streamed file).
        extra_headers: Headers beyond Authorization and Idempotency-Key.
        read_timeout: A longer read timeout for requests the server holds open (long polls), in seconds.
    """

    name: str
    method: str
    path: str
    body: bytes | None = None
    params: Mapping[str, str] | None = None
    answers: Mapping[int, str | None] = field(default_factory=dict)
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    read_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: its status, its validated JSON (None for a stream), and the open response."""

    status: int
    data: Any
    response: httpx.Response


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key for one logical call (the same on every retry)."""
    return str(uuid.uuid4())


def deadline_at(settings: Settings, seconds: float | None = None) -> float:
    """The clock value at which a call started now must give up."""
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


def _request(settings: Settings, op: Operation, key: str | None, left: float) -> httpx.Request:
    headers = {"Authorization": settings.authorization, "Accept": "application/json", **op.extra_headers}
    if op.body is not None:
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.Request(
        op.method,
        settings.base_url + op.path,
        params=op.params,
        content=op.body,
        headers=headers,
        extensions={"timeout": _attempt_timeout(settings, op, left)},
    )


def _decode(body: bytes, status: int, request_id: str | None, schema: str, common: dict[str, Any]) -> Any:
    """JSON answer bytes, checked against the spec's schema; InvalidResponseError otherwise."""
    try:
        data = json.loads(body)
        validate(data, schema, open_enums=True)
    except (ValueError, SchemaError, RecursionError) as exc:
        raise InvalidResponseError(
            f"the platform's {status} answer is not a valid {schema}: {exc}",
            status_code=status,
            request_id=request_id,
            **common,
        ) from None
    return data


def _error_fields(body: bytes) -> tuple[str, str, str | None] | None:
    """The Error envelope's code, message and run id, or None when the body is not one."""
    try:
        data = json.loads(body)
        validate(data, "Error")
    except (ValueError, SchemaError, RecursionError):
        return None
    detail = data["error"]
    return detail["code"], detail["message"], detail.get("runId")


def call(settings: Settings, op: Operation, *, deadline: float, idempotency_key: str | None = None) -> Flow[Answer]:
    """Perform one operation with retries, within `deadline`; its successful Answer.

    A JSON answer is read and validated; a file answer (schema None) is returned with its body
    unread, for the caller to stream. POSTs carry `idempotency_key` on every attempt.

    Raises:
        APIStatusError: an error answer that is not retried, or the last one when retries ran out.
        APIConnectionError: no answer, when retries ran out.
        APITimeoutError: the deadline passed.
        InvalidResponseError: an answer outside the spec.
    """
    attempt = 0
    applied_earlier = False
    while True:
        attempt += 1
        common: dict[str, Any] = {"attempts": attempt, "idempotency_key": idempotency_key}
        left = deadline - settings.clock()
        if left <= 0:
            raise APITimeoutError(
                f"{op.name}: the call's deadline passed",
                attempts=attempt - 1,
                idempotency_key=idempotency_key,
                may_have_been_applied=applied_earlier,
            )
        request = _request(settings, op, idempotency_key, left)
        started = settings.clock()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s %s attempt %d", op.name, op.method, request.url.path, attempt)
        try:
            response = yield Send(request)
            outcome = yield from _outcome(settings, op, response, started, common)
        except httpx.TransportError as exc:
            failure: CxpaError = transport_error(exc, **common)
            retryable, retry_after = True, None
        else:
            if isinstance(outcome, Answer):
                return outcome
            failure, retryable, retry_after = outcome
        # An earlier attempt that may have been applied makes the call's outcome unknown, whatever
        # a later attempt was told (a replayed download answers 409 download_not_replayable, say).
        applied_earlier = applied_earlier or failure.may_have_been_applied
        failure.may_have_been_applied = applied_earlier
        verdict = decide(
            attempt=attempt,
            policy=settings.retry,
            retryable=retryable,
            retry_after=retry_after,
            time_left=deadline - settings.clock(),
            rng=settings.rng,
        )
        if not verdict.retry:
            raise failure
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s retry in %.3f s after attempt %d: %s", op.name, verdict.delay, attempt, type(failure).__name__
            )
        yield Sleep(verdict.delay)


def _outcome(
    settings: Settings, op: Operation, response: httpx.Response, started: float, common: dict[str, Any]
) -> Generator[Step, Any, Answer | tuple[CxpaError, bool, float | None]]:
    """The Answer of a success, or the failure of an error answer with whether to retry and Retry-After."""
    request_id = response.headers.get("x-request-id")
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s -> %d request %s attempt %d in %.1f ms",
            op.name,
            response.status_code,
            request_id,
            common["attempts"],
            (settings.clock() - started) * 1000,
        )
    schema = op.answers.get(response.status_code, "")
    if schema is None:
        return Answer(response.status_code, None, response)
    try:
        body = yield ReadBody(response, settings.max_answer_bytes)
    except BodyTooLarge:
        raise InvalidResponseError(
            f"the platform's {response.status_code} answer is over {settings.max_answer_bytes} bytes",
            status_code=response.status_code,
            request_id=request_id,
            **common,
        ) from None
    if response.status_code in op.answers:
        return Answer(response.status_code, _decode(body, response.status_code, request_id, schema, common), response)
    fields = _error_fields(body)
    if fields is None:
        raise InvalidResponseError(
            f"the platform answered {response.status_code}, which {op.name} does not document, "
            "without an Error envelope",
            status_code=response.status_code,
            request_id=request_id,
            **common,
        )
    code, message, run_id = fields
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    failure = status_error(response, code=code, message=message, run_id=run_id, retry_after=retry_after, **common)
    return failure, is_retryable_status(response.status_code, code), retry_after


def with_client_headers(request: httpx.Request, client_headers: httpx.Headers) -> httpx.Request:
    """The request with its httpx client's headers beneath its own, merged as httpx's `build_request` does.

    That sends the SDK's User-Agent, and the headers of a client brought with `http_client=`; the
    headers a call sets (Authorization, Idempotency-Key, Accept...) win.
    """
    own = {name.lower() for name, _ in request.headers.raw}
    missing = [(name, value) for name, value in client_headers.raw if name.lower() not in own]
    if missing:
        request.headers = httpx.Headers(missing + request.headers.raw)
    return request


def drive(flow: Flow[T], client: httpx.Client, sleep: Callable[[float], None] = time.sleep) -> T:
    """Perform a flow's steps with a sync httpx client; its result."""
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Send):
                    result: Any = client.send(with_client_headers(step.request, client.headers), stream=True)
                elif isinstance(step, ReadBody):
                    result = _read_sync(step)
                elif isinstance(step, Close):
                    step.response.close()
                    result = None
                else:
                    sleep(step.seconds)
                    result = None
            except (httpx.TransportError, BodyTooLarge) as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
    finally:
        flow.close()


async def adrive(flow: Flow[T], client: httpx.AsyncClient, sleep: Callable[[float], Any]) -> T:
    """Perform a flow's steps with an async httpx client; its result."""
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Send):
                    result: Any = await client.send(with_client_headers(step.request, client.headers), stream=True)
                elif isinstance(step, ReadBody):
                    result = await _read_async(step)
                elif isinstance(step, Close):
                    await step.response.aclose()
                    result = None
                else:
                    await sleep(step.seconds)
                    result = None
            except (httpx.TransportError, BodyTooLarge) as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
    finally:
        flow.close()


def _read_sync(step: ReadBody) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in step.response.iter_bytes():
            size += len(chunk)
            if size > step.limit:
                raise BodyTooLarge
            chunks.append(chunk)
    finally:
        step.response.close()
    return b"".join(chunks)


async def _read_async(step: ReadBody) -> bytes:
    chunks, size = [], 0
    try:
        async for chunk in step.response.aiter_bytes():
            size += len(chunk)
            if size > step.limit:
                raise BodyTooLarge
            chunks.append(chunk)
    finally:
        await step.response.aclose()
    return b"".join(chunks)
