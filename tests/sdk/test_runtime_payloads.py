"""What a runtime receives: a payload's `type` decides its kind exactly, and trace context is never fatal.

Issue 23, defects 5 and 6: an unknown `type` was taken for a trigger (the runtime started its work
again), and a trace context ending in a newline passed the spec's pattern, then stopped
`AgentClient.from_payload`, so the runtime could never report on its run.
"""

import asyncio
import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    CancelPayload,
    Cxpa,
    InvalidArgumentError,
    ResumePayload,
    TriggerPayload,
    parse_runtime_payload,
)
from cxpa_sdk.testing import LocalPlatform

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRIGGER = {"runId": "run_1", "agentId": 1, "input": {"q": 1}, "agentApiKey": "k", "credentialsToken": "t"}
RESUME = {"type": "resumed", "runId": "run_1", "agentId": 1, "tokenId": "tok", "output": {}, "agentApiKey": "k"}
UNKNOWN_TYPES = ["paused", "Resumed", "cancelled ", " resumed", "CANCELLED", "", "trigger", 5, 0, None, True, [], {}]
# Trace context values the spec refuses (matched whole), each of which must be dropped, never fatal.
BAD_TRACEPARENTS = {
    "trailing-newline": TRACEPARENT + "\n",
    "trailing-crlf": TRACEPARENT + "\r\n",
    "trailing-cr": TRACEPARENT + "\r",
    "leading-newline": "\n" + TRACEPARENT,
    "nul": TRACEPARENT + "\0",
    "too-long": TRACEPARENT + "-" + "a" * 256,
    "one-digit-version": TRACEPARENT[1:],
    "three-digit-version": "0" + TRACEPARENT,
    "uppercase-version": "0A" + TRACEPARENT[2:],
    "not-hex-version": "zz" + TRACEPARENT[2:],
    "repeated": f"{TRACEPARENT},{TRACEPARENT}",
    "empty": "",
    "a-number": 5,
    "null": None,
    "an-array": [TRACEPARENT],
}
BAD_TRACESTATES = {
    "trailing-newline": "vendor=1\n",
    "trailing-cr": "vendor=1\r",
    "nul": "vendor=\0",
    "too-long": "v=" + "a" * 511,
    "empty": "",
    "a-number": 1,
    "null": None,
}


@pytest.mark.parametrize("kind", UNKNOWN_TYPES, ids=repr)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["dict", "bytes"])
def test_an_unknown_type_is_refused_not_taken_for_a_trigger(kind: Any, as_bytes: bool) -> None:
    """A payload whose `type` is present but neither resumed nor cancelled is InvalidArgumentError naming `type`."""
    payload = {**TRIGGER, "type": kind}
    with pytest.raises(InvalidArgumentError, match=r"^invalid runtime payload: type: must be resumed or cancelled"):
        parse_runtime_payload(json.dumps(payload).encode() if as_bytes else payload)


def test_a_payload_without_type_is_a_trigger_and_the_known_types_are_theirs() -> None:
    """No `type` is the seed's trigger payload; `resumed` and `cancelled` are the resume and cancel payloads."""
    assert isinstance(parse_runtime_payload(TRIGGER), TriggerPayload)
    assert isinstance(parse_runtime_payload(RESUME), ResumePayload)
    assert isinstance(parse_runtime_payload({"type": "cancelled", "runId": "run_1", "agentId": 1}), CancelPayload)


@pytest.mark.parametrize("kind", ["paused", "resumed", "cancelled", None], ids=repr)
def test_trigger_payload_parse_refuses_any_type(kind: Any) -> None:
    """TriggerPayload.parse refuses a payload with a `type`, whatever it is: a trigger payload has none."""
    with pytest.raises(InvalidArgumentError, match="`type` must be absent"):
        TriggerPayload.parse({**TRIGGER, "type": kind})


def test_the_message_never_holds_a_huge_type() -> None:
    """A huge `type` is named by its first 40 characters, a huge number by its kind: the message stays short."""
    with pytest.raises(InvalidArgumentError) as long_text:
        parse_runtime_payload({**TRIGGER, "type": "x" * 1_000_000})
    with pytest.raises(InvalidArgumentError, match=r"got a number$") as huge_number:
        parse_runtime_payload({**TRIGGER, "type": 10**5000})
    assert len(str(long_text.value)) < 200
    assert len(str(huge_number.value)) < 200


@pytest.mark.parametrize("client_class", [AgentClient, AsyncAgentClient], ids=["sync", "async"])
def test_no_agent_client_is_made_from_an_unknown_type(client_class: Any) -> None:
    """from_payload refuses a payload of unknown `type` (it is no trigger) before anything is sent."""
    with pytest.raises(InvalidArgumentError, match="type: must be resumed or cancelled"):
        client_class.from_payload({**TRIGGER, "type": "paused"}, base_url="http://127.0.0.1:9")


@pytest.mark.parametrize("value", list(BAD_TRACEPARENTS.values()), ids=list(BAD_TRACEPARENTS))
@pytest.mark.parametrize("base", [TRIGGER, RESUME], ids=["trigger", "resume"])
def test_an_invalid_traceparent_is_dropped_with_its_tracestate(base: dict[str, Any], value: Any) -> None:
    """A traceparent the spec refuses (matched whole) is dropped with the tracestate beside it; the payload parses."""
    payload = parse_runtime_payload({**base, "traceparent": value, "tracestate": "vendor=1"})
    assert isinstance(payload, TriggerPayload | ResumePayload)
    assert payload.trace_context == {}


