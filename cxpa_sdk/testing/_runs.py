"""Runs and agents of the local platform: the records and the run state machine (pure rules)."""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cxpa_api.models import Run as RunModel

from .._runtime._signing import SigningKey
from ._errors import ApiError, conflict

TERMINAL = frozenset({"completed", "failed", "cancelled"})
_EVENTS_LOCK = threading.Lock()  # makes a run's `cancelled` and `resumed` Events once
# The events a run keeps (its progress events, `get_run_events`). Past MAX_EVENTS - 1 a run's further
# `status`, `output` and `waiting` events are not kept (counted in `events_dropped`); its `ended` event,
# with the final Run row, always is, so a reader always reaches the end.
MAX_EVENTS = 10_000
# The most events, and about the most bytes of them, one events answer carries (the rest on the next read).
PAGE_EVENTS = 1_000
PAGE_BYTES = 1 << 20
# A W3C Trace Context `traceparent` and `tracestate` as openapi.yaml's TriggerPayload takes them: a
# trigger request's that do not fit are not passed on (the runtime then starts a trace of its own).
TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-[ -~]*)?")
TRACESTATE = re.compile(r"[ -~]{1,512}")


def now() -> datetime.datetime:
    """The current UTC time, to the millisecond as the platform stores it."""
    moment = datetime.datetime.now(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    """A fresh opaque id such as `run_5f2c...`."""
    return f"{prefix}_{secrets.token_hex(8)}"


def trace_context_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The W3C trace context of a trigger request's headers, to put in its run's payloads (none when invalid)."""
    traceparent = headers.get("traceparent", "").strip()
    if len(traceparent) > 256 or not TRACEPARENT.fullmatch(traceparent):
        return {}
    context = {"traceparent": traceparent}
    tracestate = headers.get("tracestate", "").strip()
    if TRACESTATE.fullmatch(tracestate):
        context["tracestate"] = tracestate
    return context


@dataclass(frozen=True)
class Agent:
    """An agent on the local platform.

    Attributes:
        id: The agent's id (an integer >= 1).
        name: A short name for people.
        managed_by: `platform` (the platform starts its runtime) or `standalone` (it reports through ingest).
        output_kind: `json` or `file_download`.
        max_run_duration_ms: How long one run may take, in milliseconds; waits are capped at it.
        runtime: A Python callable, a URL that receives the trigger payload, or None.
        api_key: The agent API key its runtimes call back with (secret; never shown in repr).
        signing_keys: The keys its deliveries are signed with, when it has its own (never shown in repr).
        inline: Whether its runs end inside the platform (`_inline`): no runtime, no thread, no callback.
        inline_delay_s: How long an inline agent's run lasts (unless its input has `seconds`), in seconds.
    """

    id: int
    name: str
    managed_by: str = "platform"
    output_kind: str = "json"
    max_run_duration_ms: int = 300_000
    runtime: Callable[..., Any] | str | None = field(default=None, compare=False)
    api_key: str = field(default_factory=lambda: "cxpa_agent_" + secrets.token_hex(16), repr=False)
    signing_keys: tuple[SigningKey, ...] = field(default=(), repr=False, compare=False)  # its own, else the platform's
    inline: bool = False
    inline_delay_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The spec's Agent shape."""
        return {
            "id": self.id,
            "name": self.name,
            "managedBy": self.managed_by,
            "outputKind": self.output_kind,
            "maxRunDurationMs": self.max_run_duration_ms,
        }


@dataclass
class RunRecord:
    """One run as the platform holds it; `row()` gives the spec's Run row."""

    id: str
    agent_id: int
    input_data: dict[str, Any]
    status: str = "queued"
    output_data: Any = None
    outputs: int | None = None
    error: dict[str, Any] | None = None
    external_run_id: str | None = None
    waiting: dict[str, Any] | None = None
    created_at: datetime.datetime = field(default_factory=now)
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    resume_values: dict[str, Any] = field(default_factory=dict, repr=False)
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)
    events_dropped: int = field(default=0, repr=False)
    trace_context: dict[str, str] = field(default_factory=dict, repr=False)  # its trigger request's W3C headers
    tokens: set[str] = field(default_factory=set, repr=False)  # every token it waited on (resume_run's 404 or 409)
    # Made at first use (`cancelled`, `resumed`): an inline run never needs them, and 100,000 runs need no
    # 200,000 Events. The Run row of an ended run, built once (an ended run never changes again).
    _cancelled: threading.Event | None = field(default=None, init=False, repr=False, compare=False)
    _resumed: threading.Event | None = field(default=None, init=False, repr=False, compare=False)
    _final_row: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """A new run's first event: its status (`queued`)."""
        self.record("status")

    @property
    def cancelled(self) -> threading.Event:
        """Set once the run is cancelled or failed by the platform: its Python runtime should stop."""
        if self._cancelled is None:
            with _EVENTS_LOCK:  # a runtime thread and the platform may ask at once: one Event for both
                if self._cancelled is None:
                    self._cancelled = threading.Event()
        return self._cancelled

    @property
    def resumed(self) -> threading.Event:
        """Set when the run is resumed on the token it waits on (a Python runtime's `wait_for_resume`)."""
        if self._resumed is None:
            with _EVENTS_LOCK:
                if self._resumed is None:
                    self._resumed = threading.Event()
        return self._resumed

    def record(self, kind: str, output: Any = None) -> None:
        """Keep one event, its cursor its sequence number as text (see MAX_EVENTS for the bound)."""
        if kind != "ended" and len(self.events) >= MAX_EVENTS - 1:
            self.events_dropped += 1
            return
        event: dict[str, Any] = {
            "cursor": str(len(self.events) + 1),
            "type": kind,
            "at": now().isoformat(),
            "status": self.status,
        }
        if kind == "output":
            event["output"] = output
        elif kind == "waiting":
            event["waiting"] = dict(self.waiting or {})
        elif kind == "ended":
            event["run"] = self.row()
        self.events.append(event)

    def events_after(self, after: str | None) -> int:
        """How many events precede the ones after cursor `after` (None: from the start); 400 naming it if unknown."""
        if after is None:
            return 0
        if not (after.isascii() and after.isdigit() and len(after) <= 12 and int(after) <= len(self.events)):
            raise ApiError(400, "invalid_parameter", f"after: not a cursor of run {self.id}: {after[:40]!r}")
        return int(after)

    def events_page(self, start: int) -> dict[str, Any]:
        """The RunEvents answer for the events after the first `start` (PAGE_EVENTS or about PAGE_BYTES at most)."""
        page: list[dict[str, Any]] = []
        size = 0
        for event in self.events[start : start + PAGE_EVENTS]:
            size += len(json.dumps(event))
            if page and size > PAGE_BYTES:
                break
            page.append(event)
        cursor = page[-1]["cursor"] if page else str(start)
        ended = self.terminal and start + len(page) == len(self.events)
        return {"events": page, "cursor": cursor, "ended": ended}

    @property
    def terminal(self) -> bool:
        """Whether the run has ended (it never changes again)."""
        return self.status in TERMINAL

    @property
    def lease_phase(self) -> str:
        """The status as leases see it: `resumed` for a run resumed but not yet started again, else the status.

        A resumed run stays `waiting` until its runtime's `started`, but its token is taken: like a
        queued run, it may hold the lease its runtime's answer to the resume delivery gives.
        """
        return "resumed" if self.status == "waiting" and self.waiting is None else self.status

    def row(self) -> dict[str, Any]:
        """The Run row, built through the generated model so it is always in the spec's shape.

        An ended run's row is built once, when it ends (`move_to`), and copied after.
        """
        if self._final_row is not None:
            return dict(self._final_row)
        return RunModel.from_dict(
            {
                "id": self.id,
                "agent_id": self.agent_id,
                "status": self.status,
                "input_data": self.input_data,
                "output_data": self.output_data,
                "outputs": self.outputs,
                "error": self.error,
                "external_run_id": self.external_run_id,
                "waiting": self.waiting,
                "created_at": self.created_at.isoformat(),
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            }
        ).to_dict()

    def move_to(self, status: str) -> None:
        """Set the status and the timestamps that go with it, and record the change (no rule checks; see `check_event`).

        The change is an `ended` event for a terminal status, `waiting` for a wait on a token (set
        `waiting` first), else `status`.
        """
        previous = self.status
        self.status = status
        if status == "running" and self.started_at is None:
            self.started_at = now()
        if status != "waiting":
            self.waiting = None
        if status in TERMINAL:
            self.finished_at = now()
        if status == "cancelled":
            self.cancelled.set()
        if status in TERMINAL:
            self._final_row = None
            self._final_row = self.row()
        if status != previous:
            self.record("ended" if status in TERMINAL else "waiting" if self.waiting else "status")


