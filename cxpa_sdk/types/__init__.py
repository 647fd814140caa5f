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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

from .._errors import CxpaError
from ._answer import Answer, RunAnswer
from ._fields import as_dict, extra_field, extra_of, parse_time, unknown_properties
from ._runtime import (
    CallbackAccepted,
    CancelPayload,
    Credential,
    ResumePayload,
    TriggerPayload,
    parse_runtime_payload,
)
from ._status import RunStatus

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
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunError:
        """From the spec's RunError object."""
        return cls(data["message"], data.get("name"), data.get("stack"), extra=unknown_properties(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-safe data: `{"message": ..., "name": ..., "stack": ...}`."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["message"], data.get("name"), data.get("stack"), extra=extra_of(data))


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
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunWaiting:
        """From the spec's RunWaiting object."""
        return cls(data["token_id"], data["description"], extra=unknown_properties(data, cls._WIRE))

    def to_dict(self) -> dict[str, Any]:
        """The token as JSON-safe data: `{"token_id": ..., "description": ..., "extra": {}}`."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["token_id"], data["description"], extra=extra_of(data))


@dataclass(frozen=True, slots=True)
class TriggeredRun(RunAnswer):
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


class RunFailedError(CxpaError):
    """A run that had to succeed failed or was cancelled (`Run.raise_for_status`, `handle.result()`).

    Defined beside Run, which raises it; public as `cxpa_sdk.RunFailedError`.

    Attributes:
        run: The terminal Run.
    """

    def __init__(self, message: str, *, run: Run, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.run = run


@dataclass(frozen=True, slots=True)
class Run(Answer):
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
    extra: Mapping[str, Any] = extra_field()

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
            started_at=parse_time(data["started_at"]),
            finished_at=parse_time(data["finished_at"]),
            extra=unknown_properties(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-safe data, its fields' names as keys (`run_id`, not the wire's `id`).

        Times are RFC 3339 strings, the status a string, `error` and `waiting` dicts or None,
        `timed_out` False, and `extra` a dict (the wire's unknown properties, usually empty);
        `json.dumps(run.to_dict())` works, and `Run.from_dict` reads it back.
        """
        return as_dict(self)

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
            started_at=parse_time(data["started_at"]),
            finished_at=parse_time(data["finished_at"]),
            extra=extra_of(data),
        )

    def raise_for_status(self) -> Run:
        """The run itself when it completed; RunFailedError when it failed or was cancelled.

        A run that has not ended is returned as it is.
        """
        if self.status in (RunStatus.FAILED, RunStatus.CANCELLED):
            why = f": {self.error.message}" if self.error else ""
            raise RunFailedError(f"run {self.run_id} {self.status.value}{why}", run=self)
        return self


@dataclass(frozen=True, slots=True)
class WaitTimedOut(RunAnswer):
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

    timed_out: Literal[True] = True


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One change of a run, as `Cxpa.run_events` yields them: a status, an output, a wait, or the end.

    Examples:
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
    extra: Mapping[str, Any] = extra_field()

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
            extra=unknown_properties(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data: `{"cursor": ..., "type": "output", "at": ..., "status": ..., "output": ...}`.

        `waiting` and `run` are dicts or None (`run` in `Run.to_dict()`'s shape).
        """
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        waiting, run = data.get("waiting"), data.get("run")
        return cls(
            cursor=data["cursor"],
            type=data["type"],
            at=parse_time(data.get("at")),
            status=RunStatus(data["status"]),
            output=data.get("output"),
            waiting=None if waiting is None else RunWaiting.from_dict(waiting),
            run=None if run is None else Run.from_dict(run),
            extra=extra_of(data),
        )


@dataclass(frozen=True, slots=True)
class RegisteredRun(Answer):
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
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegisteredRun:
        """From the spec's RegisteredRun object."""
        return cls(
            data["runId"], data["credentialsToken"], data["expiresInSeconds"], extra=unknown_properties(data, cls._WIRE)
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data, the credentials token included: store or send the dict as the secret it holds."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(data["run_id"], data["credentials_token"], data["expires_in_seconds"], extra=extra_of(data))


@dataclass(frozen=True, slots=True)
class IngestedRun(RunAnswer):
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


# The status and the runtime's types are defined beside (without postponed annotations) and live here.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
RunFailedError.__module__ = "cxpa_sdk"  # an error, exported (and pickled) with the others
