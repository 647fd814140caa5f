"""What an agent runtime receives: the payloads the platform POSTs to its URL, callback answers, credentials.

Re-exported by `cxpa_sdk.types`, their public home (they read as `cxpa_sdk.types.X`). This module
does not postpone its annotations (no `from __future__ import annotations`), so `typing.get_type_hints`
needs no module namespace to resolve them: pydantic and FastAPI read these types wherever they live.
"""

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from .._errors import InvalidArgumentError
from .._logging import logger
from .._schema import SchemaError, validate, validate_property
from ._answer import Answer, RunAnswer
from ._fields import as_dict, extra_field, extra_of, parse_time, unknown_properties
from ._status import RunStatus


@dataclass(frozen=True, slots=True)
class CallbackAccepted(RunAnswer):
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

    @property
    def cancelled(self) -> bool:
        """Whether the run was cancelled: its runtime should stop its work (nothing it sends changes the run)."""
        return self.status == RunStatus.CANCELLED


@dataclass(frozen=True, slots=True)
class Credential(Answer):
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
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """From the spec's Credential object."""
        return cls(
            data["connectionId"],
            data["type"],
            dict(data["values"]),
            parse_time(data["expiresAt"]),
            extra=unknown_properties(data, cls._WIRE),
        )

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data, the secret `values` included: store or send the dict as the secret it holds."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape."""
        return cls(
            data["connection_id"],
            data["type"],
            dict(data["values"]),
            parse_time(data["expires_at"]),
            extra=extra_of(data),
        )