def check_event(run: RunRecord, event: dict[str, Any]) -> str:
    """The status a callback event moves the run to; ApiError 409 when the state machine forbids it.

    `started`: queued or waiting -> running. `output`: running stays running, or ends completed
    (`complete`) or failed (`failed`). `waiting`: running -> waiting. `heartbeat`: a run not ended
    stays as it is. Any event for a cancelled run
    is `run_cancelled` (the runtime should stop); for a completed or failed one, `run_finished`.
    """
    if run.status == "cancelled":
        raise conflict("run_cancelled", f"run {run.id} was cancelled: its runtime should stop its work", run.id)
    if run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't change", run.id)
    kind = event["type"]
    if kind == "heartbeat":  # the lease extension: renews a lease, changes no run
        return run.status
    if kind == "started":
        allowed, target = {"queued", "waiting"}, "running"
    elif kind == "waiting":
        allowed, target = {"running"}, "waiting"
    else:
        allowed = {"running"}
        target = "completed" if event.get("complete") else "failed" if event.get("failed") else "running"
    if run.status not in allowed:
        raise conflict(
            "invalid_transition", f"run {run.id} is {run.status}: a {kind} event can't move it to {target}", run.id
        )
    return target


def check_ingest(run: RunRecord | None) -> None:
    """Ingest upserts any non-terminal run; a terminal run can't be changed."""
    if run is not None and run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't change", run.id)


def check_resume(run: RunRecord, token_id: str) -> None:
    """A run can be resumed on the token it waits on now: 404 for a token it never waited on, else 409."""
    if run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't be resumed", run.id)
    if token_id not in run.tokens:
        raise ApiError(404, "token_not_found", f"run {run.id} never waited on token {token_id!r}")
    if run.status != "waiting" or not run.waiting or run.waiting["token_id"] != token_id:
        why = "it was resumed already" if run.status == "waiting" else f"it is {run.status}"
        raise conflict("not_waiting", f"run {run.id} is not waiting on token {token_id!r}: {why}", run.id)


def check_cancel(run: RunRecord) -> None:
    """A queued, running or waiting run can be cancelled; a terminal one can't."""
    if run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't be cancelled", run.id)


def error_of(exc: BaseException) -> dict[str, Any]:
    """A run error from an exception: its type name, message and traceback."""
    stack = "".join(traceback.format_exception(exc))
    return {"name": type(exc).__name__, "message": str(exc) or type(exc).__name__, "stack": stack}