@pytest.mark.parametrize("value", list(BAD_TRACESTATES.values()), ids=list(BAD_TRACESTATES))
def test_an_invalid_tracestate_is_dropped_and_the_traceparent_kept(value: Any) -> None:
    """A tracestate the spec refuses is dropped alone: the valid traceparent beside it still continues the trace."""
    payload = TriggerPayload.parse({**TRIGGER, "traceparent": TRACEPARENT, "tracestate": value})
    assert payload.trace_context == {"traceparent": TRACEPARENT}


def test_a_tracestate_without_a_traceparent_is_dropped() -> None:
    """A tracestate alone is no trace context (W3C): it is dropped, not kept and not fatal."""
    assert TriggerPayload.parse({**TRIGGER, "tracestate": "vendor=1"}).trace_context == {}


def test_a_valid_trace_context_is_kept() -> None:
    """A traceparent of another version with its extra fields, and a tracestate, are kept as received."""
    later_version = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-comes-next"
    payload = TriggerPayload.parse({**TRIGGER, "traceparent": later_version, "tracestate": "a=1,b=2"})
    assert payload.trace_context == {"traceparent": later_version, "tracestate": "a=1,b=2"}


def test_a_dropped_trace_context_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Dropping says so at DEBUG on the cxpa_sdk logger, naming the field and the rule, not the value."""
    with caplog.at_level(logging.DEBUG, logger="cxpa_sdk"):
        TriggerPayload.parse({**TRIGGER, "traceparent": TRACEPARENT + "\n"})
    (record,) = [r for r in caplog.records if "traceparent" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "trigger payload's traceparent is invalid, so it is dropped" in record.getMessage()
    assert TRACEPARENT not in record.getMessage()


@pytest.mark.parametrize("client_class", [AgentClient, AsyncAgentClient], ids=["sync", "async"])
def test_from_payload_drops_an_invalid_trace_context_of_a_payload_object(client_class: Any) -> None:
    """A payload built by hand (or from_dict) with a bad trace context makes a client without it, not an error."""
    payload = TriggerPayload("run_1", 1, {}, "k", trace_context={"traceparent": TRACEPARENT + "\n", "tracestate": "a"})
    agent = client_class.from_payload(payload, base_url="http://127.0.0.1:9")
    assert agent._settings.trace_context == ()
    if client_class is AgentClient:
        agent.close()
    else:
        asyncio.run(agent.aclose())


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=600)))
def test_parse_never_fails_on_trace_context_and_keeps_only_whole_matches(
    traceparent: str, tracestate: str | None
) -> None:
    """For any strings, parse succeeds; what it keeps is printable ASCII matched whole, tracestate only beside it."""
    extra = {"traceparent": traceparent} | ({} if tracestate is None else {"tracestate": tracestate})
    context = TriggerPayload.parse({**TRIGGER, **extra}).trace_context
    assert set(context) <= {"traceparent", "tracestate"}
    assert "tracestate" not in context or "traceparent" in context
    assert all(value.isascii() and value.isprintable() for value in context.values())


def _payload_of(platform: LocalPlatform, name: str, **extra: Any) -> tuple[bytes, str]:
    """A registered run's trigger payload as a runtime would receive it, with `extra` fields; (bytes, run id)."""
    agent = platform.add_agent(name)
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        registered = client.register_run(agent.id, f"ext-{name}")
    payload = {
        "runId": registered.run_id,
        "agentId": agent.id,
        "input": {},
        "agentApiKey": platform.agent_api_key(agent.id),
        "credentialsToken": registered.credentials_token,
        **extra,
    }
    return json.dumps(payload).encode(), registered.run_id


async def _report_async(body: bytes, base_url: str, backend: str) -> None:
    """Report the run to its end with an AsyncAgentClient made from the payload, on `backend`."""
    async with AsyncAgentClient.from_payload(body, base_url=base_url, http_backend=backend) as agent:
        await agent.complete({"done": True})


@pytest.mark.parametrize("mode", ["sync", "async", "async-aiohttp"])
@pytest.mark.parametrize("field", ["traceparent", "tracestate"])
def test_a_runtime_reports_on_its_run_whatever_its_trace_context(
    cxpa_platform: LocalPlatform, mode: str, field: str
) -> None:
    """A payload whose traceparent or tracestate ends in a newline still gives a client that completes the run."""
    extra = {"traceparent": TRACEPARENT + "\n"} if field == "traceparent" else {"traceparent": TRACEPARENT}
    if field == "tracestate":
        extra["tracestate"] = "vendor=1\n"
    body, run_id = _payload_of(cxpa_platform, f"bad-trace-{field}-{mode}", **extra)
    if mode == "sync":
        with AgentClient.from_payload(body, base_url=cxpa_platform.base_url) as agent:
            agent.complete({"done": True})
    else:
        asyncio.run(_report_async(body, cxpa_platform.base_url, "aiohttp" if mode == "async-aiohttp" else "httpx2"))
    assert cxpa_platform.run(run_id)["status"] == "completed"
