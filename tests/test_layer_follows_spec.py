"""The hand-written layer follows openapi.yaml: a spec change it misses fails here, naming the field.

Regenerating `cxpa_api` follows the spec by construction; `cxpa_sdk` is written by hand, so these
tables say where each part of the spec lands in it, and the checks below compare them with the spec:

* every property of every answer schema (what an operation answers with on 2xx, and the schemas
  nested in it) is a field of its result type (`ANSWERS`; the default name is camelCase ->
  snake_case), or is in `DELIBERATELY_OMITTED` with the reason; a result type's `_WIRE` (the wire
  properties its `from_json` reads, the rest going to `extra`) is exactly the mapped ones;
* every input of every operation (body properties, query, path and header parameters) is an
  argument of each SDK callable that sends it (`SENDERS`, `ARGUMENTS`), or is in `SET_BY_SDK` with
  the reason;
* every operationId is sent by `cxpa_sdk/_core/_operations.py` and listed in `SENDERS`, or is in
  `NOT_WRAPPED` with the reason;
* every component schema is accounted for: an answer, a request body, a payload the platform sends
  to a runtime (`PAYLOADS`), an error body, or in `OTHER_SCHEMAS` with the reason.

Each check takes the loaded spec as an argument, so the tests at the end feed it modified copies
(never the real file) and assert that the failure names what changed. docs/architecture.md ("When
the spec changes") describes the workflow.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openapi_spec import load_spec

import cxpa_sdk
from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, aio, types
from cxpa_sdk._errors import APIStatusError

# The flows that build requests: one module per concern of the core (`_batch`: trigger_runs_batch).
OPERATIONS_SOURCES = [Path(cxpa_sdk.__file__).parent / "_core" / name for name in ("_operations.py", "_batch.py")]


def operations_source() -> str:
    """The text of every module of the core that builds requests."""
    return "\n".join(path.read_text(encoding="utf-8") for path in OPERATIONS_SOURCES)


@dataclass(frozen=True)
class Maps:
    """A wire object read into an SDK class, and its wire properties not named by camelCase -> snake_case."""

    cls: type
    renames: Mapping[str, str] = field(default_factory=dict)


# Answer schemas: what operations answer with on 2xx, and the objects nested in them.
ANSWERS: dict[str, Maps] = {
    "Run": Maps(types.Run, {"id": "run_id"}),
    "RunError": Maps(types.RunError),
    "RunWaiting": Maps(types.RunWaiting),
    "TriggeredRun": Maps(types.TriggeredRun),
    "WaitTimedOut": Maps(types.WaitTimedOut),
    "RegisteredRun": Maps(types.RegisteredRun),
    "IngestedRun": Maps(types.IngestedRun),
    "CallbackAccepted": Maps(types.CallbackAccepted),
    "Credential": Maps(types.Credential),
    "RunEvent": Maps(types.RunEvent),
}
# The W3C trace context a payload carries: both properties are read into one `trace_context` mapping.
TRACE_CONTEXT = {"traceparent": "trace_context", "tracestate": "trace_context"}
# What the platform POSTs to a runtime's URL, read by `parse_runtime_payload` and `*.parse`.
PAYLOADS: dict[str, Maps] = {
    "TriggerPayload": Maps(types.TriggerPayload, TRACE_CONTEXT),
    "ResumePayload": Maps(types.ResumePayload, TRACE_CONTEXT),
    "CancelPayload": Maps(types.CancelPayload),
}
# Error bodies (every non-2xx answer): their detail becomes the raised APIStatusError's attributes.
ERRORS: dict[str, Maps] = {
    "ErrorDetail": Maps(APIStatusError),
}
DELIBERATELY_OMITTED: dict[tuple[str, str], str] = {
    ("ResumePayload", "type"): "the tag that tells it from a TriggerPayload: the class itself says it",
    ("CancelPayload", "type"): "the tag that tells it from a TriggerPayload: the class itself says it",
    ("Error", "error"): "the envelope: its ErrorDetail is read into the APIStatusError raised (ERRORS)",
}
# Component schemas that are no object read into a class or sent as a body.
OTHER_SCHEMAS: dict[str, str] = {
    "RunStatus": "an enum, read into cxpa_sdk.RunStatus (test_every_run_status_is_a_member)",
    "RunIdentifier": (
        "the run id rule, a str: _config.run_id checks a caller's run ids by it, the answers' schemas the platform's"
    ),
    "TokenIdentifier": (
        "the id rule for waiting tokens, a str: _config.token_id checks waiting()'s and resume_run's token ids by "
        "it, the answers' schemas the platform's"
    ),
    "Cursor": (
        "the cursor rule, a str: _config.cursor checks a caller's `after` by it, the answers' schemas the platform's"
    ),
    "JsonObject": "any JSON object: passed through as a dict (input, input_data, output)",
    "Error": "the envelope of every error body (see ERRORS for its detail)",
    "Agent": "describes an agent of the local platform (cxpa_sdk.testing); no operation answers with it",
    "RunsWaited": (
        "wait_for_runs' answer, read by the internal ops.Waited: its `ended` Runs come out of as_completed, "
        "wait_all and the async client's shared waits; each of its `missing` raises for that run's wait"
    ),
    "MissingRun": (
        "a run wait_for_runs could not read (ops.Missing): the wait for it raises NotFoundError or "
        "PermissionDeniedError with the entry's code, message and run id"
    ),
    "TriggerBatchAnswer": (
        "trigger_runs_batch's answer, read by the internal _core._batch.trigger_batch: each entry becomes its "
        "item's TriggeredRun (a handle from trigger_many, a wait in run_many) or the APIStatusError its trigger "
        "would have raised, a TriggeredItem's or FinishedItem's `error`"
    ),
    "ErrorDetail": (
        "also an item's error in trigger_runs_batch's answer, read into the APIStatusError its trigger would "
        "have raised (as ERRORS reads it from an error body)"
    ),
    "IdempotencyKey": "the Idempotency-Key rule, a str: _engine checks a caller's keys by it; a batch item's echoes it",
    "TriggerBatchItemAccepted": "an item's run (idempotencyKey, runId, status, replayed): a TriggeredRun",
    "TriggerBatchItemFailed": (
        "an item's error (idempotencyKey, status, error): the APIStatusError its single trigger would have raised"
    ),
    "RunEvents": (
        "a page of a run's events: run_events yields its `events` (RunEvent), reads on with `after=` its "
        "`cursor` (WaitTimeoutError.cursor when the deadline passes) and stops once it is `ended`"
    ),
}
# The callables of the layer that send each operation (all of them take its arguments).
SENDERS: dict[str, tuple[Callable[..., Any], ...]] = {
    "trigger_run": (Cxpa.trigger_run, AsyncCxpa.trigger_run, cxpa_sdk.trigger_run, aio.trigger_run),
    "trigger_run_and_wait": (
        Cxpa.trigger_run_and_wait,
        AsyncCxpa.trigger_run_and_wait,
        cxpa_sdk.trigger_run_and_wait,
        aio.trigger_run_and_wait,
    ),
    "trigger_run_and_download": (
        Cxpa.trigger_run_and_download,
        AsyncCxpa.trigger_run_and_download,
        cxpa_sdk.trigger_run_and_download,
        aio.trigger_run_and_download,
    ),
    "register_run": (Cxpa.register_run, AsyncCxpa.register_run, cxpa_sdk.register_run, aio.register_run),
    "ingest_run": (Cxpa.ingest_run, AsyncCxpa.ingest_run, cxpa_sdk.ingest_run, aio.ingest_run),
    "get_run": (Cxpa.get_run, AsyncCxpa.get_run, Cxpa.wait_for_run, AsyncCxpa.wait_for_run),
    "cancel_run": (Cxpa.cancel_run, AsyncCxpa.cancel_run),
    "resume_run": (Cxpa.resume_run, AsyncCxpa.resume_run),
    "post_callback": tuple(
        getattr(cls, name)
        for cls in (AgentClient, AsyncAgentClient)
        for name in ("started", "output", "complete", "fail", "waiting", "heartbeat")
    ),
    "resolve_credential": (AgentClient.resolve_credential, AsyncAgentClient.resolve_credential),
    "get_run_status": (AgentClient.is_cancelled, AsyncAgentClient.is_cancelled),
    "get_run_events": (Cxpa.run_events, AsyncCxpa.run_events),
    "wait_for_runs": (cxpa_sdk.as_completed, cxpa_sdk.wait_all, aio.as_completed, aio.wait_all),
    "trigger_runs_batch": (Cxpa.trigger_many, AsyncCxpa.trigger_many, Cxpa.run_many, AsyncCxpa.run_many),
}
NOT_WRAPPED: dict[str, str] = {}
# What a runtime's client is built with: the run and its credentials token are not method arguments.
AGENT_CLIENTS = (AgentClient, AsyncAgentClient, cxpa_sdk.create_agent_client, aio.create_agent_client)
CALLBACK_OUTPUT = tuple(getattr(cls, n) for cls in (AgentClient, AsyncAgentClient) for n in ("output", "complete"))
CALLBACK_FAIL = (AgentClient.fail, AsyncAgentClient.fail)
# A body that is a oneOf: the senders of each variant (their properties are checked against these).
VARIANT_SENDERS: dict[tuple[str, str], tuple[Callable[..., Any], ...]] = {
    ("post_callback", "StartedEvent"): (AgentClient.started, AsyncAgentClient.started),
    ("post_callback", "OutputEvent"): (*CALLBACK_OUTPUT, *CALLBACK_FAIL),
    ("post_callback", "WaitingEvent"): (AgentClient.waiting, AsyncAgentClient.waiting),
    ("post_callback", "HeartbeatEvent"): (AgentClient.heartbeat, AsyncAgentClient.heartbeat),
}


@dataclass(frozen=True)
class Arg:
    """An input of an operation taken as the argument `name` of `takers` (default: the operation's SENDERS)."""

    name: str
    takers: tuple[Callable[..., Any], ...] | None = None


# Inputs whose argument is not camelCase -> snake_case on every sender. Keys: (operationId, input),
# an input being `Schema.property` for a body property, `query name`, `path name` or `header Name`.
ARGUMENTS: dict[tuple[str, str], Arg] = {
    ("post_callback", "path runId"): Arg("run_id", AGENT_CLIENTS),
    ("get_run_status", "path runId"): Arg("run_id", AGENT_CLIENTS),
    ("post_callback", "OutputEvent.output"): Arg("output", CALLBACK_OUTPUT),
    ("post_callback", "OutputEvent.outputs"): Arg("outputs", CALLBACK_OUTPUT),
    ("post_callback", "OutputEvent.error"): Arg("error", CALLBACK_FAIL),
    ("resolve_credential", "header X-Credentials-Token"): Arg("credentials_token", AGENT_CLIENTS),
    ("wait_for_runs", "WaitForRunsRequest.runs"): Arg("handles"),
}
# Inputs the SDK sets itself, with the reason.
SET_BY_SDK: dict[tuple[str, str], str] = {
    ("get_run", "query waitMs"): (
        "the long-poll window: get_run reads at once; wait_for_run (and trigger_run_and_wait's later reads) "
        "send windows of at most 50 s each, from their own timeout"
    ),
    ("get_run_events", "query waitMs"): (
        "the long-poll window: run_events sends windows of at most 50 s each, from its own timeout"
    ),
    ("post_callback", "header Idempotency-Key"): "a fresh key per event, the same on each retry of it",
    ("trigger_runs_batch", "header Idempotency-Key"): (
        "a fresh key per batch request, the same on each retry of it: each item carries its own key (derived from "
        "the job and the item's key, or fresh), which is what keeps an item from running twice"
    ),
    ("wait_for_runs", "header Idempotency-Key"): "not sent: a read, which changes nothing, is retried freely",
    ("wait_for_runs", "WaitForRunsRequest.waitMs"): (
        "the long-poll window: windows of at most 50 s each, from the waits' own timeouts"
    ),
    ("post_callback", "StartedEvent.type"): "the event tag: the method chooses it",
    ("post_callback", "OutputEvent.type"): "the event tag: the method chooses it",
    ("post_callback", "OutputEvent.complete"): "complete() sends `complete: true`",
    ("post_callback", "OutputEvent.failed"): "fail() sends `failed: true`",
    ("post_callback", "WaitingEvent.type"): "the event tag: the method chooses it",
    ("post_callback", "HeartbeatEvent.type"): "the event tag: the method chooses it",
}
# Each security scheme, and the constructor argument that carries it.
SECURITY: dict[str, tuple[str, tuple[Callable[..., Any], ...]]] = {
    "ingestKey": ("ingest_api_key", (Cxpa, AsyncCxpa)),
    "agentKey": ("api_key", AGENT_CLIENTS),
    "credentialsToken": ("credentials_token", AGENT_CLIENTS),
}


def snake(name: str) -> str:
    """Names from camelCase to snake_case (`timeoutMs` -> `timeout_ms`; snake_case stays as it is)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _ref_name(node: Mapping[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A `$ref` to components (responses, parameters, schemas) followed; anything else as it is."""
    while isinstance(ref := node.get("$ref"), str):
        _, _, section, name = ref.split("/")
        node = spec["components"][section][name]
    return node


def _nested(spec: Mapping[str, Any], name: str, seen: set[str]) -> set[str]:
    """`name` and every component schema it refers to, however deep."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (ref := _ref_name(node)) is not None and ref not in seen:
                seen.add(ref)
                found.add(ref)
                walk(spec["components"]["schemas"][ref])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if name not in seen:
        seen.add(name)
        found.add(name)
        walk(spec["components"]["schemas"][name])
    return found


def _operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield operation["operationId"], operation


def _json_schema(spec: Mapping[str, Any], content: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    media = (content or {}).get("application/json")
    return None if media is None else media.get("schema")


def answer_schemas(spec: Mapping[str, Any]) -> dict[str, str]:
    """Every schema an operation answers with on 2xx, or nested in one -> the first operation that does."""
    found: dict[str, str] = {}
    for operation_id, operation in _operations(spec):
        for status, response in operation.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            schema = _json_schema(spec, _resolve(spec, response).get("content"))
            if schema is None:
                continue
            for name in _schema_refs(spec, schema):
                found.setdefault(name, operation_id)
    return found


def _schema_refs(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    seen: set[str] = set()
    for node in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        if (name := _ref_name(node)) is not None:
            names |= _nested(spec, name, seen)
    if _ref_name(schema) is None and schema.get("type") == "object":
        names.add("<inline>")
    return names


def error_schemas(spec: Mapping[str, Any]) -> set[str]:
    """Every schema a non-2xx answer has, and those nested in it."""
    found: set[str] = set()
    for _, operation in _operations(spec):
        for status, response in operation.get("responses", {}).items():
            if not str(status).startswith("2"):
                schema = _json_schema(spec, _resolve(spec, response).get("content"))
                found |= set() if schema is None else _schema_refs(spec, schema)
    return found


def request_inputs(spec: Mapping[str, Any], operation: Mapping[str, Any]) -> list[str]:
    """An operation's inputs: `path agentId`, `query waitMs`, `header Idempotency-Key`, `Schema.property`.

    A body that is a oneOf (CallbackEvent) gives the properties of each of its variants. Objects
    nested in a property (an `error`, a list of runs) are the argument's value as a whole.
    """
    inputs = []
    for node in operation.get("parameters", []):
        parameter = _resolve(spec, node)
        inputs.append(f"{parameter['in']} {parameter['name']}")
    schema = _json_schema(spec, operation.get("requestBody", {}).get("content"))
    if schema is not None:
        for name in _body_schemas(spec, schema):
            inputs += [f"{name}.{p}" for p in spec["components"]["schemas"][name].get("properties", {})]
    return inputs


def _body_schemas(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    name = _ref_name(schema)
    if name is None:
        return []
    body = spec["components"]["schemas"][name]
    variants = [v for v in body.get("oneOf", []) if _ref_name(v)]
    return [n for v in variants for n in _body_schemas(spec, v)] if variants else [name]


def request_schemas(spec: Mapping[str, Any]) -> set[str]:
    """Every schema a request body is, or refers to (however deep)."""
    found: set[str] = set()
    for _, operation in _operations(spec):
        schema = _json_schema(spec, operation.get("requestBody", {}).get("content"))
        if schema is not None:
            found |= _schema_refs(spec, schema)
    return found


def _field_names(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    return set(inspect.signature(cls).parameters)  # an error class: its constructor's arguments


def _where(cls: type) -> str:
    return f"cxpa_sdk.{cls.__name__}" if hasattr(cxpa_sdk, cls.__name__) else f"{cls.__module__}.{cls.__qualname__}"


def _mapped_problems(spec: Mapping[str, Any], table: Mapping[str, Maps], what: str) -> list[str]:
    schemas = spec["components"]["schemas"]
    problems = []
    for name, maps in table.items():
        if name not in schemas:
            problems.append(f"{name} is in {what} but not in the spec: remove it from the table")
            continue
        properties = schemas[name].get("properties", {})
        names = _field_names(maps.cls)
        mapped = set()
        for wire in properties:
            if (name, wire) in DELIBERATELY_OMITTED:
                continue
            mapped.add(wire)
            if maps.renames.get(wire, snake(wire)) not in names:
                problems.append(
                    f"{name}.{wire} is in the spec but not a field of {_where(maps.cls)}: add it, "
                    "or list it in DELIBERATELY_OMITTED with the reason"
                )
        problems += [
            f"{name}.{wire} is renamed in {what} but is not in the spec: remove the rename"
            for wire in maps.renames
            if wire not in properties
        ]
        known = getattr(maps.cls, "_WIRE", None)
        if known is not None and set(known) != mapped:
            problems.append(
                f"{maps.cls.__name__}._WIRE must be the properties its from_json reads, {sorted(mapped)}, "
                f"not {sorted(known)}: an unread one is lost, and one read goes to `extra` too"
            )
        if what == "ANSWERS" and dataclasses.is_dataclass(maps.cls) and ("extra" not in names or known is None):
            problems.append(
                f"{maps.cls.__name__} needs an `extra` field and a `_WIRE` frozenset, as cxpa_sdk.Run has: "
                "a newer platform's properties must not be dropped"
            )
    return problems


def answer_problems(spec: Mapping[str, Any]) -> list[str]:
    """Answer, payload and error properties that no result field takes and no one omitted on purpose."""
    problems = []
    answered = answer_schemas(spec)
    for name, operation_id in sorted(answered.items()):
        if name == "<inline>":
            problems.append(f"{operation_id} answers with an inline object: make it a component schema")
        elif name not in ANSWERS and name not in OTHER_SCHEMAS:
            problems.append(
                f"{name} is what {operation_id} answers with (or nested in it), but no result type maps it: "
                "add one to cxpa_sdk.types and to ANSWERS (or list it in OTHER_SCHEMAS with the reason)"
            )
    problems += _mapped_problems(spec, ANSWERS, "ANSWERS")
    problems += _mapped_problems(spec, PAYLOADS, "PAYLOADS")
    problems += _mapped_problems(spec, ERRORS, "ERRORS")
    schemas = spec["components"]["schemas"]
    problems += [
        f"{schema}.{wire} is in DELIBERATELY_OMITTED but not in the spec: remove it"
        for schema, wire in DELIBERATELY_OMITTED
        if wire not in schemas.get(schema, {}).get("properties", {})
    ]
    return problems


def _takes(taker: Callable[..., Any], name: str) -> bool:
    return name in inspect.signature(taker).parameters


def _qualname(taker: Callable[..., Any]) -> str:
    """The public name of a method or function: `cxpa_sdk.Cxpa.trigger_run`, `cxpa_sdk.aio.trigger_run`.

    A client's method may be defined on a private base (`_caller.Caller`): it is named by the public class.
    """
    for name in cxpa_sdk.__all__:
        owner = getattr(cxpa_sdk, name)
        if isinstance(owner, type) and getattr(owner, taker.__name__, None) is taker:
            return f"cxpa_sdk.{name}.{taker.__name__}"
    if taker.__module__ != "cxpa_sdk.aio" and hasattr(cxpa_sdk, taker.__qualname__.split(".")[0]):
        return f"cxpa_sdk.{taker.__qualname__}"
    return f"{taker.__module__}.{taker.__qualname__}"


def request_problems(spec: Mapping[str, Any]) -> list[str]:
    """Operation inputs that no argument of the callables sending them takes, and no one set on purpose."""
    problems = []
    known_inputs = set()
    for operation_id, operation in _operations(spec):
        senders = SENDERS.get(operation_id)
        if senders is None:
            continue  # operation_problems names it
        for wire in request_inputs(spec, operation):
            key = (operation_id, wire)
            known_inputs.add(key)
            if key in SET_BY_SDK:
                continue
            arg = ARGUMENTS.get(key, Arg(snake(wire.rsplit(".", 1)[-1].rsplit(" ", 1)[-1].replace("-", "_"))))
            takers = arg.takers or VARIANT_SENDERS.get((operation_id, wire.split(".")[0]), senders)
            missing = [_qualname(t) for t in takers if not _takes(t, arg.name)]
            if missing:
                problems.append(
                    f"{operation_id}: {wire} is in the spec but {', '.join(missing)} take no `{arg.name}` "
                    "argument: add it, or list it in SET_BY_SDK with the reason"
                )
    problems += [
        f"{operation_id}: {wire} is in ARGUMENTS or SET_BY_SDK but is not an input of it in the spec: remove it"
        for operation_id, wire in [*ARGUMENTS, *SET_BY_SDK]
        if (operation_id, wire) not in known_inputs and operation_id in SENDERS
    ]
    for scheme in spec["components"].get("securitySchemes", {}):
        if scheme not in SECURITY:
            problems.append(f"security scheme {scheme} is in the spec but in no constructor's arguments (SECURITY)")
            continue
        name, takers = SECURITY[scheme]
        problems += [f"{_qualname(t)} takes no `{name}` (security {scheme})" for t in takers if not _takes(t, name)]
    return problems


def called_operations(source: str) -> set[str]:
    """The operationIds `_operations.py` builds requests for (`_route("x"`, `_post("x"`, `Operation("x"`)."""
    return set(re.findall(r"\b(?:_route|_post|Operation)\(\s*\"(\w+)\"", source))


def operation_problems(spec: Mapping[str, Any], source: str) -> list[str]:
    """Operations the layer does not send (nor list as not wrapped), and stale table entries."""
    problems = []
    called = called_operations(source)
    in_spec = {operation_id for operation_id, _ in _operations(spec)}
    for operation_id in sorted(in_spec):
        if operation_id in NOT_WRAPPED:
            continue
        if operation_id not in called:
            problems.append(
                f"operation {operation_id} is in the spec but cxpa_sdk/_operations.py never sends it: wire it "
                "(a flow, a method on the clients, SENDERS), or list it in NOT_WRAPPED with the reason"
            )
        elif operation_id not in SENDERS:
            problems.append(
                f"operation {operation_id} is sent by cxpa_sdk/_operations.py but not in SENDERS: list the "
                "client methods and functions that send it, so its inputs are checked against their arguments"
            )
    problems += [
        f"operation {operation_id} is in SENDERS or NOT_WRAPPED but not in the spec: remove it"
        for operation_id in [*SENDERS, *NOT_WRAPPED]
        if operation_id not in in_spec
    ]
    return problems


def schema_problems(spec: Mapping[str, Any]) -> list[str]:
    """Component schemas that nothing in the layer reads or sends, and that no one listed with a reason."""
    accounted = (
        set(ANSWERS)
        | set(PAYLOADS)
        | set(ERRORS)
        | set(OTHER_SCHEMAS)
        | set(answer_schemas(spec))  # answer_problems names those without a result type
        | request_schemas(spec)
        | error_schemas(spec)
    )
    return [
        f"schema {name} is in the spec but the layer neither reads it (ANSWERS, PAYLOADS, ERRORS) nor sends it "
        "(a request body): map it to a class, or list it in OTHER_SCHEMAS with the reason"
        for name in spec["components"]["schemas"]
        if name not in accounted
    ]


def problems(spec: Mapping[str, Any], source: str | None = None) -> list[str]:
    """Everything in `spec` the hand-written layer misses; empty when it follows the spec."""
    source = operations_source() if source is None else source
    return [*answer_problems(spec), *request_problems(spec), *operation_problems(spec, source), *schema_problems(spec)]


def _report(found: list[str]) -> str:
    return "the layer does not follow openapi.yaml:\n" + "\n".join(f"- {p}" for p in found)


def test_every_answer_property_is_a_result_field() -> None:
    """Each property of each answer (and payload, and error) schema is a field of its type, or omitted on purpose."""
    found = answer_problems(load_spec())
    assert not found, _report(found)


def test_every_request_input_is_a_method_argument() -> None:
    """Each body property and parameter of each operation is an argument of every callable sending it, or SDK-set."""
    found = request_problems(load_spec())
    assert not found, _report(found)


def test_every_operation_is_wrapped() -> None:
    """Each operationId is sent by _operations.py and listed with its senders, or listed as not wrapped."""
    found = operation_problems(load_spec(), operations_source())
    assert not found, _report(found)


def test_every_schema_is_accounted_for() -> None:
    """Each component schema is read, sent, or listed with the reason it is neither."""
    found = schema_problems(load_spec())
    assert not found, _report(found)


def test_every_run_status_is_a_member() -> None:
    """Each status the spec's RunStatus enum names is a known member of cxpa_sdk.RunStatus."""
    wire = load_spec()["components"]["schemas"]["RunStatus"]["enum"]
    assert [s for s in wire if not types.RunStatus(s).known] == []


def test_snake_case_names() -> None:
    """The default mapping: camelCase -> snake_case, snake_case and single words unchanged."""
    assert [snake(n) for n in ("timeoutMs", "externalRunId", "agent_id", "input", "X_Credentials_Token")] == [
        "timeout_ms",
        "external_run_id",
        "agent_id",
        "input",
        "x_credentials_token",
    ]


def _add_property(schema: str, name: str, node: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["components"]["schemas"][schema]["properties"][name] = node or {"type": "number"}

    return change


def _add_query(operation_id: str, name: str) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        for found, operation in _operations(spec):
            if found == operation_id:
                operation.setdefault("parameters", []).append(
                    {"name": name, "in": "query", "required": False, "schema": {"type": "integer"}}
                )

    return change


def _add_operation(spec: dict[str, Any]) -> None:
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}}
    spec["paths"]["/api/runs/{runId}/pause"] = {
        "post": {"operationId": "pause_run", "responses": {"200": {"description": "Paused.", **answer}}}
    }


