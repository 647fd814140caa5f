"""cxpa_sdk.otel: a span per call and attempt, W3C trace context on each request, one trace across hops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, InvalidArgumentError, InvalidArgumentTypeError
from cxpa_sdk.hooks import CallInfo
from cxpa_sdk.otel import OpenTelemetryHook
from cxpa_sdk.testing import LocalPlatform, RuntimeCall

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
CREDENTIAL_SECRET = "otel-credential-value-s3cret"
TRIGGER_NAME = "POST /api/agents/{agentId}/runs/trigger"


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A TracerProvider of this test's own (not the global one), exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def no_sleep(_seconds: float) -> None:
    """A backoff sleep that does not sleep."""


async def no_asleep(_seconds: float) -> None:
    """An async backoff sleep that does not sleep."""


def runtime_agent(
    platform: LocalPlatform, provider: TracerProvider, *, use_async: bool = False
) -> tuple[int, threading.Event, dict[str, Any]]:
    """An agent whose Python runtime reports through an agent client with the hook; its id, `done`, what it saw."""
    platform.add_credential("conn_otel", "api_key", {"apiKey": CREDENTIAL_SECRET})
    done, seen = threading.Event(), {}

    def hooks() -> list[OpenTelemetryHook]:
        return [OpenTelemetryHook(tracer_provider=provider)]

    async def report_async(call: RuntimeCall) -> None:
        async with AsyncAgentClient.from_payload(call.payload, base_url=platform.base_url, hooks=hooks()) as agent:
            await agent.output({"page": 1})
            await agent.resolve_credential("conn_otel")
            await agent.complete({"pages": 1})

    def runtime(call: RuntimeCall) -> None:
        seen["payload"] = dict(call.payload)
        try:
            if use_async:
                asyncio.run(report_async(call))
                return
            with AgentClient.from_payload(call.payload, base_url=platform.base_url, hooks=hooks()) as agent:
                agent.output({"page": 1})
                agent.resolve_credential("conn_otel")
                agent.complete({"pages": 1})
        finally:
            done.set()

    return platform.add_agent("otel-traced", runtime).id, done, seen


def by_name(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    """The spans of one name, by start time."""
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start_time or 0)


def span_id(span: ReadableSpan) -> int:
    """A finished span's id."""
    assert span.context is not None
    return span.context.span_id


def trace_id(span: ReadableSpan) -> int:
    """A finished span's trace id."""
    assert span.context is not None
    return span.context.trace_id


def ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[int]:
    """The span ids of a span's parent chain, nearest first (bounded by the number of spans)."""
    found = {span_id(s): s for s in spans}
    chain, current = [], span
    for _ in range(len(spans) + 1):
        if current.parent is None:
            break
        chain.append(current.parent.span_id)
        if current.parent.span_id not in found:
            break
        current = found[current.parent.span_id]
    return chain


def everything_told(spans: Sequence[ReadableSpan]) -> str:
    """Every name, attribute, event and status text of the spans, as one string to search for secrets."""
    parts = []
    for span in spans:
        parts += [span.name, repr(dict(span.attributes or {})), span.status.description or ""]
        parts += [f"{event.name} {dict(event.attributes or {})!r}" for event in span.events]
    return "\n".join(parts)


