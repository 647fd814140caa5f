"""One run a runtime host is working on: whether it was cancelled, its task, and the resume it waits for."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

from .._errors import RUN_CANCELLED, RunCancelledError
from ..types import ResumePayload, TriggerPayload

if TYPE_CHECKING:
    from ._channel import FileChannel


def cancelled_error(run_id: str) -> RunCancelledError:
    """The RunCancelledError a cancelled run's code gets from its next call to the platform (none is sent)."""
    return RunCancelledError(
        f"run {run_id} was cancelled: the runtime was told so, and sends nothing more for it",
        status_code=409,
        code=RUN_CANCELLED,
        run_id=run_id,
    )


class RunState:
    """A run in this process: its cancel flag (set from the event loop, read from any thread) and its waits.

    `task` is the asyncio task to cancel when the run's function is async (a sync function's thread
    cannot be interrupted: it sees the flag). `resume` is the future a `wait_for_token` waits on;
    the resume delivery sets its result, a cancel delivery its exception. `channel` carries a file
    agent's bytes to the trigger's answer. `lease` is the lease the run holds on the platform (None:
    none; from the 202 that took its trigger or resume, queued or not), `reported_at` when it last
    reported (monotonic seconds; taken counts): the host's heartbeat renews the leases of the runs
    that have been quiet.
    """

    __slots__ = ("_cancelled", "channel", "lease", "payload", "reported_at", "resume", "run_id", "runner", "task")

    def __init__(self, payload: TriggerPayload | ResumePayload) -> None:
        self.run_id: str = payload.run_id
        self.payload: TriggerPayload | ResumePayload = (
            payload  # what the host reports with when it must end the run itself (shutdown)
        )
        self._cancelled = threading.Event()
        self.task: asyncio.Task[None] | None = None
        self.runner: asyncio.Task[None] | None = None  # the host's task for the whole run (the drain awaits it)
        self.resume: Future[ResumePayload] | None = None
        self.channel: FileChannel | None = None
        self.lease: int | None = None
        self.reported_at: float = time.monotonic()

    def __repr__(self) -> str:
        return f"RunState(run_id={self.run_id!r}, cancelled={self.was_cancelled()})"

    def was_cancelled(self) -> bool:
        """Whether a cancel delivery for this run arrived."""
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Mark the run cancelled, end its wait for a resume, and cancel its task (async functions only)."""
        self._cancelled.set()
        resume = self.resume
        if resume is not None and not resume.done():
            resume.set_exception(cancelled_error(self.run_id))
        if self.task is not None:
            self.task.cancel()

    def began(self, lease: int | None) -> None:
        """The run reported `started`, holding `lease` seconds of lease (None: none)."""
        self.lease = lease
        self.reported_at = time.monotonic()

    def reported(self) -> None:
        """The run reported (a callback the platform took renews its lease)."""
        self.reported_at = time.monotonic()

    def waiting(self) -> bool:
        """Whether the run's code is suspended in `wait_for_token` (the run waits on the platform)."""
        return self.resume is not None and not self.resume.done()

    def expect_resume(self) -> Future[ResumePayload]:
        """A fresh future for the resume delivery of this run (made before `waiting` is reported)."""
        if self.was_cancelled():
            raise cancelled_error(self.run_id)
        self.resume = Future()
        return self.resume

    def resumed(self, payload: ResumePayload) -> bool:
        """Hand the resume delivery to the waiting code; False when nothing here waits for it."""
        resume = self.resume
        if resume is None or resume.done():
            return False
        resume.set_result(payload)
        return True
