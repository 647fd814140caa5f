"""Runs and agents of the local platform: the records and the run state machine (pure rules)."""

from __future__ import annotations

import datetime
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cxpa_api.models import Run as RunModel

from ._errors import conflict

TERMINAL = frozenset({"completed", "failed", "cancelled"})
ACTIVE = frozenset({"queued", "running", "waiting"})


def now() -> datetime.datetime:
    """The current UTC time, to the millisecond as the platform stores it."""
    moment = datetime.datetime.now(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    """A fresh opaque id such as `run_5f2c...`."""
    return f"{prefix}_{secrets.token_hex(8)}"


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
    """

    id: int
    name: str
    managed_by: str = "platform"
    output_kind: str = "json"
    max_run_duration_ms: int = 300_000
    runtime: Callable[..., Any] | str | None = field(default=None, compare=False)
    api_key: str = field(default_factory=lambda: "cxpa_agent_" + secrets.token_hex(16), repr=False)

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
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    resumed: threading.Event = field(default_factory=threading.Event, repr=False)
    resume_values: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def terminal(self) -> bool:
        """Whether the run has ended (it never changes again)."""
        return self.status in TERMINAL

    def row(self) -> dict[str, Any]:
        """The Run row, built through the generated model so it is always in the spec's shape."""
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
        """Set the status and the timestamps that go with it (no rule checks; see `check_event`)."""
        self.status = status
        if status == "running" and self.started_at is None:
            self.started_at = now()
        if status != "waiting":
            self.waiting = None
        if status in TERMINAL:
            self.finished_at = now()
        if status == "cancelled":
            self.cancelled.set()


def check_event(run: RunRecord, event: dict[str, Any]) -> str:
    """The status a callback event moves the run to; ApiError 409 when the state machine forbids it.

    `started`: queued or waiting -> running. `output`: running stays running, or ends completed
    (`complete`) or failed (`failed`). `waiting`: running -> waiting.
    """
    if run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't change", run.id)
    kind = event["type"]
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


def check_cancel(run: RunRecord) -> None:
    """A queued, running or waiting run can be cancelled; a terminal one can't."""
    if run.terminal:
        raise conflict("run_finished", f"run {run.id} is {run.status} and can't be cancelled", run.id)
