"""The public result types of cxpa_sdk: immutable, typed, snake_case.

Each is built from an answer already checked against openapi.yaml (see `_schema`), so a field is
always present with its documented type. A status a newer platform adds (say `paused`) is kept as
a `RunStatus` that is neither active nor terminal, instead of crashing the call.

To and from JSON: `json.dumps(run.to_dict())` (snake_case, RFC 3339 times and statuses as strings,
nested results as dicts), and `Run.from_dict(data)` back, equal to the original. `from_json` reads
the wire's own shape instead. A result returned by a call also says which request answered it
(`request_id`, `replayed`, `attempts`); those describe the call, not the result, so they take no part
in equality and are not in `to_dict()`.

A result built from an answer keeps the properties this SDK does not know (a newer platform's) in
`extra`, by their wire names and as sent: `run.extra.get("costUsd")`. It is empty against a platform
this SDK knows; it takes no part in equality, is never shown in repr (it may hold anything, secrets
included, for a Credential), and is in `to_dict()` (`from_dict` reads it back).
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, Self

__all__ = [
    "CallbackAccepted",
    "CancelPayload",
    "Credential",
    "IngestedRun",
    "RegisteredRun",
    "ResumePayload",
    "Run",
    "RunError",
    "RunEvent",
    "RunStatus",
    "RunWaiting",
    "TriggerPayload",
    "TriggeredRun",
    "WaitTimedOut",
    "parse_runtime_payload",
]


class RunStatus(enum.StrEnum):
    """Where a run is in its life; compares equal to its string value (`RunStatus.COMPLETED == "completed"`)."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def _missing_(cls, value: object) -> RunStatus | None:
        """A status this SDK does not know yet becomes a member of its own rather than an error."""
        if not isinstance(value, str):
            return None
        unknown = str.__new__(cls, value)
        unknown._name_ = value.upper()
        unknown._value_ = value
        return unknown

    @property
    def terminal(self) -> bool:
        """Whether the run has ended: completed, failed or cancelled (it never changes again)."""
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)

    @property
    def known(self) -> bool:
        """Whether this SDK knows the status (False for one a newer platform added)."""
        return self.value in RunStatus._value2member_map_


def _time(value: str | None) -> datetime.datetime | None:
    return None if value is None else datetime.datetime.fromisoformat(value)


# The fields that describe the call that returned a result, not the result: kept out of equality and
# of to_dict(). Keyword-only, with defaults, so a result built by hand needs none of them.
_CALL = {"call": True}


def _request_id() -> Any:
    return field(default=None, compare=False, repr=False, kw_only=True, metadata=_CALL)


def _replayed() -> Any:
    return field(default=False, compare=False, repr=False, kw_only=True, metadata=_CALL)


def _attempts() -> Any:
    return field(default=1, compare=False, repr=False, kw_only=True, metadata=_CALL)


def _extra() -> Any:
    """The `extra` field: not compared (like `request_id`), never in repr, in `to_dict()`."""
    return field(default_factory=dict, compare=False, repr=False, kw_only=True)


