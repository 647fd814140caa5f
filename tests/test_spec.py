"""openapi.yaml is valid and describes the whole contract of ../shared/design/api-contract.md."""

from typing import Any

import pytest
from openapi_spec import component_schemas, json_schema, load_spec
from openapi_spec_validator import validate

ERRORS_ALL = {"400", "401", "403", "404", "429", "500", "503"}
ERRORS_POST_BODY = ERRORS_ALL | {"409", "413", "422"}

# (method, path, operationId, tag, success statuses, error statuses, request schema, success schemas)
CONTRACT = [
    (
        "post",
        "/api/agents/{agentId}/runs/trigger",
        "trigger_run",
        "callers",
        {"202"},
        ERRORS_POST_BODY,
        "TriggerRunRequest",
        {"202": "TriggeredRun"},
    ),
    # An extension of the seed's contract: many trigger_run items of one agent on one request.
    (
        "post",
        "/api/agents/{agentId}/runs/trigger-batch",
        "trigger_runs_batch",
        "callers",
        {"200"},
        ERRORS_POST_BODY,
        "TriggerBatchRequest",
        {"200": "TriggerBatchAnswer"},
    ),
    (
        "post",
        "/api/agents/{agentId}/runs/trigger-and-wait",
        "trigger_run_and_wait",
        "callers",
        {"200", "202"},
        ERRORS_POST_BODY,
        "BlockingTriggerRequest",
        {"200": "Run", "202": "WaitTimedOut"},
    ),
    (
        "post",
        "/api/agents/{agentId}/runs/trigger-and-download",
        "trigger_run_and_download",
        "callers",
        {"200"},
        ERRORS_POST_BODY | {"502", "504"},
        "BlockingTriggerRequest",
        {},
    ),
    (
        "post",
        "/api/agents/{agentId}/runs/register",
        "register_run",
        "callers",
        {"200", "201"},
        ERRORS_POST_BODY,
        "RegisterRunRequest",
        {"200": "RegisteredRun", "201": "RegisteredRun"},
    ),
    (
        "post",
        "/api/agents/{agentId}/runs/ingest",
        "ingest_run",
        "callers",
        {"200"},
        ERRORS_POST_BODY,
        "IngestRunRequest",
        {"200": "IngestedRun"},
    ),
    (
        "post",
        "/api/runs/{runId}/callback",
        "post_callback",
        "runtimes",
        {"200"},
        ERRORS_POST_BODY,
        "CallbackEvent",
        {"200": "CallbackAccepted"},
    ),
    # An extension of the seed's contract: a runtime's cheap check for a cancel.
    (
        "get",
        "/api/runs/{runId}/status",
        "get_run_status",
        "runtimes",
        {"200"},
        ERRORS_ALL,
        None,
        {"200": "CallbackAccepted"},
    ),
    (
        "get",
        "/api/credentials/{connectionId}/resolve",
        "resolve_credential",
        "runtimes",
        {"200"},
        ERRORS_ALL,
        None,
        {"200": "Credential"},
    ),
    ("get", "/api/agents/{agentId}/runs/{runId}", "get_run", "callers", {"200"}, ERRORS_ALL, None, {"200": "Run"}),
    # An extension of the seed's contract: many runs waited for on one held request.
    (
        "post",
        "/api/runs/wait",
        "wait_for_runs",
        "callers",
        {"200"},
        {"400", "401", "413", "429", "500", "503"},
        "WaitForRunsRequest",
        {"200": "RunsWaited"},
    ),
    # An extension of the seed's contract: a run's progress events after a cursor.
    (
        "get",
        "/api/agents/{agentId}/runs/{runId}/events",
        "get_run_events",
        "callers",
        {"200"},
        ERRORS_ALL,
        None,
        {"200": "RunEvents"},
    ),
    (
        "post",
        "/api/agents/{agentId}/runs/{runId}/cancel",
        "cancel_run",
        "callers",
        {"200"},
        ERRORS_ALL | {"409", "422"},
        None,
        {"200": "Run"},
    ),
    # An extension of the seed's contract: resume a run that waits on a token (issue 25).
    (
        "post",
        "/api/agents/{agentId}/runs/{runId}/resume",
        "resume_run",
        "callers",
        {"200"},
        ERRORS_POST_BODY,
        "ResumeRunRequest",
        {"200": "Run"},
    ),
]
IDS = [row[2] for row in CONTRACT]

