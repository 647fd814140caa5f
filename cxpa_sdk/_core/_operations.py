"""The operations of the spec as I/O-free flows: arguments checked, requests built, answers parsed.

Each function returns a flow (see `_engine`) that the sync and async clients drive the same way.
Paths come from openapi.json by operationId; ids are percent-encoded so none can change the path.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

from .. import _config as check
from .._errors import (
    APITimeoutError,
    CxpaError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    WaitTimeoutError,
    applied_by_answer,
    mask,
)
from .._logging import gave_up, logger
from .._schema import spec
from ..types import (
    CallbackAccepted,
    Credential,
    IngestedRun,
    RegisteredRun,
    Run,
    RunEvent,
    RunStatus,
    TriggeredRun,
    WaitTimedOut,
)
from ._engine import Answer, Flow, Operation, Settings, Sleep, T, call, call_secrets, deadline_at, new_idempotency_key

# Each request the SDK holds open stays under common NAT idle timeouts (about 60 s).
SERVER_WINDOW_MS = 50_000
# How much longer than the server's window the client waits for the answer, in seconds.
WINDOW_GRACE_S = 15.0
DEFAULT_WAIT_MS = 30_000
# A held read that comes back in under half its window, with the run still going, was not held (an
# older platform, a proxy that drops waitMs): the next one waits a floor first, which doubles from
# PACE_MIN_S to PACE_MAX_S while reads keep coming back early, and resets once one is held.
PACE_MIN_S = 0.1
PACE_MAX_S = 2.0
# A wait keeps its own clock: every request it makes ends by its timeout plus this (or plus the
# client's deadline, when that is shorter), whatever the platform does; a platform still silent then
# makes the wait end in WaitTimeoutError, not in the request's timeout.
WAIT_GRACE_S = 2.0

R = TypeVar("R", TriggeredRun, Run, WaitTimedOut, RegisteredRun, IngestedRun, Credential, CallbackAccepted)


def answered(result: R, answer: Answer) -> R:
    """The result with what support needs of the answer it came from: request id, replay flag, attempts."""
    return dataclasses.replace(result, request_id=answer.request_id, replayed=answer.replayed, attempts=answer.attempts)


@cache
def _paths() -> dict[str, tuple[str, str]]:
    """OperationId -> (method, path template), from the spec."""
    found = {}
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            found[operation["operationId"]] = (method.upper(), path)
    return found


def _segment(name: str, value: str | int) -> str:
    """One path parameter as one path segment: percent-encoded (`/`, `?`, `#`, `%`, controls), never `.` or `..`.

    Every id is checked where it enters (the caller's by `_config`, the platform's by the spec's
    schemas); this is the last guard, at the one place paths are built.
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise InvalidArgumentError(f"{name} {text!r} can't be placed in a path: it would change the path")
    return quote(text, safe="")


def _route(operation_id: str, **params: str | int) -> tuple[str, str]:
    """The method and the path of an operation, each parameter one path segment (`_segment`)."""
    method, template = _paths()[operation_id]
    return method, template.format(**{name: _segment(name, value) for name, value in params.items()})


def wait_deadline(settings: Settings, wait_end: float) -> float:
    """When every request of a wait ending at `wait_end` (a `settings.clock()`) must have ended: its clock's grace."""
    return wait_end + min(settings.deadline, WAIT_GRACE_S)


def _not_about(message: str, answer: Answer, run_id: str | None) -> InvalidResponseError:
    """The error for an answer about something other than what was asked."""
    return InvalidResponseError(
        message,
        status_code=answer.status,
        request_id=answer.request_id,
        attempts=answer.attempts,
        applied=applied_by_answer(answer.status, None),
        run_id=run_id,
    )


def about(run: Run, agent_id: int, run_id: str | None, answer: Answer) -> Run:
    """`run`, checked to be about the run asked for (its agent, and its id when known); else InvalidResponseError."""
    if run.agent_id == agent_id and run_id in (None, run.run_id):
        return run
    asked = f"agent {agent_id}" if run_id is None else f"run {run_id} of agent {agent_id}"
    raise _not_about(
        f"asked about {asked}, the platform answered about run {run.run_id} of agent {run.agent_id}",
        answer,
        run_id,
    )


