"""OpenTelemetry spans for every call and attempt, and W3C trace context on every request.

The `cxpa-sdk[otel]` extra (it needs opentelemetry-api only; bring an SDK and an exporter of your
choice). `import cxpa_sdk` never imports this module or OpenTelemetry: only `import cxpa_sdk.otel` does.

Each call becomes an INTERNAL span named after its operation (`cxpa trigger_run`), with a CLIENT
child per attempt that follows the OpenTelemetry HTTP client conventions (`POST
/api/agents/{agentId}/runs/trigger`). Each attempt carries its span's `traceparent` (and
`tracestate`) through the global propagator, and the platform passes the trigger's on to the
runtime in its payload: an `AgentClient.from_payload` with this hook continues the caller's trace,
so its callbacks and credential resolves are descendants of the trigger's attempt.
docs/observability.md lists every attribute.

No secret reaches a span: URLs have no query and no key, and no header is recorded.
"""

from __future__ import annotations

__all__ = ["OpenTelemetryHook"]

import threading
import urllib.parse
from collections import OrderedDict
from functools import cache
from typing import NamedTuple

try:
    from opentelemetry import propagate, trace
    from opentelemetry.context import Context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "cxpa_sdk.otel needs OpenTelemetry's API: pip install 'cxpa-sdk[otel]' (and an OpenTelemetry SDK)"
    ) from _missing

from . import _schema
from ._errors import CxpaError
from ._version import __version__
from .hooks import AttemptEnded, AttemptStarted, CallEnded, CallInfo, Hook, RetryScheduled

# The OpenTelemetry semantic conventions the spans follow (the HTTP client ones are stable since 1.23).
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
DEFAULT_MAX_OPEN_CALLS = 10_000
_W3C = TraceContextTextMapPropagator()


class _Open(NamedTuple):
    """The spans of one call in flight: the call's, and its current attempt's (None between attempts)."""

    call: trace.Span
    attempt: trace.Span | None