NAMED_SCHEMAS = [
    "Run",
    "RunStatus",
    "RunError",
    "RunWaiting",
    "TriggerRunRequest",
    "BlockingTriggerRequest",
    "TriggeredRun",
    "WaitTimedOut",
    "RegisterRunRequest",
    "RegisteredRun",
    "IngestRunRequest",
    "IngestedRun",
    "StartedEvent",
    "OutputEvent",
    "WaitingEvent",
    "HeartbeatEvent",
    "CallbackEvent",
    "CallbackAccepted",
    "Credential",
    "Error",
    "ErrorDetail",
    "Agent",
    "TriggerPayload",
    "CancelPayload",
    "RunEvent",
    "RunEvents",
    "RunRef",
    "WaitForRunsRequest",
    "MissingRun",
    "RunsWaited",
    "JsonObject",
    "ResumeRunRequest",
    "TokenIdentifier",
    "IdempotencyKey",
    "TriggerBatchItem",
    "TriggerBatchRequest",
    "TriggerBatchItemAccepted",
    "TriggerBatchItemFailed",
    "TriggerBatchAnswer",
]


def ref_name(node: dict[str, Any]) -> str:
    """The component name a `$ref` points to."""
    return node["$ref"].rsplit("/", 1)[-1]


def resolve_response(response: dict[str, Any]) -> dict[str, Any]:
    """A response object, following a `$ref` to components/responses."""
    if "$ref" in response:
        return load_spec()["components"]["responses"][ref_name(response)]
    return response


def operation(method: str, path: str) -> dict[str, Any]:
    """The operation object at a method and path."""
    return load_spec()["paths"][path][method]


def test_spec_validates() -> None:
    """openapi.yaml passes openapi-spec-validator as OpenAPI 3.1."""
    validate(load_spec())
    assert load_spec()["openapi"].startswith("3.1")


def test_spec_has_exactly_the_contract_paths() -> None:
    """No endpoint is missing and none is invented."""
    documented = {(m, p) for p, item in load_spec()["paths"].items() for m in item}
    assert documented == {(row[0], row[1]) for row in CONTRACT}


@pytest.mark.parametrize("row", CONTRACT, ids=IDS)
def test_operation_matches_contract(row: tuple[Any, ...]) -> None:
    """Each operation has its operationId, tag, statuses, request and response schemas."""
    method, path, op_id, tag, success, errors, request, responses = row
    op = operation(method, path)
    assert op["operationId"] == op_id
    assert op["tags"] == [tag]
    assert set(op["responses"]) == success | errors
    body = op.get("requestBody")
    if request is None:
        assert body is None
    else:
        assert body["required"] is True
        assert ref_name(body["content"]["application/json"]["schema"]) == request
    for status, schema in responses.items():
        content = op["responses"][status]["content"]["application/json"]
        assert ref_name(content["schema"]) == schema


@pytest.mark.parametrize("row", CONTRACT, ids=IDS)
def test_every_error_response_uses_the_error_envelope(row: tuple[Any, ...]) -> None:
    """Every 4xx and 5xx answer has the Error schema and an X-Request-Id header."""
    method, path, *_ = row
    for status, response in operation(method, path)["responses"].items():
        resolved = resolve_response(response)
        assert "X-Request-Id" in resolved["headers"], status
        if status[0] in "45":
            assert ref_name(resolved["content"]["application/json"]["schema"]) == "Error", status


@pytest.mark.parametrize("row", CONTRACT, ids=IDS)
def test_every_post_takes_an_idempotency_key(row: tuple[Any, ...]) -> None:
    """Every POST declares the Idempotency-Key header and marks replays with Idempotent-Replayed."""
    method, path, *_ = row
    op = operation(method, path)
    params = [p.get("$ref", "") for p in op["parameters"]]
    has_key = "#/components/parameters/IdempotencyKey" in params
    assert has_key == (method == "post")
    if method == "post":
        success = next(s for s in op["responses"] if s.startswith("2"))
        assert "Idempotent-Replayed" in op["responses"][success]["headers"]