def naming_run(run_id: str, flow: Flow[T]) -> Flow[T]:
    """The flow, with any CxpaError it raises naming `run_id` when it names no run: a run is never lost."""
    try:
        return (yield from flow)
    except CxpaError as exc:
        if exc.run_id is None:
            exc.run_id = run_id
        raise


def key_for(idempotency_key: str | None) -> str:
    """The call's Idempotency-Key: the one given (checked as a header value), else a fresh UUID."""
    return (
        new_idempotency_key()
        if idempotency_key is None
        else check.header_value(idempotency_key, "idempotency_key", 255)
    )


def _post(
    operation_id: str,
    body: Mapping[str, Any] | None,
    answers: Mapping[int, str | None],
    read_timeout: float | None = None,
    extra_headers: Mapping[str, str] | None = None,
    **params: str | int,
) -> Operation:
    method, path = _route(operation_id, **params)
    content = None if body is None else check.encode_body(body)
    return Operation(
        operation_id,
        method,
        path,
        content,
        answers=answers,
        extra_headers=extra_headers or {},
        read_timeout=read_timeout,
    )


def trigger_run(
    settings: Settings,
    agent_id: int,
    input: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> Flow[TriggeredRun]:
    """POST trigger: start a run; its id and status at once."""
    op = _post(
        "trigger_run", {"input": check.json_object(input)}, {202: "TriggeredRun"}, agentId=check.agent_id(agent_id)
    )
    answer = yield from call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    return answered(TriggeredRun.from_json(answer.data), answer)


def window_ms(left_s: float) -> int:
    """The server window of a held request with `left_s` seconds of wait left: 1 ms to SERVER_WINDOW_MS."""
    return max(1, min(SERVER_WINDOW_MS, int(left_s * 1000)))


def pace(floor: float, window_s: float, took_s: float) -> tuple[float, float]:
    """After a read that found the run still going: (seconds to wait before the next, the new floor).

    Args:
        floor: The floor so far (0 while the server holds reads as asked).
        window_s: How long the read asked the server to hold it, in seconds.
        took_s: How long it took, in seconds.
    """
    if took_s >= window_s / 2:
        return 0.0, 0.0
    floor = min(PACE_MAX_S, max(PACE_MIN_S, floor * 2))
    return max(0.0, floor - took_s), floor


def _poll(
    settings: Settings, agent_id: int, run_id: str, *, wait_end: float, deadline: float, floor: float
) -> Flow[Run | None]:
    """Long-poll the run until it ends or `wait_end` passes, paced by `pace`; the last Run read (None: none).

    `deadline` (`wait_deadline`) bounds every read: a read that times out once the wait's clock ran
    out ends the poll like the window closing does.
    """
    run = None
    while (left := wait_end - settings.clock()) > 0:
        window = window_ms(left)
        started = settings.clock()
        try:
            run = yield from _read_run(settings, agent_id, run_id, window, deadline)
        except APITimeoutError:
            if settings.clock() < wait_end:
                raise
            break  # the platform was silent until the wait's clock ran out: the wait times out
        if run.status.terminal:
            break
        wait, floor = pace(floor, window / 1000, settings.clock() - started)
        wait = min(wait, wait_end - settings.clock())
        if wait > 0:
            yield Sleep(wait)
    return run


def trigger_run_and_wait(
    settings: Settings,
    agent_id: int,
    input: Mapping[str, Any],
    *,
    timeout_ms: int | None = None,
    idempotency_key: str | None = None,
    known: list[str] | None = None,
) -> Flow[Run | WaitTimedOut]:
    """Trigger a run and wait up to `timeout_ms` for it to end, each request under 60 s.

    The first request is trigger-and-wait with a server window of at most 50 s; while the run goes
    on, run reads with `waitMs` follow on the same run id (never a second trigger). The run id is
    appended to `known` once the platform has said it.
    """
    wait_ms = DEFAULT_WAIT_MS if timeout_ms is None else check.milliseconds(timeout_ms, "timeout_ms")
    agent = check.agent_id(agent_id)
    inputs = check.json_object(input)
    started = settings.clock()
    wait_end = started + wait_ms / 1000
    deadline = deadline_at(settings, wait_ms / 1000 + settings.deadline)
    window = window_ms(wait_ms / 1000)
    op = _post(
        "trigger_run_and_wait",
        {"input": inputs, "timeoutMs": window},
        {200: "Run", 202: "WaitTimedOut"},
        read_timeout=window / 1000 + WINDOW_GRACE_S,
        agentId=agent,
    )
    answer = yield from call(settings, op, deadline=deadline, idempotency_key=key_for(idempotency_key))
    if answer.status == 200:
        ended = about(Run.from_json(answer.data), agent, None, answer)
        if not ended.status.terminal:
            raise _not_about(
                f"trigger_run_and_wait: the 200 answer is run {ended.run_id} {ended.status}, not a run that ended",
                answer,
                ended.run_id,
            )
        return answered(ended, answer)
    run_id = answer.data["runId"]
    if known is not None:
        known.append(run_id)
    wait, floor = pace(0.0, window / 1000, settings.clock() - started)
    if (wait := min(wait, wait_end - settings.clock())) > 0:
        yield Sleep(wait)
    polls = _poll(settings, agent, run_id, wait_end=wait_end, deadline=wait_deadline(settings, wait_end), floor=floor)
    run = yield from naming_run(run_id, polls)
    if run is not None and run.status.terminal:
        return run
    if run is None:  # the window closed with the trigger's answer: that answer's request
        return answered(WaitTimedOut.from_json(answer.data), answer)
    # Else the last read's request: the one whose answer says the run is still going.
    return WaitTimedOut(run_id, run.status, request_id=run.request_id, replayed=run.replayed, attempts=run.attempts)


def _read_run(settings: Settings, agent_id: int, run_id: str, wait_ms: int, deadline: float) -> Flow[Run]:
    method, path = _route("get_run", agentId=agent_id, runId=run_id)
    op = Operation(
        "get_run",
        method,
        path,
        params={"waitMs": str(wait_ms)} if wait_ms else None,
        answers={200: "Run"},
        read_timeout=wait_ms / 1000 + WINDOW_GRACE_S if wait_ms else None,
    )
    answer = yield from call(settings, op, deadline=deadline)
    run = about(Run.from_json(answer.data), agent_id, run_id, answer)
    return answered(run, answer)


class EventsPage(NamedTuple):
    """One answer of `get_run_events`: its events, the cursor to read on from, and whether the run ended."""

    events: list[RunEvent]
    cursor: str
    ended: bool


def read_events(
    settings: Settings, agent_id: int, run_id: str, *, after: str | None, wait_ms: int, deadline: float
) -> Flow[EventsPage]:
    """GET events: the run's events after cursor `after` (None: from the start), held up to `wait_ms` for one.

    The arguments were checked by the caller (`_events.EventReader`). Raises InvalidResponseError for
    an answer with events that does not move its cursor (reading on would repeat them).
    """
    method, path = _route("get_run_events", agentId=agent_id, runId=run_id)
    params = {"waitMs": str(wait_ms)} if after is None else {"after": after, "waitMs": str(wait_ms)}
    op = Operation(
        "get_run_events",
        method,
        path,
        params=params,
        answers={200: "RunEvents"},
        read_timeout=wait_ms / 1000 + WINDOW_GRACE_S,
    )
    answer = yield from call(settings, op, deadline=deadline)
    data = answer.data
    events = [RunEvent.from_json(item) for item in data["events"]]
    if events and data["cursor"] == after:
        raise InvalidResponseError(
            f"get_run_events: the answer has {len(events)} events but did not move its cursor past {after!r}",
            status_code=answer.status,
            request_id=answer.request_id,
            attempts=answer.attempts,
            applied=True,
        )
    return EventsPage(events, data["cursor"], data["ended"] or any(event.type == "ended" for event in events))


def get_run(settings: Settings, agent_id: int, run_id: str) -> Flow[Run]:
    """GET a run as it stands."""
    agent, run = check.agent_id(agent_id), check.run_id(run_id)
    return (yield from naming_run(run, _read_run(settings, agent, run, 0, deadline_at(settings))))


def wait_for_run(settings: Settings, agent_id: int, run_id: str, *, timeout: float) -> Flow[Run]:
    """Long-poll a run until it ends; WaitTimeoutError (with the run id) at `timeout` seconds."""
    agent, run_id = check.agent_id(agent_id), check.run_id(run_id)
    wait_s = check.seconds(timeout, "timeout")
    wait_end = settings.clock() + wait_s
    polls = _poll(settings, agent, run_id, wait_end=wait_end, deadline=wait_deadline(settings, wait_end), floor=0.0)
    run = yield from naming_run(run_id, polls)
    if run is not None and run.status.terminal:
        return run
    status = "unknown" if run is None else run.status.value
    raise gave_up(
        WaitTimeoutError(f"run {run_id} did not end within {wait_s:g} s (it is {status})", run_id=run_id, status=status)
    )


class Missing(NamedTuple):
    """A run `wait_for_runs` could not read: its agent, id, and the platform's code and message."""

    agent_id: int
    run_id: str
    code: str
    message: str

    def error(self) -> CxpaError:
        """What a wait for this run raises: PermissionDeniedError (forbidden) or NotFoundError."""
        forbidden = self.code == "forbidden"
        kind = PermissionDeniedError if forbidden else NotFoundError
        return kind(
            f"{self.code}: {self.message}",
            status_code=403 if forbidden else 404,
            code=self.code,
            run_id=self.run_id,
            attempts=1,
            applied=True,
        )


class Waited(NamedTuple):
    """What one `wait_for_runs` answer says: the listed runs that ended, and those it could not read."""

    ended: list[Run]
    missing: list[Missing]


MAX_RUNS_PER_WAIT = 1000
"""The most runs one `wait_for_runs` request may list (the spec's maxItems)."""


def wait_for_runs(
    settings: Settings, runs: Sequence[tuple[int, str]], *, wait_ms: int, deadline: float
) -> Flow[Waited]:
    """POST /api/runs/wait: held up to `wait_ms` until any of `runs` (checked ids) ends; what ended or is missing.

    The answer is checked against the request: only entries about listed runs count, each run once
    (an `ended` entry before a `missing` one), and an `ended` run only when its status is terminal.
    Anything else (a run nobody asked for, a running run listed as ended, a repeat) is dropped and
    logged, so `Waited` is empty when the answer showed no progress on the listed runs.
    NotFoundError (404) means the platform lacks the endpoint (an older one): wait run by run.
    """
    body = {"runs": [{"agentId": agent, "runId": run} for agent, run in runs], "waitMs": wait_ms}
    op = _post(
        "wait_for_runs", body, {200: "RunsWaited"}, read_timeout=wait_ms / 1000 + WINDOW_GRACE_S if wait_ms else None
    )
    answer = yield from call(settings, op, deadline=deadline)
    secrets = call_secrets(settings)
    open_keys = set(runs)
    ended = []
    for row in answer.data["ended"]:
        run = Run.from_json(row)
        key = (run.agent_id, run.run_id)
        if key in open_keys and run.status.terminal:
            open_keys.discard(key)
            ended.append(answered(run, answer))
        else:
            logger.debug("wait_for_runs: ignored an ended entry (agent %s, run %s): not a listed run's end", *key)
    missing = []
    for item in answer.data["missing"]:
        key = (item["agentId"], item["runId"])
        if key in open_keys:
            open_keys.discard(key)
            missing.append(Missing(*key, item["code"], mask(item["message"], secrets) or ""))
        else:
            logger.debug("wait_for_runs: ignored a missing entry (agent %s, run %s): not a listed run", *key)
    return Waited(ended, missing)


def wait_many(
    settings: Settings, keys: Sequence[tuple[int, str]], *, wait_end: float, floor: float
) -> Flow[tuple[list[Run | CxpaError], float]]:
    """One round of the sync `as_completed`: the runs of `keys` that ended (or errors naming missing ones).

    Up to 1000 runs are waited on with one request held for the window; more, a request per 1000
    without holding, then a pause of up to 1 s. Only entries about `keys` count (`wait_for_runs`
    checks the answer against its request), so a round that settled none of them made no progress:
    a held request that came back early so is paced by `pace` from `floor`; the new floor is
    returned. Every request ends by `wait_deadline`: a platform silent until `wait_end` ends the
    round with what it found. Raises NotFoundError (the platform lacks `wait_for_runs`).
    """
    found: list[Run | CxpaError] = []
    held = len(keys) <= MAX_RUNS_PER_WAIT
    window = window_ms(wait_end - settings.clock()) if held else 0
    started = settings.clock()
    deadline = wait_deadline(settings, wait_end)
    for start in range(0, len(keys), MAX_RUNS_PER_WAIT):
        chunk = keys[start : start + MAX_RUNS_PER_WAIT]
        try:
            waited = yield from wait_for_runs(settings, chunk, wait_ms=window, deadline=deadline)
        except APITimeoutError:
            if settings.clock() < wait_end:
                raise
            return found, floor
        found.extend(waited.ended)
        found.extend(item.error() for item in waited.missing)
    if not found:
        pause, floor = pace(floor, window / 1000, settings.clock() - started) if held else (1.0, floor)
        if (pause := min(pause, wait_end - settings.clock())) > 0:
            yield Sleep(pause)
    return found, floor


def cancel_run(settings: Settings, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Flow[Run]:
    """POST cancel: the cancelled run."""
    agent, run = check.agent_id(agent_id), check.run_id(run_id)
    op = _post("cancel_run", None, {200: "Run"}, agentId=agent, runId=run)
    flow = call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    answer = yield from naming_run(run, flow)
    return answered(about(Run.from_json(answer.data), agent, run, answer), answer)


def resume_run(
    settings: Settings,
    agent_id: int,
    run_id: str,
    token_id: str,
    output: Mapping[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
) -> Flow[Run]:
    """POST resume: the run waiting on `token_id` is resumed with `output`; the Run as it stands after."""
    agent, run = check.agent_id(agent_id), check.run_id(run_id)
    body: dict[str, Any] = {"tokenId": check.token_id(token_id)}
    if output is not None:
        body["output"] = check.json_object(output, "output")
    op = _post("resume_run", body, {200: "Run"}, agentId=agent, runId=run)
    flow = call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    answer = yield from naming_run(run, flow)
    return answered(about(Run.from_json(answer.data), agent, run, answer), answer)


def register_run(
    settings: Settings, agent_id: int, external_run_id: str, *, idempotency_key: str | None = None
) -> Flow[RegisteredRun]:
    """POST register: a run for an externally triggered execution, and its credentials token."""
    body = {"externalRunId": check.identifier(external_run_id, "external_run_id", 256)}
    op = _post("register_run", body, {200: "RegisteredRun", 201: "RegisteredRun"}, agentId=check.agent_id(agent_id))
    answer = yield from call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    return answered(RegisteredRun.from_json(answer.data), answer)


def error_body(
    error: BaseException | str | Mapping[str, Any], *, name: str | None = None, stack: str | None = None
) -> dict[str, str]:
    """A RunError object from an exception (type, message, traceback), a message, or a mapping."""
    if isinstance(error, BaseException):
        body = {
            "message": str(error) or type(error).__name__,
            "name": type(error).__name__,
            "stack": "".join(traceback.format_exception(error)),
        }
    elif isinstance(error, str):
        if not error:
            raise InvalidArgumentError("error must not be an empty message")
        body = {"message": error}
    elif isinstance(error, Mapping) and isinstance(error.get("message"), str):
        body = {k: str(v) for k, v in error.items() if k in ("message", "name", "stack") and v is not None}
    else:
        raise InvalidArgumentTypeError("error must be an exception, a message, or a mapping with a message")
    if name is not None:
        body["name"] = check.identifier(name, "name", 256)
    if stack is not None:
        body["stack"] = str(stack)
    return body


class _Unset:
    """The default of an `output=` argument: not given (None is a value, JSON null). One instance, `_UNSET`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"  # what help() shows: `output: Any = <not given>`

    def __reduce__(self) -> str:
        return "_UNSET"  # the same instance after pickling or copying: `is not _UNSET` still holds


_UNSET: Any = _Unset()


def ingest_run(
    settings: Settings,
    agent_id: int,
    external_run_id: str,
    status: RunStatus | str,
    *,
    output: Any = _UNSET,
    outputs: int | None = None,
    error: BaseException | str | Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> Flow[IngestedRun]:
    """POST ingest: create or update a standalone agent's run by its external id."""
    if not isinstance(status, str) or not RunStatus(status).known:
        raise InvalidArgumentError(f"status must be one of {', '.join(RunStatus)}, got {status!r}")
    body: dict[str, Any] = {
        "externalRunId": check.identifier(external_run_id, "external_run_id", 256),
        "status": str(RunStatus(status)),
    }
    if output is not _UNSET:
        body["output"] = output
    if outputs is not None:
        body["outputs"] = check.non_negative_int(outputs, "outputs")
    if error is not None:
        body["error"] = error_body(error)
    op = _post("ingest_run", body, {200: "IngestedRun"}, agentId=check.agent_id(agent_id))
    answer = yield from call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    return answered(IngestedRun.from_json(answer.data), answer)


def open_download(
    settings: Settings,
    agent_id: int,
    input: Mapping[str, Any],
    *,
    timeout_ms: int | None = None,
    idempotency_key: str | None = None,
) -> Flow[Answer]:
    """POST trigger-and-download: the 200 answer with its body unread (retried only before it).

    The arguments are checked now, when the download is made; the returned flow sends nothing until
    it is driven (on entering the `with` block), and its deadline starts then.
    """
    body: dict[str, Any] = {"input": check.json_object(input)}
    wait_ms = DEFAULT_WAIT_MS if timeout_ms is None else check.milliseconds(timeout_ms, "timeout_ms")
    body["timeoutMs"] = wait_ms
    op = _post(
        "trigger_run_and_download",
        body,
        {200: None},
        read_timeout=wait_ms / 1000 + WINDOW_GRACE_S,
        # A file of any type, byte for byte: its size can then be checked against Content-Length.
        extra_headers={"Accept": "*/*", "Accept-Encoding": "identity"},
        agentId=check.agent_id(agent_id),
    )
    return _download(settings, op, wait_ms / 1000, key_for(idempotency_key))


def _download(settings: Settings, op: Operation, wait_s: float, key: str) -> Flow[Answer]:
    return (
        yield from call(settings, op, deadline=deadline_at(settings, wait_s + settings.deadline), idempotency_key=key)
    )


def post_callback(
    settings: Settings, run_id: str, event: Mapping[str, Any], *, idempotency_key: str | None = None
) -> Flow[CallbackAccepted]:
    """POST callback: one progress event of a runtime; the run's status after it."""
    op = _post("post_callback", event, {200: "CallbackAccepted"}, runId=run_id)
    answer = yield from call(settings, op, deadline=deadline_at(settings), idempotency_key=key_for(idempotency_key))
    return _accepted(answer, run_id)


def _accepted(answer: Answer, run_id: str) -> CallbackAccepted:
    """A CallbackAccepted answer, checked to be about the run asked for; else InvalidResponseError."""
    accepted = CallbackAccepted.from_json(answer.data)
    if accepted.run_id != run_id:
        raise _not_about(
            f"asked about run {run_id}, the platform answered about run {accepted.run_id}",
            answer,
            run_id,
        )
    return answered(accepted, answer)


def get_run_status(settings: Settings, run_id: str) -> Flow[CallbackAccepted]:
    """GET status: a runtime's cheap read of its run's status (agent key), within the client's deadline.

    Raises:
        NotFoundError: the run is unknown (code `run_not_found`), or the platform lacks the endpoint
            (an older platform: any other code, and a message that says so).
    """
    method, path = _route("get_run_status", runId=run_id)
    op = Operation("get_run_status", method, path, answers={200: "CallbackAccepted"})
    try:
        answer = yield from call(settings, op, deadline=deadline_at(settings))
    except NotFoundError as error:
        if error.code != "run_not_found":
            error.message = (
                f"this platform has no {method} {_paths()['get_run_status'][1]} (an extension of the seed's "
                "contract that older platforms lack), so is_cancelled() can't ask it: a cancel still shows as "
                f"RunCancelledError or a plain 409 on the run's next callback ({error.message})"
            )
            error.args = (error.message,)
        raise
    return _accepted(answer, run_id)


def resolve_credential(settings: Settings, connection_id: str, credentials_token: str) -> Flow[Credential]:
    """GET resolve: a credential's values, with the agent key and the run's credentials token."""
    method, path = _route("resolve_credential", connectionId=check.identifier(connection_id, "connection_id"))
    op = Operation(
        "resolve_credential",
        method,
        path,
        answers={200: "Credential"},
        extra_headers={"X-Credentials-Token": credentials_token},
        secrets=(credentials_token,),
    )
    answer = yield from call(settings, op, deadline=deadline_at(settings))
    return answered(Credential.from_json(answer.data), answer)
