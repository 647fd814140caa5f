"""Hostile runtime payloads: every field absent, of the wrong type, of an unknown value, or huge.

What a platform POSTs to a runtime's URL is read by `parse_runtime_payload` (and `from_payload`). The
promises: a payload is taken for what its `type` says, exactly (no `type`: a trigger; `resumed`,
`cancelled`; anything else refused), a bad field is an InvalidArgumentError naming it in a short
message, and a bad trace context is dropped, never fatal (issue 23, defects 5 and 6).
"""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import CancelPayload, InvalidArgumentError, ResumePayload, TriggerPayload, parse_runtime_payload

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE = {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}
PAYLOADS: dict[str, dict[str, Any]] = {
    "trigger": {"runId": "run_1", "agentId": 1, "input": {}, "agentApiKey": "k", "credentialsToken": "t", **TRACE},
    "resume": {
        "type": "resumed",
        "runId": "run_1",
        "agentId": 1,
        "tokenId": "tok",
        "output": {},
        "agentApiKey": "k",
        "credentialsToken": "t",
        **TRACE,
    },
    "cancel": {"type": "cancelled", "runId": "run_1", "agentId": 1},
}
KINDS = {"trigger": TriggerPayload, "resume": ResumePayload, "cancel": CancelPayload}
MB = 1_000_000
# How each field is broken. A missing entry (input and output have no unknown value: any object is one).
BROKEN: dict[str, dict[str, Any]] = {
    "wrong-type": {
        "type": 5,
        "runId": 5,
        "agentId": "1",
        "input": [],
        "output": "done",
        "tokenId": 5,
        "agentApiKey": None,
        "credentialsToken": True,
        "traceparent": 5,
        "tracestate": [],
    },
    "unknown-value": {
        "type": "paused",
        "runId": "..",
        "agentId": 0,
        "tokenId": "",
        "agentApiKey": "",
        "credentialsToken": "",
        "traceparent": "zz" + TRACEPARENT[2:],
        "tracestate": "vendor=1\0",
    },
    "huge": {
        "type": "resumed" * MB,
        "runId": "r" * MB,
        "agentId": int("9" * 4000),
        "input": {"blob": "x" * 2 * MB},
        "output": {"blob": "x" * 2 * MB},
        "tokenId": "t" * MB,
        "agentApiKey": "k" * MB,
        "credentialsToken": "t" * MB,
        "traceparent": TRACEPARENT + "-" + "a" * MB,
        "tracestate": "a=" + "b" * MB,
    },
}
# What a broken field gives: "refused" (InvalidArgumentError naming the field), "dropped" (the payload
# parses, without that trace context) or "kept" (the payload parses with the value: the spec sets no limit).
OUTCOMES: dict[tuple[str, str], str] = {
    **{(way, field): "refused" for way in ("absent", *BROKEN) for field in ("runId", "agentId", "input", "output")},
    **{(way, field): "refused" for way in ("absent", *BROKEN) for field in ("tokenId", "agentApiKey", "type")},
    **{(way, "credentialsToken"): "refused" for way in BROKEN},
    ("absent", "credentialsToken"): "kept",
    **{(way, field): "dropped" for way in ("absent", *BROKEN) for field in ("traceparent", "tracestate")},
    ("huge", "agentId"): "kept",
    ("huge", "input"): "kept",
    ("huge", "output"): "kept",
    ("huge", "tokenId"): "refused",  # a token id follows the id rule (TokenIdentifier: at most 256 characters)
    ("huge", "agentApiKey"): "kept",
    ("huge", "credentialsToken"): "kept",
}
CASES = [
    (kind, way, field)
    for kind, payload in PAYLOADS.items()
    for way in ("absent", *BROKEN)
    for field in payload
    if way == "absent" or field in BROKEN[way]
]


def _broken(kind: str, way: str, field: str) -> dict[str, Any]:
    """The payload of `kind` with `field` broken `way`."""
    payload = dict(PAYLOADS[kind])
    if way == "absent":
        del payload[field]
    else:
        payload[field] = BROKEN[way][field]
    return payload


