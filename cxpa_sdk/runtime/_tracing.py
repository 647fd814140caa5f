"""Trace context in the runtime host: each run a span that continues the caller's trace, when OpenTelemetry is here.

With opentelemetry-api installed (the `otel` extra), a run's work (its `started`, the function, its
end) happens inside a CONSUMER span, `cxpa run {agent}`, whose parent is the trace context its
payload carried (the trigger's attempt): the function's own spans are its children, and so are the
run's reports, which the host makes with `cxpa_sdk.otel.OpenTelemetryHook`. Without it, nothing is
imported and runs carry no span. The payload's context is checked where it enters (`traceparent`
and `tracestate`, header-safe), as an agent client's is.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from typing import Any

from ..hooks import Hook
from ..types import ResumePayload, TriggerPayload


class RunTracing:
    """The host's tracing: a span per run and the hook its reports take, or nothing without OpenTelemetry."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self._tracer: Any = None
        self._hook: Hook | None = None
        if importlib.util.find_spec("opentelemetry") is None:
            return
        from opentelemetry import trace  # noqa: PLC0415 - only with the otel extra

        from ..otel import OpenTelemetryHook  # noqa: PLC0415 - it imports OpenTelemetry

        self._tracer = trace.get_tracer("cxpa_sdk.runtime", tracer_provider=tracer_provider)
        self._hook = OpenTelemetryHook(tracer_provider=tracer_provider)

    def __repr__(self) -> str:
        return f"RunTracing(enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        """Whether runs are traced (OpenTelemetry is installed)."""
        return self._tracer is not None

    @property
    def hooks(self) -> list[Hook]:
        """The hooks a run's agent client takes: the OpenTelemetry hook, or none."""
        return [] if self._hook is None else [self._hook]

    @contextlib.contextmanager
    def run_span(self, payload: TriggerPayload | ResumePayload, agent: str) -> Iterator[None]:
        """The run's span, current while the block runs; its parent is the payload's trace context."""
        if self._tracer is None:
            yield
            return
        from opentelemetry import trace  # noqa: PLC0415 - only with the otel extra
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator  # noqa: PLC0415

        parent = TraceContextTextMapPropagator().extract(dict(payload.trace_context or {}))
        attributes = {"cxpa.run_id": payload.run_id, "cxpa.agent_id": payload.agent_id, "cxpa.agent": agent}
        with self._tracer.start_as_current_span(
            f"cxpa run {agent}", parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
        ):
            yield