def _new_answer_schema(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    schemas["TriggeredRunV2"] = copy.deepcopy(schemas["TriggeredRun"])
    response = spec["paths"]["/api/agents/{agentId}/runs/trigger"]["post"]["responses"]["202"]
    response["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/TriggeredRunV2"}


def _add_schema(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["PausePayload"] = {"type": "object", "properties": {"runId": {"type": "string"}}}


def _drop_run_property(spec: dict[str, Any]) -> None:
    del spec["components"]["schemas"]["Run"]["properties"]["outputs"]


SPEC_CHANGES = {
    "answer-property": (_add_property("Run", "costUsd"), "Run.costUsd is in the spec but not a field of cxpa_sdk.Run"),
    "nested-answer-property": (
        _add_property("RunError", "code", {"type": "string"}),
        "RunError.code is in the spec but not a field of cxpa_sdk.RunError",
    ),
    "credential-property": (
        _add_property("Credential", "scopes", {"type": "array"}),
        "Credential.scopes is in the spec but not a field of cxpa_sdk.Credential",
    ),
    "payload-property": (
        _add_property("TriggerPayload", "deadlineMs"),
        "TriggerPayload.deadlineMs is in the spec but not a field of cxpa_sdk.TriggerPayload",
    ),
    "removed-answer-property": (_drop_run_property, "Run._WIRE must be the properties its from_json reads"),
    "request-property": (
        _add_property("TriggerRunRequest", "priority", {"type": "integer"}),
        "trigger_run: TriggerRunRequest.priority is in the spec but cxpa_sdk.Cxpa.trigger_run",
    ),
    "callback-property": (
        _add_property("WaitingEvent", "expiresAt", {"type": "string"}),
        "post_callback: WaitingEvent.expiresAt is in the spec but cxpa_sdk.AgentClient.waiting",
    ),
    "query-parameter": (_add_query("cancel_run", "reason"), "cancel_run: query reason is in the spec"),
    "operation": (_add_operation, "operation pause_run is in the spec but cxpa_sdk/_operations.py never sends it"),
    "answer-schema": (_new_answer_schema, "TriggeredRunV2 is what trigger_run answers with"),
    "schema": (_add_schema, "schema PausePayload is in the spec but the layer neither reads it"),
}


@pytest.mark.parametrize(("change", "expected"), SPEC_CHANGES.values(), ids=list(SPEC_CHANGES))
def test_a_spec_change_the_layer_misses_is_named(change: Callable[[dict[str, Any]], None], expected: str) -> None:
    """A copy of the spec with one change the layer does not follow fails, naming the change (the real one does not)."""
    spec = copy.deepcopy(load_spec())
    assert not [p for p in problems(spec) if expected in p]
    change(spec)
    assert [p for p in problems(spec) if expected in p], _report(problems(spec))


def test_an_operation_sent_but_not_in_senders_is_named() -> None:
    """An operation _operations.py sends but SENDERS does not list fails: its inputs would go unchecked."""
    spec = copy.deepcopy(load_spec())
    _add_operation(spec)
    source = operations_source() + '\n_post("pause_run", None, {})\n'
    assert "operation pause_run is sent by cxpa_sdk/_operations.py but not in SENDERS" in "\n".join(
        operation_problems(spec, source)
    )


def test_called_operations_reads_every_form() -> None:
    """The grep of _operations.py finds `_route("x"`, `_post(` with "x" on the next line, and `Operation("x"`."""
    source = '_route("a", x=1)\nop = _post(\n        "b", body)\nOperation("c", m, p)\n_post(name)\n'
    assert called_operations(source) == {"a", "b", "c"}