def check_one_trace(
    platform: LocalPlatform, spans: Sequence[ReadableSpan], caller: ReadableSpan, agent_id: int, payload: dict[str, Any]
) -> None:
    """The trace of a caller's trigger with one retry: the call, two attempts, and the runtime's calls under it."""
    assert {trace_id(s) for s in spans} == {trace_id(caller)}
    (call,) = by_name(spans, "cxpa trigger_run")
    assert call.kind is trace.SpanKind.INTERNAL
    assert call.parent is not None
    assert call.parent.span_id == span_id(caller)
    attributes = dict(call.attributes or {})
    assert attributes["cxpa.operation"] == "trigger_run"
    assert attributes["cxpa.agent_id"] == agent_id
    assert attributes["cxpa.attempts"] == 2
    assert attributes["cxpa.applied"] is True
    assert attributes["cxpa.outcome"] == "ok"
    assert attributes["cxpa.run_id"] == payload["runId"]  # the run the trigger created, from its answer
    (retry,) = call.events
    assert retry.name == "retry"
    retry_attributes = dict(retry.attributes or {})
    assert retry_attributes["cxpa.retry.attempt"] == 1
    assert "injected fault: 503" in str(retry_attributes["cxpa.retry.reason"])
    assert isinstance(retry_attributes["cxpa.retry.delay"], float)

    first, second = by_name(spans, TRIGGER_NAME)
    for attempt in (first, second):
        assert attempt.kind is trace.SpanKind.CLIENT
        assert attempt.parent is not None
        assert attempt.parent.span_id == span_id(call)
        attempt_attributes = dict(attempt.attributes or {})
        assert attempt_attributes["http.request.method"] == "POST"
        assert attempt_attributes["url.full"] == f"{platform.base_url}/api/agents/{agent_id}/runs/trigger"
        assert attempt_attributes["url.template"] == "/api/agents/{agentId}/runs/trigger"
        assert attempt_attributes["server.address"] == "127.0.0.1"
        assert attempt_attributes["server.port"] == int(platform.base_url.rsplit(":", 1)[1])
    assert dict(first.attributes or {})["http.response.status_code"] == 503
    assert dict(first.attributes or {})["error.type"] == "503"
    assert first.status.status_code is trace.StatusCode.ERROR
    assert "http.request.resend_count" not in dict(first.attributes or {})
    assert dict(second.attributes or {})["http.response.status_code"] == 202
    assert dict(second.attributes or {})["http.request.resend_count"] == 1
    assert "error.type" not in dict(second.attributes or {})

    # The platform passed the trigger's (second attempt's) traceparent on in the payload...
    assert payload["traceparent"].startswith(f"00-{trace_id(caller):032x}-{span_id(second):016x}-")
    # ...and the runtime's callbacks and credential resolve continue it, under that attempt.
    runtime_calls = by_name(spans, "cxpa post_callback") + by_name(spans, "cxpa resolve_credential")
    assert len(runtime_calls) == 4  # started, output, complete; one resolve
    for runtime_call in runtime_calls:
        assert runtime_call.parent is not None
        assert runtime_call.parent.is_remote
        assert span_id(second) in ancestors(runtime_call, spans)
        if runtime_call.name == "cxpa post_callback":  # a resolve's path names a connection, not the run
            assert dict(runtime_call.attributes or {})["cxpa.run_id"] == payload["runId"]
    callback_attempts = by_name(spans, "POST /api/runs/{runId}/callback")
    assert len(callback_attempts) == 3
    assert all(span_id(second) in ancestors(s, spans) for s in callback_attempts)

    told = everything_told(spans)
    for secret in (platform.ingest_key, payload["agentApiKey"], payload["credentialsToken"], CREDENTIAL_SECRET):
        assert secret not in told


def test_one_trace_from_the_caller_through_the_platform_to_the_runtime(
    cxpa_platform: LocalPlatform, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """Caller span > trigger call > two attempts (a 503 retried), and the runtime's calls under the second."""
    provider, exporter = traced
    agent_id, done, seen = runtime_agent(cxpa_platform, provider)
    cxpa_platform.faults.fail_next(1, status=503, path="*/runs/trigger")
    hook = OpenTelemetryHook(tracer_provider=provider)
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, hooks=[hook]) as client:
        client._sleep = no_sleep
        with provider.get_tracer("test").start_as_current_span("caller"):
            handle = client.trigger_run(agent_id, {"q": 1})
    assert done.wait(10)
    assert cxpa_platform.run(handle.run_id)["status"] == "completed"
    spans = exporter.get_finished_spans()
    (caller,) = by_name(spans, "caller")
    check_one_trace(cxpa_platform, spans, caller, agent_id, seen["payload"])
    assert repr(hook) == "OpenTelemetryHook(open_calls=0)"


@pytest.mark.parametrize("http_backend", ["httpx2", "aiohttp"])
def test_one_trace_with_the_async_clients(
    cxpa_platform: LocalPlatform, traced: tuple[TracerProvider, InMemorySpanExporter], http_backend: str
) -> None:
    """AsyncCxpa (either backend) and an AsyncAgentClient runtime make the same one trace."""
    provider, exporter = traced
    agent_id, done, seen = runtime_agent(cxpa_platform, provider, use_async=True)
    cxpa_platform.faults.fail_next(1, status=503, path="*/runs/trigger")

    async def main() -> str:
        hooks = [OpenTelemetryHook(tracer_provider=provider)]
        async with AsyncCxpa(
            base_url=cxpa_platform.base_url,
            ingest_api_key=cxpa_platform.ingest_key,
            hooks=hooks,
            http_backend=http_backend,
        ) as client:
            client._asleep = no_asleep
            with provider.get_tracer("test").start_as_current_span("caller"):
                handle = await client.trigger_run(agent_id, {"q": 1})
            return handle.run_id

    run_id = asyncio.run(main())
    assert done.wait(10)
    assert cxpa_platform.run(run_id)["status"] == "completed"
    spans = exporter.get_finished_spans()
    (caller,) = by_name(spans, "caller")
    check_one_trace(cxpa_platform, spans, caller, agent_id, seen["payload"])


