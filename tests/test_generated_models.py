"""Every generated model round-trips every instance of its schema, and unions decode to the right class.

Instances come from the spec's own JSON schemas (hypothesis-jsonschema), so the test follows the spec:
a field added to openapi.yaml is fuzzed as soon as the client is regenerated.
"""

import datetime
import json
from functools import cache
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from openapi_spec import component_schemas, json_schema

from cxpa_api import models
from cxpa_api.api.callers import trigger_run_and_wait
from cxpa_api.client import Client

# Schemas that are not attrs models: enums, strings (the id rules), and the callback union (a Union there).
NOT_MODELS = {"RunStatus", "RunIdentifier", "TokenIdentifier", "Cursor", "IdempotencyKey", "CallbackEvent"}
MODEL_NAMES = sorted(name for name in component_schemas() if name not in NOT_MODELS)
# Schemas whose arrays hold other component models (Run rows, events, run references).
LISTS_OF_MODELS = {"RunsWaited", "RunEvents", "WaitForRunsRequest", "TriggerBatchRequest", "TriggerBatchAnswer"}
# The generator tries union variants in this order; const tags must make the order irrelevant.
CALLBACK_VARIANTS = [models.StartedEvent, models.OutputEvent, models.WaitingEvent, models.HeartbeatEvent]


@cache
def instances(name: str) -> st.SearchStrategy[Any]:
    """Instances of a component schema, as decoded JSON."""
    return from_schema(json_schema(name))


def json_round_trip(value: Any) -> Any:
    """The value as it would arrive over the wire."""
    return json.loads(json.dumps(value))


def _canonical(node: dict[str, Any], value: Any) -> Any:
    """A value with its schema's date-times as instants, nested objects and arrays included."""
    if "$ref" in node:
        node = component_schemas()[node["$ref"].rsplit("/", 1)[-1]]
    if isinstance(value, str) and node.get("format") == "date-time":
        return datetime.datetime.fromisoformat(value)
    if isinstance(value, dict):
        objects = [o for o in node.get("oneOf", []) if "$ref" in o or o.get("type") == "object"]
        if objects:  # a nullable object (`oneOf: [X, null]`): the object's schema
            return _canonical(objects[0], value)
        properties = node.get("properties", {})
        return {key: _canonical(properties.get(key, {}), item) for key, item in value.items()}
    if isinstance(value, list) and "items" in node:
        return [_canonical(node["items"], item) for item in value]
    return value


def canonical(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Date-times as instants (at any depth), so `Z` and `+00:00` spellings of one time compare equal."""
    result: dict[str, Any] = _canonical(component_schemas()[name], data)
    return result


def closed(name: str) -> bool:
    """Whether the schema forbids properties it does not name."""
    return component_schemas()[name].get("additionalProperties") is False


def extra_fields(name: str) -> st.SearchStrategy[dict[str, int]]:
    """Fields the schema does not name, to add to an instance."""
    known = set(component_schemas()[name].get("properties", {}))
    return st.dictionaries(st.text(min_size=1).filter(lambda k: k not in known), st.integers(), max_size=3)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_round_trips(name: str) -> None:
    """from_dict then to_dict gives back every instance of the schema, after a JSON round trip.

    Unknown fields behave as the spec says: a closed schema (additionalProperties false, the
    requests) drops them; an open one (the answers) keeps them in `additional_properties` and
    emits them again, so a newer server's fields survive.
    """
    model = getattr(models, name)
    # A list of other models' objects holds several of them per example, each of which is fuzzed at
    # the full count on its own: a quarter of the examples keeps the whole list's shapes covered.
    examples = settings().max_examples // 4 if name in LISTS_OF_MODELS else settings().max_examples

    @settings(max_examples=max(examples, 1))
    @given(instances(name), extra_fields(name))
    def round_trip(data: dict[str, Any], extra: dict[str, int]) -> None:
        data = json_round_trip(data)
        decoded = model.from_dict(data)
        assert isinstance(decoded, model)
        assert canonical(name, json_round_trip(decoded.to_dict())) == canonical(name, data)
        with_extra = json_round_trip({**data, **extra})
        decoded = model.from_dict(with_extra)
        expected = data if closed(name) else with_extra
        assert canonical(name, json_round_trip(decoded.to_dict())) == canonical(name, expected)
        if not closed(name):
            assert set(extra) <= set(decoded.additional_properties)

    round_trip()


def decode_callback_event(data: dict[str, Any]) -> Any:
    """Decode a callback body the way the generator decodes a union: first variant that parses."""
    for variant in CALLBACK_VARIANTS:
        try:
            return variant.from_dict(data)
        except (TypeError, ValueError, KeyError):
            continue
    raise ValueError(f"no variant decodes {data!r}")


@given(instances("CallbackEvent"))
def test_callback_union_decodes_to_the_variant_of_its_tag(data: dict[str, Any]) -> None:
    """Tried in order, every event decodes to the class its `type` names, never an earlier one."""
    event = decode_callback_event(json_round_trip(data))
    expected = {
        "started": models.StartedEvent,
        "output": models.OutputEvent,
        "waiting": models.WaitingEvent,
        "heartbeat": models.HeartbeatEvent,
    }
    assert type(event) is expected[data["type"]]
    assert event.to_dict()["type"] == data["type"]


@pytest.mark.parametrize("variant", CALLBACK_VARIANTS, ids=lambda v: v.__name__)
def test_callback_variant_refuses_another_tag(variant: type) -> None:
    """A variant's from_dict raises on a body with another tag (the const check)."""
    body = {"type": "nonsense", "tokenId": "t", "description": "d"}
    with pytest.raises(ValueError, match="const"):
        variant.from_dict(body)


def parse_trigger_and_wait(status: int, body: dict[str, Any]) -> Any:
    """The generated client's decoding of a trigger-and-wait answer."""
    response = httpx2.Response(status, json=body)
    return trigger_run_and_wait._parse_response(client=Client(base_url="http://127.0.0.1"), response=response)


@given(instances("Run"))
def test_trigger_and_wait_200_is_a_run(data: dict[str, Any]) -> None:
    """A 200 answer decodes to Run, and no Run row could pass for a WaitTimedOut."""
    data = json_round_trip(data)
    assert isinstance(parse_trigger_and_wait(200, data), models.Run)
    with pytest.raises((KeyError, ValueError)):
        models.WaitTimedOut.from_dict(data)


@given(instances("WaitTimedOut"))
def test_trigger_and_wait_202_is_wait_timed_out(data: dict[str, Any]) -> None:
    """A 202 answer decodes to WaitTimedOut, and no WaitTimedOut could pass for a Run row."""
    data = json_round_trip(data)
    decoded = parse_trigger_and_wait(202, data)
    assert isinstance(decoded, models.WaitTimedOut)
    assert decoded.timed_out is True
    with pytest.raises(KeyError):
        models.Run.from_dict(data)
