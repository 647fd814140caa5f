"""What Cxpa does for callers of the platform: every operation, as methods over its flows.

Written by `scripts/unasync` from `_async_caller.py`: edit that file, not this one. The
client itself (its constructor, its pool, its wait strategy) is written by hand on each side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _config as check
from ._base import BaseClient
from ._batch import _job as job_of
from ._batch._items import FinishedItem, Items, TriggeredItem
from ._core import _operations as ops
from ._core._events import EventReader
from ._download._stream import Download
from ._handles import DirectWaits, checked_reference, noting_run, trigger_answer
from ._sync_handles import RunHandle
from .types import IngestedRun, RegisteredRun, Run, RunEvent, RunStatus, TriggeredRun, WaitTimedOut

if TYPE_CHECKING:
    from ._core._engine import Flow, T
    from ._core._seam import Seam


DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_PENDING = 1000
DEFAULT_ITEM_TIMEOUT_S = 3600.0


class Caller(BaseClient):
    """The operations of the sync client for callers: trigger, wait for, download, register, report, read, cancel.

    The client supplies how a flow runs (`_run`), how a wait waits (`_waits`), and itself as its
    handles see it (`_seam`).
    """

    if TYPE_CHECKING:

        def _run(self, flow: Flow[T]) -> T: ...

        def _waits(self) -> DirectWaits: ...

        @property
        def _seam(self) -> Seam: ...

    def trigger_run(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> RunHandle:
        """Start a run of a platform-managed agent and return at once: a handle on it.

        The handle has the trigger's `run_id` and `status` (as the seed's `triggerRun` returns)
        and waits for, reads, cancels and follows the run: `handle.result()`, `handle.wait()`,
        `handle.refresh()`, `handle.cancel()`, `handle.events()`.

        Args:
            agent_id: The agent's id.
            input: The run's input, a JSON object.
            idempotency_key: The Idempotency-Key (default: a fresh UUID, the same on every retry).
        """
        flow = ops.trigger_run(self._settings, agent_id, input, idempotency_key=idempotency_key)
        triggered = self._run(flow)
        return RunHandle(self, agent_id, triggered.run_id, triggered.status, **trigger_answer(triggered))

    def trigger_many(
        self,
        agent_id: int,
        items: Items,
        *,
        job: str | None = None,
        journal: str | Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Iterator[TriggeredItem[RunHandle]]:
        """Start a run of the agent per item, in batches; a TriggeredItem per item (a handle, or its error), in order.

        The items are read lazily (any iterable, or an async iterable, of any length): memory does not
        grow with their number. An item's error (a bad input, its trigger refused) is its result, not
        the end of the job; an error about every item (a wrong key, no answer after the retries) ends
        the job, and a rerun with the same `job` or `journal` triggers nothing twice. See docs/batches.md.

        Args:
            agent_id: The agent's id.
            items: The runs' inputs (JSON objects), or `(item_key, input)` pairs; an item without a
                key is keyed by its index.
            job: The job's name. With it (or a journal), each item's Idempotency-Key is derived from
                the agent, the job and the item's key, so that running the job again (within the
                platform's 24-hour replay window) never triggers an item twice. None, without a
                journal: each item gets a fresh key.
            journal: A SQLite file recording the job, created when missing: a rerun after a crash
                sends no item twice and takes the job's name from it.
            batch_size: The most items per request (1 to 1000).
        """
        job_ = job_of.Job(self._seam, agent_id, items, job=job, journal=journal, batch_size=batch_size)

        def handle(run_id: str, status: RunStatus | None, triggered: TriggeredRun | None) -> RunHandle:
            answer = trigger_answer(triggered) if triggered is not None else {"attempts": 0}
            return RunHandle(self, job_.agent_id, run_id, status, **answer)

        return job_of.trigger_many(job_, handle)

    def run_many(
        self,
        agent_id: int,
        items: Items,
        *,
        job: str | None = None,
        journal: str | Path | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_pending: int = DEFAULT_MAX_PENDING,
        item_timeout: float = DEFAULT_ITEM_TIMEOUT_S,
    ) -> Iterator[FinishedItem]:
        """Run the agent on every item; a FinishedItem per item (its ended Run, or its error), as runs end.

        `trigger_many`, then waits shared by many runs per request; at most `max_pending` runs are
        waited for at once (more items are read as runs end). With a journal, a rerun after a crash
        gives back the runs that ended from the file, waits for those still going by their ids, and
        triggers the rest, none twice. See docs/batches.md.

        Args:
            agent_id: The agent's id.
            items: As `trigger_many`'s.
            job: As `trigger_many`'s.
            journal: As `trigger_many`'s; it also records each ended run.
            batch_size: As `trigger_many`'s.
            max_pending: The most runs waited for at once (1 to 100000).
            item_timeout: How long each item's run may take from its trigger, in seconds: then its
                result is a WaitTimeoutError naming the run (which goes on).
        """
        pending = check.positive_int(max_pending, "max_pending", 100_000)
        wait_s = check.seconds(item_timeout, "item_timeout")
        job_ = job_of.Job(self._seam, agent_id, items, job=job, journal=journal, batch_size=batch_size)
        return job_of.run_many(job_, max_pending=pending, item_timeout=wait_s)

    def run(self, agent_id: int, run_id: str) -> RunHandle:
        """A handle on an existing run (nothing is sent): `client.run(**handle.to_dict())` rebuilds a stored one."""
        agent, run = checked_reference(agent_id, run_id)
        return RunHandle(self, agent, run, None, attempts=0)

    def trigger_run_and_wait(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> Run | WaitTimedOut:
        """Start a run and wait for it to end: the terminal Run, or WaitTimedOut when `timeout_ms` passed.

        Each HTTP request stays under 60 s (a server window of about 50 s, then run reads with
        waitMs on the same run), so long waits survive proxies and NATs; the run is never
        triggered twice.

        Args:
            agent_id: The agent's id.
            input: The run's input, a JSON object.
            timeout_ms: How long to wait for the run, in milliseconds (default 30000).
            idempotency_key: The trigger's Idempotency-Key (default: a fresh UUID).
        """
        known: list[str] = []
        key = ops.key_for(idempotency_key)
        with noting_run(agent_id, known, key):
            return self._waits().trigger_run_and_wait(
                agent_id, input, timeout_ms=timeout_ms, idempotency_key=key, known=known
            )

    def trigger_run_and_download(
        self,
        agent_id: int,
        input: Mapping[str, Any],
        *,
        timeout_ms: int | None = None,
        idempotency_key: str | None = None,
    ) -> Download:
        """Start a run of a file agent and stream its file; use the result with `with`.

        The request is sent when the `with` block is entered; it is retried only before the
        first byte of the file.

        Args:
            agent_id: The agent's id (its outputKind must be file_download).
            input: The run's input, a JSON object.
            timeout_ms: How long to wait for the first byte, in milliseconds (default 30000).
            idempotency_key: The trigger's Idempotency-Key (default: a fresh UUID).
        """
        flow = ops.open_download(
            self._settings, agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key
        )
        return Download(lambda: self._run(flow))

    def register_run(self, agent_id: int, external_run_id: str, *, idempotency_key: str | None = None) -> RegisteredRun:
        """Register an externally triggered run; its id and a credentials token for its runtime."""
        flow = ops.register_run(self._settings, agent_id, external_run_id, idempotency_key=idempotency_key)
        return self._run(flow)

    def ingest_run(
        self,
        agent_id: int,
        external_run_id: str,
        status: RunStatus | str,
        *,
        output: Any = ops._UNSET,
        outputs: int | None = None,
        error: BaseException | str | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> IngestedRun:
        """Report the status of a standalone agent's run (created or updated by its external id).

        Args:
            agent_id: The standalone agent's id.
            external_run_id: Your id for the run.
            status: The run's status.
            output: Its output, any JSON.
            outputs: A count of output units.
            error: Why it failed: an exception (type, message and traceback are sent), a message,
                or a mapping with message, name and stack.
            idempotency_key: The Idempotency-Key (default: a fresh UUID).
        """
        flow = ops.ingest_run(
            self._settings,
            agent_id,
            external_run_id,
            status,
            output=output,
            outputs=outputs,
            error=error,
            idempotency_key=idempotency_key,
        )
        return self._run(flow)

    def get_run(self, agent_id: int, run_id: str) -> Run:
        """Read a run as it stands."""
        return self._run(ops.get_run(self._settings, agent_id, run_id))

    def cancel_run(self, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Run:
        """Cancel a run that has not ended; the cancelled Run."""
        return self._run(ops.cancel_run(self._settings, agent_id, run_id, idempotency_key=idempotency_key))

    def resume_run(
        self,
        agent_id: int,
        run_id: str,
        token_id: str,
        output: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Run:
        """Resume a run that waits on `token_id` (it reported `waiting`); the Run as it stands after.

        The platform takes the token and tells the run's runtime (a URL runtime is sent the resume
        payload, with `output` and the run's input), whose `started` moves the run back to running:
        until then the Run is still `waiting`, with `waiting` None. An extension of the seed's
        contract (`POST .../runs/{runId}/resume`).

        Args:
            agent_id: The agent's id.
            run_id: The run's id.
            token_id: The token the run waits on (`run.waiting.token_id`).
            output: What to pass on to the runtime, a JSON object (such as an approval's details);
                None sends none (the runtime sees `{}`).
            idempotency_key: The Idempotency-Key (default: a fresh UUID, the same on every retry).

        Raises:
            NotFoundError: No such run, or the run never waited on that token (`token_not_found`);
                also a platform without the endpoint (another code).
            ConflictError: The run is not waiting on that token now (`not_waiting`: resumed already,
                or it moved on), or it has ended (`run_finished`).
        """
        flow = ops.resume_run(self._settings, agent_id, run_id, token_id, output, idempotency_key=idempotency_key)
        return self._run(flow)

    def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float = 300.0) -> Run:
        """Wait for an existing run to end, long-polling in segments under 60 s; the terminal Run.

        Raises:
            WaitTimeoutError: `timeout` seconds passed first (the run may still be running).
        """
        agent, run_id = checked_reference(agent_id, run_id)
        wait_s = check.seconds(timeout, "timeout")
        with noting_run(agent, [run_id]):
            return self._waits().wait_for_run(agent, run_id, wait_s)

    def run_events(
        self, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> Iterator[RunEvent]:
        """The run's events as they happen, oldest first, until its `ended` event (with the final Run).

        Each status change (`status`), each output its runtime sends (`output`), each wait on a
        token (`waiting`), and the end (`ended`). Each request is held at most about 50 s (under
        NAT idle timeouts); a read that fails on the way (a dropped connection, a 503) is retried
        with the same cursor, so no event is lost or repeated. Stopping the iteration never cancels
        the run. On an older platform without the events endpoint, the events are inferred from run
        reads: intermediate outputs may be coalesced, and `at` is None. The arguments are checked at
        once, before anything is sent.

        Examples:
            >>> for event in client.run_events(42, run_id, timeout=600):  # doctest: +SKIP
            ...     print(event.type, event.status, event.output)

        Args:
            agent_id: The agent's id.
            run_id: The run's id.
            after: The cursor of the last event already seen (`event.cursor`, or a WaitTimeoutError's
                `cursor`): only the events after it are yielded. None: every event from the start.
            timeout: The most the whole iteration may take, in seconds (default 300).

        Raises:
            WaitTimeoutError: `timeout` passed before the run's last event; its `cursor` resumes
                the iteration (`after=exc.cursor`).
            NotFoundError: No such run (or agent).
        """
        reader = EventReader(self._settings, agent_id, run_id, after=after, timeout=timeout)
        return self._events(reader)

    def _events(self, reader: EventReader) -> Iterator[RunEvent]:
        while not reader.ended:
            yield from self._run(reader.read())
