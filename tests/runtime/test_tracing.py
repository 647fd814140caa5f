"""Trace context in the runtime host: a run is a span continuing the caller's trace, over real HTTP.

The caller triggers inside a span of its own (with `OpenTelemetryHook`), the local platform passes the
trigger's trace context on in the payload, and the host makes `cxpa run {agent}` a child of the
trigger's attempt; the function's own spans (async, and sync on the pool's thread) and the run's
reports are children of the run's span: one trace from the caller to the agent's work.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from runtime_support import SECRET, eventually, serving, settled

from cxpa_sdk import Cxpa
from cxpa_sdk.otel import OpenTelemetryHook
from cxpa_sdk.runtime import RunContext, Runtime, SyncRunContext
from cxpa_sdk.testing import LocalPlatform


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A TracerProvider of this test's own, exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _named(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_run_continues_the_callers_trace(
    platform: LocalPlatform, traced: tuple[TracerProvider, InMemorySpanExporter], kind: str
) -> None:
    """Caller span -> trigger -> POST attempt -> `cxpa run traced` -> the function's span and the reports."""
    provider, exporter = traced
    runtime = Runtime(base_url=platform.base_url, secrets=SECRET, tracer_provider=provider)
    tracer = provider.get_tracer("the agent's own code")

    if kind == "async":

        @runtime.agent("traced")
        async def traced_agent(run: RunContext) -> dict[str, Any]:
            with tracer.start_as_current_span("agent work"):
                await run.output({"step": 1})
            return {"ok": True}

    else:

        @runtime.agent("traced")
        def traced_sync(run: SyncRunContext) -> dict[str, Any]:
            with tracer.start_as_current_span("agent work"):
                run.output({"step": 1})
            return {"ok": True}

    with (
        serving(runtime, platform) as url,
        Cxpa(
            base_url=platform.base_url,
            ingest_api_key=platform.ingest_key,
            hooks=[OpenTelemetryHook(tracer_provider=provider)],
        ) as caller,
    ):
        agent = platform.add_agent("traced", f"{url}/agents/traced")
        with provider.get_tracer("caller").start_as_current_span("nightly job"):
            run_id = caller.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "completed", "failed")
        eventually(lambda: any(s.name == "cxpa run traced" for s in exporter.get_finished_spans()), "the run's span")
    spans = exporter.get_finished_spans()
    job = _named(spans, "nightly job")
    attempt = _named(spans, "POST /api/agents/{agentId}/runs/trigger")
    run_span = _named(spans, "cxpa run traced")
    work = _named(spans, "agent work")
    assert {span.context.trace_id for span in spans} == {job.context.trace_id}  # one trace
    assert run_span.parent is not None
    assert run_span.parent.span_id == attempt.context.span_id
    assert run_span.attributes is not None
    assert run_span.attributes["cxpa.run_id"] == run_id
    assert work.parent is not None
    assert work.parent.span_id == run_span.context.span_id
    reports = [span for span in spans if span.name == "cxpa post_callback"]
    assert len(reports) == 3  # started, output, complete
    by_id = {span.context.span_id: span for span in spans}
    for report in reports:  # a report is the run's child, or the function's span's (output, inside it)
        assert report.parent is not None
        assert by_id[report.parent.span_id].name in {"cxpa run traced", "agent work"}


def test_a_payload_without_trace_context_starts_a_trace_of_its_own(
    platform: LocalPlatform, client: Cxpa, traced: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    """No `traceparent` in the payload: the run's span is a root, and the run completes as usual."""
    provider, exporter = traced
    runtime = Runtime(base_url=platform.base_url, secrets=SECRET, tracer_provider=provider)

    @runtime.agent("untraced")
    async def untraced(run: RunContext) -> dict[str, Any]:
        return {"ok": True}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("untraced", f"{url}/agents/untraced")
        row = settled(platform, client.trigger_run(agent.id, {}).run_id, "completed", "failed")
        eventually(lambda: any(s.name == "cxpa run untraced" for s in exporter.get_finished_spans()), "the span")
    assert row["status"] == "completed"
    assert _named(exporter.get_finished_spans(), "cxpa run untraced").parent is None


def test_without_opentelemetry_runs_carry_no_span_and_no_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where OpenTelemetry is not installed, the host imports none of it and its run clients take no hook."""
    from cxpa_sdk.runtime import _tracing  # noqa: PLC0415 - the module whose lookup is replaced

    monkeypatch.setattr(_tracing.importlib.util, "find_spec", lambda name: None)
    tracing = _tracing.RunTracing()
    assert not tracing.enabled
    assert tracing.hooks == []
    runtime = Runtime(base_url="http://127.0.0.1:9")
    assert runtime._clients.hooks == []