@pytest.mark.parametrize("row", CONTRACT, ids=IDS)
def test_every_operation_has_examples(row: tuple[Any, ...]) -> None:
    """Requests with a body and every JSON success answer carry an example."""
    method, path, *_ = row
    op = operation(method, path)
    if "requestBody" in op:
        media = op["requestBody"]["content"]["application/json"]
        assert "example" in media or "examples" in media
    for status, response in op["responses"].items():
        for media in resolve_response(response).get("content", {}).values():
            assert "example" in media or "examples" in media, status


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/runs/{runId}/callback", "post", [{"agentKey": []}]),
        ("/api/runs/{runId}/status", "get", [{"agentKey": []}]),
        ("/api/credentials/{connectionId}/resolve", "get", [{"agentKey": [], "credentialsToken": []}]),
        ("/api/agents/{agentId}/runs/trigger", "post", None),
    ],
    ids=["callback-agent-key", "status-agent-key", "resolve-agent-key-and-token", "trigger-inherits-ingest-key"],
)
def test_security_per_operation(path: str, method: str, expected: Any) -> None:
    """Callers use the ingest key; runtimes the agent key (and the credentials token to resolve)."""
    assert operation(method, path).get("security") == expected
    assert load_spec()["security"] == [{"ingestKey": []}]


def test_response_headers_of_the_contract() -> None:
    """Retry-After on 429, and the download's Content-Disposition, X-Run-Id and binary body."""
    responses = load_spec()["components"]["responses"]
    assert responses["TooManyRequests"]["headers"]["Retry-After"]["$ref"].endswith("RetryAfter")
    assert "Retry-After" in responses["ServiceUnavailable"]["headers"]
    download = operation("post", "/api/agents/{agentId}/runs/trigger-and-download")["responses"]["200"]
    assert {"X-Run-Id", "Content-Disposition", "Content-Length", "X-Request-Id"} <= set(download["headers"])
    for media in ("application/octet-stream", "*/*"):
        assert download["content"][media]["schema"] == {"type": "string", "format": "binary"}


def test_get_run_has_the_wait_window() -> None:
    """The run read takes waitMs, 0 to 60000."""
    (wait,) = [
        p for p in operation("get", "/api/agents/{agentId}/runs/{runId}")["parameters"] if p.get("name") == "waitMs"
    ]
    assert wait["in"] == "query"
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (0, 60000)


def test_get_run_events_has_a_cursor_and_the_wait_window() -> None:
    """The events read takes an optional opaque `after` cursor and waitMs, 0 to 60000, like the run read."""
    params = {p.get("name"): p for p in operation("get", "/api/agents/{agentId}/runs/{runId}/events")["parameters"]}
    assert (params["after"]["in"], params["after"]["required"], params["after"]["schema"]["$ref"]) == (
        "query",
        False,
        "#/components/schemas/Cursor",
    )
    assert component_schemas()["Cursor"]["type"] == "string"
    assert (params["waitMs"]["schema"]["minimum"], params["waitMs"]["schema"]["maximum"]) == (0, 60000)
    event = component_schemas()["RunEvent"]
    assert event["properties"]["type"]["enum"] == ["status", "output", "waiting", "ended"]
    assert set(component_schemas()["RunEvents"]["required"]) == {"events", "cursor", "ended"}


def test_named_schemas_present() -> None:
    """Every body of the contract is a named component schema."""
    assert set(NAMED_SCHEMAS) <= set(component_schemas())


@pytest.mark.parametrize("name", sorted(component_schemas()))
def test_every_schema_and_field_is_described(name: str) -> None:
    """A description on every schema and on every one of its fields."""
    schema = component_schemas()[name]
    assert schema.get("description"), name
    for field, prop in schema.get("properties", {}).items():
        described = prop.get("description") or (
            "$ref" in prop and component_schemas()[prop["$ref"].rsplit("/", 1)[-1]].get("description")
        )
        assert described, f"{name}.{field}"