class OpenTelemetryHook(Hook):
    """A hook that makes an OpenTelemetry span per call, a child span per attempt, and propagates the trace.

    Pass it to any client (Cxpa, AsyncCxpa, AgentClient, AsyncAgentClient); one hook may serve many
    clients and concurrent calls. A call's span is a child of the current span; with none, an agent
    client's spans continue the trace its trigger payload carried (`CallInfo.trace_context`).

    Examples:
        >>> from cxpa_sdk.otel import OpenTelemetryHook                     # doctest: +SKIP
        >>> client = Cxpa(hooks=[OpenTelemetryHook()])                       # doctest: +SKIP
        >>> with tracer.start_as_current_span("nightly report"):            # doctest: +SKIP
        ...     client.trigger_run(42, {"url": "https://example.com"})

    Args:
        tracer_provider: The TracerProvider to take the tracer from; default the global one
            (`opentelemetry.trace.set_tracer_provider`).
        max_open_calls: The most calls whose spans are kept open at once; past it the oldest is
            ended (marked as abandoned), so a call whose end was never heard cannot hold memory.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        max_open_calls: int = DEFAULT_MAX_OPEN_CALLS,
    ) -> None:
        """Take a tracer from `tracer_provider` (default the global one); see the class for the arguments."""
        if isinstance(max_open_calls, bool) or not isinstance(max_open_calls, int) or max_open_calls < 1:
            from ._errors import InvalidArgumentError  # noqa: PLC0415 - only a bad argument needs it

            raise InvalidArgumentError(f"max_open_calls must be a positive int, got {max_open_calls!r}")
        self._tracer = trace.get_tracer("cxpa_sdk", __version__, tracer_provider, schema_url=SCHEMA_URL)
        self._max_open_calls = max_open_calls
        self._open: OrderedDict[int, _Open] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        """The hook and how many calls it has open."""
        return f"OpenTelemetryHook(open_calls={len(self._open)})"

    def call_started(self, event: CallInfo) -> None:
        """Start the call's span: a child of the current span, else of the trace the payload carried."""
        parent: Context | None = None
        if not trace.get_current_span().get_span_context().is_valid and event.trace_context:
            parent = _W3C.extract(dict(event.trace_context))
        attributes: dict[str, str | int] = {"cxpa.operation": event.operation}
        if event.agent_id is not None:
            attributes["cxpa.agent_id"] = event.agent_id
        if event.run_id is not None:
            attributes["cxpa.run_id"] = event.run_id
        span = self._tracer.start_span(
            f"cxpa {event.operation}", parent, kind=trace.SpanKind.INTERNAL, attributes=attributes
        )
        with self._lock:
            self._open[event.id] = _Open(span, None)
            abandoned = self._open.popitem(last=False)[1] if len(self._open) > self._max_open_calls else None
        if abandoned is not None:
            _abandon(abandoned)

    def attempt_started(self, event: AttemptStarted) -> None:
        """Start the attempt's CLIENT span and put its trace context in the attempt's headers."""
        with self._lock:
            found = self._open.get(event.call.id)
        if found is None:
            return
        if found.attempt is not None:  # its end was never heard: close it before the next one
            found.attempt.end()
        call = event.call
        template = url_template(call.operation)
        attributes: dict[str, str | int] = {"http.request.method": call.method, "url.full": _redacted(call.url)}
        if template is not None:
            attributes["url.template"] = template
        parts = urllib.parse.urlsplit(call.url)
        if parts.hostname:
            attributes["server.address"] = parts.hostname
        attributes["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        name = call.method if template is None else f"{call.method} {template}"
        span = self._tracer.start_span(
            name, trace.set_span_in_context(found.call), kind=trace.SpanKind.CLIENT, attributes=attributes
        )
        with self._lock:
            if event.call.id in self._open:
                self._open[event.call.id] = _Open(found.call, span)
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        for name, value in carrier.items():
            try:
                event.headers[name] = value
            except CxpaError:  # a propagator's header the SDK refuses (its own, or not fit for a header)
                continue

    def attempt_ended(self, event: AttemptEnded) -> None:
        """End the attempt's span with its status code, or its error."""
        with self._lock:
            found = self._open.get(event.call.id)
            if found is not None:
                self._open[event.call.id] = _Open(found.call, None)
        if found is None or found.attempt is None:
            return
        span = found.attempt
        if event.status_code is not None:
            span.set_attribute("http.response.status_code", event.status_code)
        if event.error is not None:
            _set_error(span, event.error, event.status_code)
        span.end()

    def retry_scheduled(self, event: RetryScheduled) -> None:
        """Add a `retry` event to the call's span: the failed attempt, the delay and the reason."""
        with self._lock:
            found = self._open.get(event.call.id)
        if found is not None:
            found.call.add_event(
                "retry",
                {
                    "cxpa.retry.attempt": event.attempt,
                    "cxpa.retry.delay": event.delay,
                    "cxpa.retry.reason": event.reason,
                },
            )

    def call_ended(self, event: CallEnded) -> None:
        """End the call's span with its outcome, attempts and applied flag."""
        with self._lock:
            found = self._open.pop(event.call.id, None)
        if found is None:
            return
        if found.attempt is not None:
            found.attempt.end()
        span = found.call
        span.set_attribute("cxpa.outcome", event.outcome)
        span.set_attribute("cxpa.attempts", event.attempts)
        if event.applied is not None:
            span.set_attribute("cxpa.applied", event.applied)
        if event.call.run_id is None and event.run_id is not None:  # a trigger's new run, or the error's
            span.set_attribute("cxpa.run_id", event.run_id)
        if event.error is not None:
            _set_error(span, event.error, event.status_code)
        span.end()


def _set_error(span: trace.Span, error: BaseException, status_code: int | None) -> None:
    """Mark a span failed: `error.type` the HTTP status (4xx, 5xx) or the error's class, and the status."""
    kind = type(error)
    if status_code is not None and status_code >= 400:
        error_type = str(status_code)
    else:
        error_type = f"{kind.__module__}.{kind.__qualname__}"
    span.set_attribute("error.type", error_type)
    # The SDK's errors reach hooks with every secret masked; the message says what a person needs.
    message = error.message if isinstance(error, CxpaError) else kind.__name__
    span.set_status(trace.Status(trace.StatusCode.ERROR, f"{kind.__name__}: {message}"))


def _abandon(found: _Open) -> None:
    """End the spans of a call whose end was never heard (pushed out by newer calls)."""
    for span in (found.attempt, found.call):
        if span is not None:
            span.set_status(trace.Status(trace.StatusCode.ERROR, "abandoned: the call's end was never heard"))
            span.end()


def _redacted(url: str) -> str:
    """The URL with any user and password replaced by REDACTED (the conventions' rule for url.full)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"REDACTED:REDACTED@{host}"))


@cache
def url_template(operation: str) -> str | None:
    """The spec's path template of an operationId (`/api/agents/{agentId}/runs/trigger`), or None."""
    return _templates().get(operation)


@cache
def _templates() -> dict[str, str]:
    paths = _schema.spec().get("paths", {})
    return {
        operation["operationId"]: path
        for path, item in paths.items()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