def test_a_runtime_without_trace_context_keeps_its_own_trace(
    cxpa_platform: LocalPlatform, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """A trigger without a traceparent: the payload has none, and the runtime's spans are a trace of their own."""
    provider, exporter = traced
    agent_id, done, seen = runtime_agent(cxpa_platform, provider)
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:  # no hook
        client.trigger_run(agent_id, {"q": 1})
    assert done.wait(10)
    assert "traceparent" not in seen["payload"]
    assert "tracestate" not in seen["payload"]
    spans = exporter.get_finished_spans()
    calls = by_name(spans, "cxpa post_callback") + by_name(spans, "cxpa resolve_credential")
    assert len(calls) == 4
    for call in calls:
        assert call.parent is None  # a root: no caller's trace to continue
    assert len({trace_id(s) for s in calls}) == 4  # each call its own trace, as with no hook context at all


def test_a_current_span_wins_over_the_payloads_trace_context(
    cxpa_platform: LocalPlatform, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """An agent client's call inside a span of the runtime's own is that span's child, not the payload's."""
    provider, exporter = traced
    agent = cxpa_platform.add_agent("otel-ingest", managed_by="standalone")
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        registered = client.register_run(agent.id, "otel-current-span")
    hooks = [OpenTelemetryHook(tracer_provider=provider)]
    with AgentClient(
        api_key=cxpa_platform.agent_api_key(agent.id),
        run_id=registered.run_id,
        base_url=cxpa_platform.base_url,
        hooks=hooks,
        trace_context={"traceparent": TRACEPARENT},
    ) as runtime:
        with provider.get_tracer("test").start_as_current_span("runtime work"):
            runtime.complete({"ok": True})
    spans = exporter.get_finished_spans()
    (work,) = by_name(spans, "runtime work")
    started, completed = by_name(spans, "cxpa post_callback")
    assert started.parent is not None
    assert started.parent.span_id == 0xB7AD6B7169203331
    assert trace_id(started) == 0x0AF7651916CD43DD8448EB211C80319C
    assert completed.parent is not None
    assert completed.parent.span_id == span_id(work)


@pytest.mark.parametrize(
    ("trigger", "headers", "expected"),
    [
        ("trigger_run", {"traceparent": TRACEPARENT}, {"traceparent": TRACEPARENT}),
        (
            "trigger_run_and_wait",
            {"traceparent": TRACEPARENT, "tracestate": "vendor=1,other=2"},
            {"traceparent": TRACEPARENT, "tracestate": "vendor=1,other=2"},
        ),
        ("trigger_run", {"traceparent": "not-a-traceparent", "tracestate": "vendor=1"}, {}),
        ("trigger_run_and_wait", {"tracestate": "vendor=1"}, {}),
    ],
    ids=["trigger", "trigger-and-wait-with-tracestate", "invalid-dropped", "tracestate-alone-dropped"],
)
def test_the_platform_passes_the_trigger_requests_trace_context_to_the_runtime(
    cxpa_platform: LocalPlatform, trigger: str, headers: dict[str, str], expected: dict[str, str]
) -> None:
    """The platform copies a valid traceparent (and tracestate) header into the payload; from_payload takes it."""
    done, seen = threading.Event(), {}

    def runtime(call: RuntimeCall) -> None:
        seen["payload"] = dict(call.payload)
        with AgentClient.from_payload(call.payload, base_url=cxpa_platform.base_url) as agent:
            seen["trace_context"] = dict(agent._settings.trace_context)
            agent.complete({"ok": True})
        done.set()

    agent = cxpa_platform.add_agent("otel-payload", runtime)
    with Cxpa(
        base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, default_headers=headers
    ) as client:
        getattr(client, trigger)(agent.id, {"q": 1})
    assert done.wait(10)
    assert {k: v for k, v in seen["payload"].items() if k in ("traceparent", "tracestate")} == expected
    assert seen["trace_context"] == expected


def test_trigger_and_resume_payloads_read_their_trace_context() -> None:
    """TriggerPayload.parse and ResumePayload.parse read a valid traceparent and tracestate into `trace_context`."""
    from cxpa_sdk import ResumePayload, TriggerPayload, parse_runtime_payload  # noqa: PLC0415

    base = {"runId": "run_1", "agentId": 1, "agentApiKey": "k"}
    trigger = TriggerPayload.parse({**base, "input": {}, "traceparent": TRACEPARENT, "tracestate": "a=1"})
    assert trigger.trace_context == {"traceparent": TRACEPARENT, "tracestate": "a=1"}
    assert "trace" not in repr(trigger)
    assert TriggerPayload.parse({**base, "input": {}}).trace_context == {}
    resumed = parse_runtime_payload(
        {**base, "type": "resumed", "tokenId": "t", "output": {}, "traceparent": TRACEPARENT}
    )
    assert isinstance(resumed, ResumePayload)
    assert resumed.trace_context == {"traceparent": TRACEPARENT}
    # An invalid one is dropped, never fatal (tests/sdk/test_runtime_payloads.py holds the cases).
    assert TriggerPayload.parse({**base, "input": {}, "traceparent": "garbage"}).trace_context == {}


@pytest.mark.parametrize(
    ("trace_context", "error", "match"),
    [
        ({"baggage": "a=1"}, InvalidArgumentError, "only traceparent and tracestate"),
        ({"tracestate": "a=1"}, InvalidArgumentError, "without a traceparent"),
        ({"traceparent": 7}, InvalidArgumentTypeError, "must be a str"),
        ({"traceparent": "00-\n-evil"}, InvalidArgumentError, "printable ASCII"),
        ("00-abc", InvalidArgumentTypeError, "must be a mapping"),
    ],
    ids=["other-key", "tracestate-alone", "not-a-str", "not-a-header-value", "not-a-mapping"],
)
@pytest.mark.parametrize("client_class", [AgentClient, AsyncAgentClient], ids=["sync", "async"])
def test_a_bad_trace_context_is_refused_before_anything_is_sent(
    client_class: Callable[..., Any], trace_context: Any, error: type[Exception], match: str
) -> None:
    """The agent clients take only the two W3C keys, with header-safe values (a clear typed error)."""
    with pytest.raises(error, match=match):
        client_class(api_key="k", run_id="run_1", base_url="http://127.0.0.1:9", trace_context=trace_context)


def test_calls_whose_end_is_never_heard_are_bounded(traced: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    """Past max_open_calls the oldest call's span is ended as abandoned, so a lost call_ended cannot leak."""
    provider, exporter = traced
    hook = OpenTelemetryHook(tracer_provider=provider, max_open_calls=2)
    for number in range(3):
        hook.call_started(CallInfo(number, "get_run", "GET", "http://127.0.0.1:9/api/x", 1, f"run_{number}", None, {}))
    assert repr(hook) == "OpenTelemetryHook(open_calls=2)"
    (abandoned,) = exporter.get_finished_spans()
    assert dict(abandoned.attributes or {})["cxpa.run_id"] == "run_0"
    assert abandoned.status.status_code is trace.StatusCode.ERROR


@pytest.mark.parametrize("max_open_calls", [0, -1, True, 1.5], ids=["zero", "negative", "bool", "float"])
def test_max_open_calls_must_be_a_positive_int(max_open_calls: Any) -> None:
    """A bound that bounds nothing is refused."""
    with pytest.raises(InvalidArgumentError, match="max_open_calls"):
        OpenTelemetryHook(max_open_calls=max_open_calls)


def test_trigger_and_download_passes_its_trace_context_too(cxpa_platform: LocalPlatform) -> None:
    """A file agent's runtime gets the trigger-and-download request's traceparent in its payload."""
    seen: dict[str, Any] = {}

    def runtime(call: RuntimeCall) -> list[bytes]:
        seen["payload"] = dict(call.payload)
        return [b"traced file"]

    agent = cxpa_platform.add_agent("otel-file", runtime, output_kind="file_download")
    headers = {"traceparent": TRACEPARENT}
    with Cxpa(
        base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, default_headers=headers
    ) as client:
        with client.trigger_run_and_download(agent.id, {"q": 1}) as download:
            assert download.read() == b"traced file"
    assert seen["payload"]["traceparent"] == TRACEPARENT
    assert "tracestate" not in seen["payload"]