@pytest.mark.parametrize("name", ["StartedEvent", "OutputEvent", "WaitingEvent", "HeartbeatEvent"])
def test_callback_variants_carry_a_const_tag(name: str) -> None:
    """Every callback variant pins `type` with `const`, so order-based decoding can't mistake it."""
    schema = component_schemas()[name]
    assert "type" in schema["required"]
    assert schema["properties"]["type"]["const"] == name.removesuffix("Event").lower()


def test_wait_timed_out_carries_a_const_tag() -> None:
    """The 202 trigger-and-wait answer is told from a Run row by `timedOut: const true`."""
    schema = component_schemas()["WaitTimedOut"]
    assert schema["properties"]["timedOut"]["const"] is True
    assert "timedOut" in schema["required"]
    assert "timedOut" not in component_schemas()["Run"]["properties"]


@pytest.mark.parametrize(
    ("event", "valid"),
    [
        ({"type": "output", "complete": True}, True),
        ({"type": "output", "failed": True, "error": {"message": "boom"}}, True),
        ({"type": "output", "complete": True, "failed": True, "error": {"message": "boom"}}, False),
        ({"type": "output", "failed": True}, False),
    ],
    ids=["complete", "failed-with-error", "complete-and-failed", "failed-without-error"],
)
def test_output_event_states_the_platforms_cross_field_rules(event: dict[str, Any], valid: bool) -> None:
    """The spec itself says what the platform refuses: complete and failed together, failed without an error."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - only this test needs it

    assert Draft202012Validator(json_schema("OutputEvent")).is_valid(event) is valid


def test_runtime_deliveries_are_a_signed_webhook() -> None:
    """The runtime delivery webhook carries the three Standard Webhooks headers and one of the three payloads."""
    delivery = load_spec()["webhooks"]["runtimeDelivery"]["post"]
    headers = {p["name"]: p for p in delivery["parameters"]}
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert all(p["in"] == "header" and p["required"] for p in headers.values())
    assert headers["webhook-id"]["schema"]["$ref"] == "#/components/schemas/RunIdentifier"
    variants = delivery["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [ref_name(v) for v in variants] == ["TriggerPayload", "ResumePayload", "CancelPayload"]


def test_token_ids_follow_one_rule_everywhere() -> None:
    """A token id is a TokenIdentifier wherever it travels: waited on, shown in a Run, resumed, delivered."""
    schemas = component_schemas()
    for schema, prop in (
        ("WaitingEvent", "tokenId"),
        ("RunWaiting", "token_id"),
        ("ResumeRunRequest", "tokenId"),
        ("ResumePayload", "tokenId"),
    ):
        assert schemas[schema]["properties"][prop]["$ref"] == "#/components/schemas/TokenIdentifier", schema


def test_idempotency_keys_follow_one_rule_everywhere() -> None:
    """A batch item's idempotencyKey follows the Idempotency-Key header's rule: one IdempotencyKey schema."""
    spec = load_spec()
    assert spec["components"]["parameters"]["IdempotencyKey"]["schema"] == {
        "$ref": "#/components/schemas/IdempotencyKey"
    }
    for schema in ("TriggerBatchItem", "TriggerBatchItemAccepted", "TriggerBatchItemFailed"):
        idempotency_key = component_schemas()[schema]["properties"]["idempotencyKey"]
        assert idempotency_key["$ref"] == "#/components/schemas/IdempotencyKey", schema


def test_trigger_batch_items_are_bounded_and_answered_per_item() -> None:
    """1 to 1000 items a request; each answer entry is accepted (a run) or failed (an error status and detail)."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - only this test needs it

    items = component_schemas()["TriggerBatchRequest"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 1000)
    answer = Draft202012Validator(json_schema("TriggerBatchAnswer"))
    accepted = {"idempotencyKey": "k", "runId": "run_1", "status": "queued", "replayed": False}
    error = {"idempotencyKey": "k", "status": 422, "error": {"code": "idempotency_key_reused", "message": "m"}}
    assert answer.is_valid({"items": [accepted, error]})
    assert not answer.is_valid({"items": [{"idempotencyKey": "k"}]}), "neither a run nor an error"
    assert not answer.is_valid({"items": [{key: v for key, v in error.items() if key != "status"}]}), "no status"
    assert not answer.is_valid({"items": [{**error, "status": 200}]}), "an error's status is 4xx or 5xx"