class RuntimePayload:
    """What TriggerPayload and ResumePayload share: read from the wire and from `to_dict()` by one table.

    `_FIELDS` maps each field but `trace_context` to its wire name; a field the data lacks keeps its default.
    (Not `_WIRE`: that name is the answers' set of wire names whose other properties go to `extra`.)
    """

    __slots__ = ()
    _WHAT: ClassVar[str]  # the payload's name in error messages; its spec schema is the class's name
    _FIELDS: ClassVar[Mapping[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """As JSON-safe data in this SDK's snake_case, the key and token included (they are secrets)."""
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (not the wire's camelCase: `parse` reads that)."""
        read = {name: data[name] for name in cls._FIELDS if name in data}
        read["trace_context"] = dict(data.get("trace_context") or {})
        return cls(**read)

    @classmethod
    def parse(cls, payload: bytes | str | Mapping[str, Any]) -> Self:
        """Validate the JSON a runtime received (bytes, text or a decoded mapping).

        Raises:
            InvalidArgumentError: The payload is not JSON or not this payload; the message names the field.
        """
        data = _checked_payload(payload, cls.__name__, cls._WHAT)
        read = {name: data[wire] for name, wire in cls._FIELDS.items() if wire in data}
        read["trace_context"] = _trace_context(data)
        return cls(**read)


@dataclass(frozen=True, slots=True)
class TriggerPayload(RuntimePayload):
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

    _WHAT: ClassVar[str] = "trigger payload"
    _FIELDS: ClassVar[Mapping[str, str]] = {
        "run_id": "runId",
        "agent_id": "agentId",
        "input": "input",
        "agent_api_key": "agentApiKey",
        "credentials_token": "credentialsToken",
    }


@dataclass(frozen=True, slots=True)
class ResumePayload(RuntimePayload):
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
        input: The run's input, as its trigger payload carried it, so that a runtime needs no state
            of its own to carry on; None from a platform that does not send it (an older one).
        trace_context: The W3C trace context (`traceparent`, `tracestate`) of the run's trigger
            request, as in TriggerPayload; empty when the platform sent none. Not in repr.
    """

    run_id: str
    agent_id: int
    token_id: str
    output: dict[str, Any]
    agent_api_key: str = field(repr=False)
    credentials_token: str | None = field(default=None, repr=False)
    input: dict[str, Any] | None = field(default=None, kw_only=True)
    trace_context: Mapping[str, str] = field(default_factory=dict, repr=False, kw_only=True)

    _WHAT: ClassVar[str] = "resume payload"
    _FIELDS: ClassVar[Mapping[str, str]] = {
        "run_id": "runId",
        "agent_id": "agentId",
        "token_id": "tokenId",
        "output": "output",
        "agent_api_key": "agentApiKey",
        "credentials_token": "credentialsToken",
        "input": "input",
    }


@dataclass(frozen=True, slots=True)
class CancelPayload:
    """What the platform sends a URL runtime when one of its runs is cancelled: stop that run's work.

    It arrives at the same URL as the TriggerPayload (`parse_runtime_payload` tells them apart) and
    carries no key. Its answer is ignored; a runtime that misses it learns of the cancel from its
    next callback (RunCancelledError) or `AgentClient.is_cancelled()`.

    Examples:
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
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """From `to_dict()`'s shape (not the wire's camelCase: `parse` reads that)."""
        return cls(data["run_id"], data["agent_id"])

    @classmethod
    def parse(cls, payload: bytes | str | Mapping[str, Any]) -> Self:
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
    """Validate what the platform POSTed to a runtime's URL, by its `type` (unverified).

    `cxpa_sdk.parse_runtime_payload` is this, and verifies the delivery's signature first when it is
    given keys (see `cxpa_sdk.verify_delivery`).

    A ResumePayload when `type` is `resumed`, a CancelPayload when it is `cancelled`, a
    TriggerPayload when there is no `type` (the seed's trigger payload has none). Any other `type`
    (another word, another case, a number, null) is refused: it is no payload this SDK knows, and
    taking it for a trigger would start the run's work again.

    Raises:
        InvalidArgumentError: The payload is not JSON, has an unknown `type`, or is not the payload
            its `type` says; the message names the field.
    """
    data = _decode_payload(payload, "runtime payload")
    if not isinstance(data, dict) or "type" not in data:
        return TriggerPayload.parse(data)
    kind = data["type"]
    if kind == "resumed":
        return ResumePayload.parse(data)
    if kind == "cancelled":
        return CancelPayload.parse(data)
    raise InvalidArgumentError(
        f"invalid runtime payload: type: must be resumed or cancelled, or absent (a trigger payload), "
        f"got {_shown(kind)}"
    )


_JSON_KINDS = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}


def _shown(value: object) -> str:
    """A decoded JSON value for an error message: a string quoted and cut to 40 characters, else its JSON kind.

    Never the value itself otherwise: a huge number has no repr (over 4300 digits), a huge array no short one.
    """
    if isinstance(value, str):
        return repr(value[:40])
    return "null" if value is None else _JSON_KINDS.get(type(value), type(value).__name__)


TRACE_CONTEXT_KEYS = ("traceparent", "tracestate")


def valid_trace_context(data: Mapping[str, Any], what: str) -> dict[str, str]:
    """The W3C trace context in `data` (`traceparent`, and `tracestate` only beside it), without invalid values.

    Trace context is optional telemetry, never a reason to refuse a run: a value the spec's
    TriggerPayload refuses (which ResumePayload declares alike) is dropped and logged at DEBUG
    (`what` names where it came from), so the runtime reports in a trace of its own.
    """
    context: dict[str, str] = {}
    for key in TRACE_CONTEXT_KEYS:
        if key not in data:
            continue
        try:
            validate_property(data[key], "TriggerPayload", key)
        except SchemaError as exc:
            logger.debug("the %s's %s is invalid, so it is dropped: %s", what, key, exc)
        else:
            context[key] = data[key]
    if "tracestate" in context and "traceparent" not in context:
        logger.debug("the %s's tracestate is dropped: it has no valid traceparent beside it", what)
        return {}
    return context


def _trace_context(data: Mapping[str, Any]) -> dict[str, str]:
    """The trace context of a checked payload, whose invalid values were dropped (`_checked_payload`)."""
    return {key: data[key] for key in TRACE_CONTEXT_KEYS if key in data}


def _with_valid_trace_context(data: dict[str, Any], what: str) -> dict[str, Any]:
    """The payload with only its valid trace context (`valid_trace_context`), for its schema check."""
    untraced = {key: value for key, value in data.items() if key not in TRACE_CONTEXT_KEYS}
    return {**untraced, **valid_trace_context(data, what)}


def _decode_payload(payload: object, what: str) -> Any:
    """The payload decoded from JSON (a mapping becomes a dict); InvalidArgumentError when it is not JSON."""
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
    data: dict[str, Any] = _decode_payload(payload, what)
    if isinstance(data, dict):
        data = _with_valid_trace_context(data, what)
    try:
        validate(data, schema)
    except SchemaError as exc:
        raise InvalidArgumentError(f"invalid {what}: {exc}") from None
    except RecursionError:
        raise InvalidArgumentError(f"the {what} is nested too deeply") from None
    return data