def _expected_trace(field: str) -> dict[str, str]:
    """The trace context left when `field` is broken: a bad traceparent takes its tracestate with it."""
    return {} if field == "traceparent" else {"traceparent": TRACEPARENT}


@pytest.mark.parametrize(("kind", "way", "field"), CASES, ids=["-".join(case) for case in CASES])
@pytest.mark.parametrize("as_bytes", [False, True], ids=["dict", "bytes"])
def test_a_broken_field_is_refused_dropped_or_kept_as_the_table_says(
    kind: str, way: str, field: str, as_bytes: bool
) -> None:
    """Each field absent, of the wrong type, unknown or huge: refused naming it, dropped (trace context) or kept."""
    payload = _broken(kind, way, field)
    outcome = OUTCOMES[(way, field)]
    body = json.dumps(payload).encode() if as_bytes else payload
    if outcome == "refused":
        with pytest.raises(InvalidArgumentError) as refused:
            parse_runtime_payload(body)
        message = str(refused.value)
        assert len(message) < 300, message[:300]
        # A payload that lost its `type` is read as a trigger, so the field named is the first it lacks.
        assert field in message or (field == "type" and way == "absent"), message
        return
    parsed = parse_runtime_payload(body)
    assert type(parsed) is KINDS[kind]
    assert repr(parsed).startswith(KINDS[kind].__name__)  # a huge number still has a repr (under 4300 digits)
    if outcome == "dropped" and kind != "cancel":
        assert isinstance(parsed, TriggerPayload | ResumePayload)
        assert parsed.trace_context == _expected_trace(field)


# Characters a trace context value never starts or ends with (a space is one only for traceparent:
# W3C tracestate list members may be padded with spaces).
EDGES = {"newline": "\n", "cr": "\r", "crlf": "\r\n", "nul": "\0", "tab": "\t"}
EDGE_CASES = [
    (field, where, name)
    for field in ("traceparent", "tracestate")
    for where in ("before", "after")
    for name in (*EDGES, "space")
    if not (field == "tracestate" and name == "space")
]


@pytest.mark.parametrize(("field", "where", "edge"), EDGE_CASES, ids=["-".join(case) for case in EDGE_CASES])
def test_a_trace_context_with_a_control_character_at_either_end_is_dropped(field: str, where: str, edge: str) -> None:
    """A newline, CR, CRLF, NUL or tab (or a space, for traceparent) at either end drops the value: never fatal."""
    char = EDGES.get(edge, " ")
    value = TRACE[field]
    payload = {**PAYLOADS["trigger"], field: char + value if where == "before" else value + char}
    parsed = parse_runtime_payload(payload)
    assert isinstance(parsed, TriggerPayload)
    assert parsed.trace_context == _expected_trace(field)


def test_a_repeated_trace_context_key_is_never_fatal() -> None:
    """A payload naming traceparent twice (JSON keeps the last) parses, with one valid trace context at most."""
    other = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    body = json.dumps(PAYLOADS["trigger"])[:-1] + f', "traceparent": "{other}", "traceparent": "{TRACEPARENT}\\n"}}'
    parsed = parse_runtime_payload(body.encode())
    assert isinstance(parsed, TriggerPayload)
    assert parsed.trace_context == {}


FIELD_NAMES = sorted({field for payload in PAYLOADS.values() for field in payload} | {"extra"})
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=60) | st.sampled_from(["resumed", "cancelled", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(st.sampled_from(list(PAYLOADS.values())), st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=4))
def test_any_payload_is_its_types_kind_or_refused(base: dict[str, Any], changes: dict[str, Any]) -> None:
    """Whatever the fields hold: the kind `type` names (a trigger only without one), or InvalidArgumentError."""
    payload = {**base, **changes}
    try:
        parsed = parse_runtime_payload(payload)
    except InvalidArgumentError:
        return
    expected = {None: TriggerPayload, "resumed": ResumePayload, "cancelled": CancelPayload}
    assert "type" not in payload or payload["type"] in ("resumed", "cancelled")
    assert type(parsed) is expected[payload.get("type")]