def _unknown(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The properties of a wire object outside `known` (the ones its type reads), in wire order; usually none.

    On the hot path of every answer: the common case is one subset test against a frozenset.
    """
    if data.keys() <= known:
        return {}
    return {key: value for key, value in data.items() if key not in known}


def _extra_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The `extra` of a `to_dict()` shape (absent in a dict stored before there was one)."""
    return dict(data.get("extra") or {})


def _plain(value: Any) -> Any:
    """A field's value as JSON-safe data: times as RFC 3339 strings, statuses as strings, results as dicts."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, RunStatus):
        return value.value
    if isinstance(value, RunError | RunWaiting | Run):
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _to_dict(result: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(result, f.name)) for f in fields(result) if not f.metadata.get("call")}


@dataclass(frozen=True, slots=True)
class RunError:
    """Why a run failed: the message, and the error's type name and stack when the runtime sent them.

    Attributes:
        message: What went wrong, for a person.
        name: The error's type name, such as `TimeoutError`, or None.
        stack: The runtime's stack trace or traceback text, or None.
        extra: The wire properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"message", "name", "stack"})

    message: str
    name: str | None = None
    stack: str | None = None
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunError:
        """From the spec's RunError object."""
        return cls(data["message"], data.get("name"), data.get("stack"), extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-safe data: `{"message": ..., "name": ..., "stack": ...}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["message"], data.get("name"), data.get("stack"), extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class RunWaiting:
    """The token a waiting run is paused on.

    Attributes:
        token_id: The token that resumes the run.
        description: What the run is waiting for, for a person.
        extra: The wire properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"token_id", "description"})

    token_id: str
    description: str
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunWaiting:
        """From the spec's RunWaiting object."""
        return cls(data["token_id"], data["description"], extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """The token as JSON-safe data: `{"token_id": ..., "description": ..., "extra": {}}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["token_id"], data["description"], extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class TriggeredRun:
    """The answer to `trigger_run`: the new run's id and status.

    Attributes:
        run_id: The new run's id.
        status: Its status (`queued`, or further along on a replay).
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "status"})

    run_id: str
    status: RunStatus
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TriggeredRun:
        """From the spec's TriggeredRun object."""
        return cls(data["runId"], RunStatus(data["status"]), extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"run_id": ..., "status": "queued", "extra": {}}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], RunStatus(data["status"]), extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class CallbackAccepted:
    """The platform's answer to a runtime's callback (`started`, `output`, `complete`, `fail`, `waiting`).

    Attributes:
        run_id: The run the callback reported on.
        status: The run's status after it.
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already taken this event; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "status"})

    run_id: str
    status: RunStatus
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled: its runtime should stop its work (nothing it sends changes the run)."""
        return self.status == RunStatus.CANCELLED

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallbackAccepted:
        """From the spec's CallbackAccepted object."""
        return cls(data["runId"], RunStatus(data["status"]), extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"run_id": ..., "status": "running", "extra": {}}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], RunStatus(data["status"]), extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class Run:
    """A Run row: one execution of an agent, with its output once it has one.

    Attributes:
        run_id: The run's id (the row's `id`).
        agent_id: The agent's id.
        status: Where the run is.
        input_data: The input it was triggered with.
        output_data: Its output (any JSON), or None.
        outputs: A count of output units, or None.
        error: Why it failed, or None.
        external_run_id: The caller's own id for a registered or ingested run, or None.
        waiting: The token it is paused on while waiting, or None.
        created_at: When it was created.
        started_at: When it started, or None.
        finished_at: When it ended, or None.
        timed_out: Always False: tells a Run from a WaitTimedOut. Mypy narrows `Run | WaitTimedOut`
            on `if result.timed_out:`, pyright only on `result.timed_out is True` (or `== True`);
            `isinstance(result, WaitTimedOut)` narrows in both.
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "agent_id",
            "status",
            "input_data",
            "output_data",
            "outputs",
            "error",
            "external_run_id",
            "waiting",
            "created_at",
            "started_at",
            "finished_at",
        }
    )

    run_id: str
    agent_id: int
    status: RunStatus
    input_data: dict[str, Any]
    output_data: Any
    outputs: int | None
    error: RunError | None
    external_run_id: str | None
    waiting: RunWaiting | None
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    timed_out: Literal[False] = False
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        """From the spec's Run row."""
        waiting = data["waiting"]
        return cls(
            run_id=data["id"],
            agent_id=data["agent_id"],
            status=RunStatus(data["status"]),
            input_data=data["input_data"],
            output_data=data["output_data"],
            outputs=data["outputs"],
            error=None if data["error"] is None else RunError.from_json(data["error"]),
            external_run_id=data["external_run_id"],
            waiting=None if waiting is None else RunWaiting.from_json(waiting),
            created_at=datetime.datetime.fromisoformat(data["created_at"]),
            started_at=_time(data["started_at"]),
            finished_at=_time(data["finished_at"]),
            extra=_unknown(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-safe data, its fields' names as keys (`run_id`, not the wire's `id`).

        Times are RFC 3339 strings, the status a string, `error` and `waiting` dicts or None,
        `timed_out` False, and `extra` a dict (the wire's unknown properties, usually empty);
        `json.dumps(run.to_dict())` works, and `Run.from_dict` reads it back.
        """
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (the inverse: `Run.from_dict(run.to_dict()) == run`)."""
        error, waiting = data["error"], data["waiting"]
        return cls(
            run_id=data["run_id"],
            agent_id=data["agent_id"],
            status=RunStatus(data["status"]),
            input_data=data["input_data"],
            output_data=data["output_data"],
            outputs=data["outputs"],
            error=None if error is None else RunError.from_dict(error),
            external_run_id=data["external_run_id"],
            waiting=None if waiting is None else RunWaiting.from_dict(waiting),
            created_at=datetime.datetime.fromisoformat(data["created_at"]),
            started_at=_time(data["started_at"]),
            finished_at=_time(data["finished_at"]),
            extra=_extra_of(data),
        )

    def raise_for_status(self) -> Run:
        """The run itself when it completed; RunFailedError when it failed or was cancelled.

        A run that has not ended is returned as it is.
        """
        if self.status in (RunStatus.FAILED, RunStatus.CANCELLED):
            from ._errors import RunFailedError  # noqa: PLC0415 - errors import types for annotations

            why = f": {self.error.message}" if self.error else ""
            raise RunFailedError(f"run {self.run_id} {self.status.value}{why}", run=self)
        return self


@dataclass(frozen=True, slots=True)
class WaitTimedOut:
    """The wait window elapsed before the run ended; the run goes on (poll it, or cancel it).

    Attributes:
        run_id: The run, still in flight.
        status: Its status when the wait gave up.
        timed_out: Always True: tells a WaitTimedOut from a Run (see `Run.timed_out`).
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"timedOut", "runId", "status"})

    run_id: str
    status: RunStatus
    timed_out: Literal[True] = True
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WaitTimedOut:
        """From the spec's WaitTimedOut object (the `202` answer of trigger-and-wait)."""
        return cls(data["runId"], RunStatus(data["status"]), extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"run_id": ..., "status": "running", "timed_out": true, "extra": {}}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], RunStatus(data["status"]), extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One change of a run, as `Cxpa.run_events` yields them: a status, an output, a wait, or the end.

    Example:
        >>> for event in client.run_events(42, run_id):                # doctest: +SKIP
        ...     if event.type == "output":
        ...         print("progress", event.output)
        ...     elif event.run is not None:  # `ended`: the last event
        ...         print("done", event.run.output_data)

    Attributes:
        cursor: Opaque; pass it as `after=` to resume with the events that follow this one.
        type: `status` (a transition: `queued` at creation, `running` when started or resumed),
            `output` (an output the runtime sent, intermediate or final), `waiting` (paused on a
            token), `ended` (the run became terminal: always the last event); a type a newer
            platform adds arrives as its string.
        at: When it happened; None for an event the SDK inferred from run reads (an older platform).
        status: The run's status after this event.
        output: For `output`, the output sent (any JSON); else None.
        waiting: For `waiting`, the token the run is paused on; else None.
        run: For `ended`, the terminal Run; else None.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"cursor", "type", "at", "status", "output", "waiting", "run"})

    cursor: str
    type: str
    at: datetime.datetime | None
    status: RunStatus
    output: Any = None
    waiting: RunWaiting | None = None
    run: Run | None = None
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunEvent:
        """From the spec's RunEvent object."""
        waiting, run = data.get("waiting"), data.get("run")
        return cls(
            cursor=data["cursor"],
            type=data["type"],
            at=datetime.datetime.fromisoformat(data["at"]),
            status=RunStatus(data["status"]),
            output=data.get("output"),
            waiting=None if waiting is None else RunWaiting.from_json(waiting),
            run=None if run is None else Run.from_json(run),
            extra=_unknown(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"cursor": ..., "type": "output", "at": ..., "status": ..., "output": ...}`.

        `waiting` and `run` are dicts or None (`run` in `Run.to_dict()`'s shape).
        """
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        waiting, run = data.get("waiting"), data.get("run")
        return cls(
            cursor=data["cursor"],
            type=data["type"],
            at=_time(data.get("at")),
            status=RunStatus(data["status"]),
            output=data.get("output"),
            waiting=None if waiting is None else RunWaiting.from_dict(waiting),
            run=None if run is None else Run.from_dict(run),
            extra=_extra_of(data),
        )


@dataclass(frozen=True, slots=True)
class RegisteredRun:
    """The answer to `register_run`. The credentials token is secret: it is never shown in repr.

    Attributes:
        run_id: The registered run's id.
        credentials_token: Pass it to the runtime with the agent API key to resolve credentials.
        expires_in_seconds: How long the token stays valid, in seconds.
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, never in repr (it may be secret too).
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "credentialsToken", "expiresInSeconds"})

    run_id: str
    credentials_token: str = field(repr=False)
    expires_in_seconds: int
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegisteredRun:
        """From the spec's RegisteredRun object."""
        return cls(data["runId"], data["credentialsToken"], data["expiresInSeconds"], extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data, the credentials token included: store or send the dict as the secret it holds."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], data["credentials_token"], data["expires_in_seconds"], extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class IngestedRun:
    """The answer to `ingest_run`: the platform's id for the run and its status.

    Attributes:
        run_id: The platform's id for the run.
        status: Its status after the ingest.
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, not in repr; in `to_dict()`.
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"runId", "status"})

    run_id: str
    status: RunStatus
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IngestedRun:
        """From the spec's IngestedRun object."""
        return cls(data["runId"], RunStatus(data["status"]), extra=_unknown(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"run_id": ..., "status": "completed", "extra": {}}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], RunStatus(data["status"]), extra=_extra_of(data))


@dataclass(frozen=True, slots=True)
class Credential:
    """A resolved credential connection. `values` is secret material: it is never shown in repr.

    Attributes:
        connection_id: The connection's id.
        type: The kind of credential, such as `api_key`.
        values: The secret values by name.
        expires_at: When they stop working, or None.
        request_id: The X-Request-Id of the answer this came from (None when built by hand); not compared.
        replayed: Whether that answer was an idempotent replay (`Idempotent-Replayed: true`): the
            platform had already acted on this Idempotency-Key; not compared.
        attempts: How many attempts that request took (1 when it was not retried); not compared.
        extra: The answer's properties this SDK does not know (a newer platform's), by their wire
            names; empty when there are none. Not compared, never in repr (it may be secret material too).
    """

    _WIRE: ClassVar[frozenset[str]] = frozenset({"connectionId", "type", "values", "expiresAt"})

    connection_id: str
    type: str
    values: Mapping[str, str] = field(repr=False)
    expires_at: datetime.datetime | None
    request_id: str | None = _request_id()
    replayed: bool = _replayed()
    attempts: int = _attempts()
    extra: Mapping[str, Any] = _extra()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Credential:
        """From the spec's Credential object."""
        return cls(
            data["connectionId"],
            data["type"],
            dict(data["values"]),
            _time(data["expiresAt"]),
            extra=_unknown(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data, the secret `values` included: store or send the dict as the secret it holds."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(
            data["connection_id"], data["type"], dict(data["values"]), _time(data["expires_at"]), extra=_extra_of(data)
        )


@dataclass(frozen=True, slots=True)
class TriggerPayload:
    """What the platform sends a runtime when it starts a run. The key and token never show in repr.

    Attributes:
        run_id: The run to report on.
        agent_id: The agent the run belongs to.
        input: The run's input.
        agent_api_key: The key for the run's callbacks and credential resolves.
        credentials_token: The token for credential resolves, when the run has one.
        trace_context: The W3C trace context (`traceparent`, `tracestate`) of the trigger request,
            which `AgentClient.from_payload` continues; empty when the platform sent none (an
            extension of the seed's contract). Not in repr, to keep it short.
    """

    run_id: str
    agent_id: int
    input: dict[str, Any]
    agent_api_key: str = field(repr=False)
    credentials_token: str | None = field(default=None, repr=False)
    trace_context: Mapping[str, str] = field(default_factory=dict, repr=False, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data in this SDK's snake_case, the key and token included (they are secrets)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (not the wire's camelCase: `parse` reads that)."""
        return cls(
            data["run_id"],
            data["agent_id"],
            data["input"],
            data["agent_api_key"],
            data.get("credentials_token"),
            trace_context=dict(data.get("trace_context") or {}),
        )

    @classmethod
    def parse(cls, payload: bytes | str | Mapping[str, Any]) -> TriggerPayload:
        """Validate the JSON a runtime received (bytes, text or a decoded mapping).

        Raises:
            InvalidArgumentError: The payload is not JSON or not a TriggerPayload; the message
                names the field.
        """
        data = _checked_payload(payload, "TriggerPayload", "trigger payload")
        return cls(
            data["runId"],
            data["agentId"],
            data["input"],
            data["agentApiKey"],
            data.get("credentialsToken"),
            trace_context=_trace_context(data),
        )


@dataclass(frozen=True, slots=True)
class ResumePayload:
    """What the platform sends a URL runtime when a run that reported `waiting` is resumed.

    It arrives at the same URL as the TriggerPayload (`parse_runtime_payload` tells them apart).
    The key and token never show in repr.

    Attributes:
        run_id: The run that was resumed.
        agent_id: The agent the run belongs to.
        token_id: The token the run was waiting on.
        output: What the resumer passed on (`{}` when nothing).
        agent_api_key: The key for the run's callbacks and credential resolves.
        credentials_token: A fresh token for credential resolves, when the run has one.
        trace_context: The W3C trace context (`traceparent`, `tracestate`) of the run's trigger
            request, as in TriggerPayload; empty when the platform sent none. Not in repr.
    """

    run_id: str
    agent_id: int
    token_id: str
    output: dict[str, Any]
    agent_api_key: str = field(repr=False)
    credentials_token: str | None = field(default=None, repr=False)
    trace_context: Mapping[str, str] = field(default_factory=dict, repr=False, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data in this SDK's snake_case, the key and token included (they are secrets)."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (not the wire's camelCase: `parse` reads that)."""
        return cls(
            data["run_id"],
            data["agent_id"],
            data["token_id"],
            data["output"],
            data["agent_api_key"],
            data.get("credentials_token"),
            trace_context=dict(data.get("trace_context") or {}),
        )

    @classmethod
    def parse(cls, payload: bytes | str | Mapping[str, Any]) -> ResumePayload:
        """Validate the JSON a runtime received (bytes, text or a decoded mapping).

        Raises:
            InvalidArgumentError: The payload is not JSON or not a ResumePayload; the message
                names the field.
        """
        data = _checked_payload(payload, "ResumePayload", "resume payload")
        return cls(
            data["runId"],
            data["agentId"],
            data["tokenId"],
            data["output"],
            data["agentApiKey"],
            data.get("credentialsToken"),
            trace_context=_trace_context(data),
        )


@dataclass(frozen=True, slots=True)
class CancelPayload:
    """What the platform sends a URL runtime when one of its runs is cancelled: stop that run's work.

    It arrives at the same URL as the TriggerPayload (`parse_runtime_payload` tells them apart) and
    carries no key. Its answer is ignored; a runtime that misses it learns of the cancel from its
    next callback (RunCancelledError) or `AgentClient.is_cancelled()`.

    Example:
        >>> payload = parse_runtime_payload(request_body)               # doctest: +SKIP
        >>> if isinstance(payload, CancelPayload):                      # doctest: +SKIP
        ...     stop_events[payload.run_id].set()

    Attributes:
        run_id: The run that was cancelled.
        agent_id: The agent the run belongs to.
    """

    run_id: str
    agent_id: int

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data in this SDK's snake_case: `{"run_id": ..., "agent_id": 42}`."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (not the wire's camelCase: `parse` reads that)."""
        return cls(data["run_id"], data["agent_id"])

    @classmethod
    def parse(cls, payload: bytes | str | Mapping[str, Any]) -> CancelPayload:
        """Validate the JSON a runtime received (bytes, text or a decoded mapping).

        Raises:
            InvalidArgumentError: The payload is not JSON or not a CancelPayload; the message
                names the field.
        """
        data = _checked_payload(payload, "CancelPayload", "cancel payload")
        return cls(data["runId"], data["agentId"])


def parse_runtime_payload(
    payload: bytes | str | Mapping[str, Any],
) -> TriggerPayload | ResumePayload | CancelPayload:
    """Validate what the platform POSTed to a runtime's URL, by its `type`.

    A ResumePayload when `type` is `resumed`, a CancelPayload when it is `cancelled`, else a
    TriggerPayload (which has no `type`).

    Raises:
        InvalidArgumentError: The payload is not JSON, or not the payload its `type` says; the
            message names the field.
    """
    data = _decode_payload(payload, "runtime payload")
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "resumed":
        return ResumePayload.parse(data)
    if kind == "cancelled":
        return CancelPayload.parse(data)
    return TriggerPayload.parse(data)


def _trace_context(data: Mapping[str, Any]) -> dict[str, str]:
    """The W3C trace context a payload carries (`traceparent`, and `tracestate` only beside it); usually none."""
    traceparent = data.get("traceparent")
    if traceparent is None:
        return {}
    tracestate = data.get("tracestate")
    if tracestate is None:
        return {"traceparent": traceparent}
    return {"traceparent": traceparent, "tracestate": tracestate}


def _decode_payload(payload: object, what: str) -> Any:
    """The payload decoded from JSON (a mapping becomes a dict); InvalidArgumentError when it is not JSON."""
    from ._errors import InvalidArgumentError  # noqa: PLC0415 - errors import types for annotations

    if isinstance(payload, Mapping):
        return dict(payload)
    if not isinstance(payload, bytes | bytearray | str):
        return payload  # already decoded: the schema check names what it is
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise InvalidArgumentError(f"the {what} is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidArgumentError(f"the {what} is nested too deeply") from None


def _checked_payload(payload: bytes | str | Mapping[str, Any], schema: str, what: str) -> dict[str, Any]:
    """The payload decoded and checked against the spec's `schema`; InvalidArgumentError naming the field."""
    from ._errors import InvalidArgumentError  # noqa: PLC0415 - errors import types for annotations
    from ._schema import SchemaError, validate  # noqa: PLC0415 - the spec is loaded on first use

    data: dict[str, Any] = _decode_payload(payload, what)
    try:
        validate(data, schema)
    except SchemaError as exc:
        raise InvalidArgumentError(f"invalid {what}: {exc}") from None
    except RecursionError:
        raise InvalidArgumentError(f"the {what} is nested too deeply") from None
    return data
