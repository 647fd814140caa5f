"""A job over many items (sync): triggered in batches, waited for in batches, journaled when asked.

Written by `scripts/unasync` from `_async_job.py`: edit that file, not this one.

Memory does not grow with the iterable: a job reads at most one batch ahead, holds at most
`max_pending` runs it waits for, and keeps nothing of an item once its result is handed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .. import _config as check
from .._core import _batch as batch
from .._core import _operations as ops
from .._core._engine import new_idempotency_key
from .._core._seam import Seam
from .._errors import (
    AuthenticationError,
    CxpaError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    WaitTimeoutError,
)
from .._logging import gave_up, logger
from ..types import Run, RunStatus, TriggeredRun
from ._items import FinishedItem, Item, Items, TriggeredItem, read_item
from ._journal import Journal, Recorded

MAX_JOB_LENGTH = 1024

FATAL = (AuthenticationError, PermissionDeniedError)
"""Errors about every item alike (the key is wrong or may not act on the agent): they end the job."""


class Outcome(NamedTuple):
    """What triggering one item came to: its run (id; the trigger's answer or the ended run journaled), or an error."""

    item: Item
    run_id: str | None = None
    triggered: TriggeredRun | None = None
    ended: Mapping[str, Any] | None = None
    error: CxpaError | None = None


class Job:
    """The items of one job, read in batches and triggered: each batch in one request where the platform can.

    Args:
        seam: The client's seam.
        agent_id: The agent every item runs.
        items: The inputs, or `(item_key, input)` pairs; read lazily, once.
        job: The job's name: with it (or a journal), each item's Idempotency-Key is derived from the
            agent, the job and the item's key, so a rerun never triggers an item twice.
        journal: A SQLite file recording the job (see `Journal`), or None.
        batch_size: The most items per request (1 to 1000).
    """

    def __init__(
        self,
        seam: Seam,
        agent_id: int,
        items: Items,
        *,
        job: str | None,
        journal: str | Path | None,
        batch_size: int,
    ) -> None:
        self.agent_id = check.agent_id(agent_id)
        if job is not None:
            check.text(job, "job", MAX_JOB_LENGTH)
        self.batch_size = check.positive_int(batch_size, "batch_size", batch.MAX_BATCH_ITEMS)
        self._seam = seam
        self._source = iter(items)
        self.journal = None if journal is None else Journal(journal, agent_id=self.agent_id, job=job)
        self.job = job if self.journal is None else self.journal.job
        self.done = False
        self._read = 0
        self._batches = True  # until the platform answers 404: it lacks trigger_runs_batch

    def close(self) -> None:
        """Close the journal."""
        if self.journal is not None:
            self.journal.close()

    def next_items(self, limit: int) -> list[Item]:
        """Up to `limit` items (fewer at the end, or when their bodies fill a request)."""
        items: list[Item] = []
        size = 0
        while len(items) < min(limit, self.batch_size) and size <= batch.MAX_BATCH_BYTES - check.MAX_BODY_BYTES:
            try:
                element = next(self._source)
            except StopIteration:
                self.done = True
                break
            item = read_item(self._read, element)
            self._read += 1
            items.append(item)
            size += len(item.body) + 100
        return items

    def _key(self, item: Item) -> str:
        """The item's Idempotency-Key: derived from the job and the item's key, or fresh without a job."""
        if self.job is None:
            return new_idempotency_key()
        return batch.item_idempotency_key(self.agent_id, self.job, item.key)

    def trigger(self, items: list[Item]) -> list[Outcome]:
        """Trigger the items (none twice): each one's outcome, in their order."""
        outcomes: dict[int, Outcome] = {}
        to_send: dict[str, Item] = {}  # by Idempotency-Key
        keys: dict[str, int] = {}
        for item in items:
            if item.error is not None:
                outcomes[item.position] = Outcome(item, error=item.error)
            elif item.key in keys:
                error = InvalidArgumentError(f"item {item.position}: key {item.key!r} is item {keys[item.key]}'s too")
                outcomes[item.position] = Outcome(item, error=error)
            else:
                keys[item.key] = item.position
                to_send[self._key(item)] = item
        if self.journal is not None:
            recorded = self.journal.recorded([item.key for item in to_send.values()])
            for key, item in list(to_send.items()):
                if (seen := recorded.get(item.key, Recorded(None, None))).run_id is not None:
                    outcomes[item.position] = Outcome(item, run_id=seen.run_id, ended=seen.run)
                    del to_send[key]
            self.journal.sending(item.key for item in to_send.values())
        for key, answer in (self._send(to_send)).items():
            item = to_send[key]
            if isinstance(answer, TriggeredRun):
                outcomes[item.position] = Outcome(item, run_id=answer.run_id, triggered=answer)
            else:
                outcomes[item.position] = Outcome(item, error=answer)
        if self.journal is not None:
            runs = [(o.item.key, o.run_id) for o in outcomes.values() if o.triggered is not None and o.run_id]
            self.journal.triggered(runs)
        return [outcomes[item.position] for item in items]

    def _send(self, to_send: dict[str, Item]) -> dict[str, TriggeredRun | CxpaError]:
        """Each item's answer by its key: in one batch request where the platform has it, else one by one."""
        answers: dict[str, TriggeredRun | CxpaError] = {}
        if to_send and self._batches:
            sent = [batch.BatchItem(key, item.body) for key, item in to_send.items()]
            try:
                answers.update(self._seam.run(batch.trigger_batch(self._seam.settings, self.agent_id, sent)))
            except FATAL:
                raise
            except NotFoundError as exc:
                if exc.code == "agent_not_found":
                    return dict.fromkeys(to_send, exc)
                self._batches = False
                logger.info("the platform has no batch triggers (404): triggering item by item")
            except CxpaError as exc:  # no answer, or an error of the whole request: every item has it
                return dict.fromkeys(to_send, exc)
        for key, item in to_send.items():
            answer = answers.get(key)
            if answer is None or (isinstance(answer, CxpaError) and batch.retryable(answer)):
                try:
                    answers[key] = self._seam.run(
                        ops.trigger_run(self._seam.settings, self.agent_id, item.input, idempotency_key=key)
                    )
                except FATAL:
                    raise
                except CxpaError as exc:
                    answers[key] = exc
        return answers


class _Waiting(NamedTuple):
    """An item whose run is going: its place and key, and when its wait gives up (`settings.clock()`)."""

    position: int
    key: str
    wait_end: float


def trigger_many(
    job: Job, handle: Callable[[str, RunStatus | None, TriggeredRun | None], Any]
) -> Iterator[TriggeredItem[Any]]:
    """Each item's handle (made by `handle(run_id, status, triggered)`) or error, in the items' order."""
    try:
        while not job.done:
            for outcome in job.trigger(job.next_items(job.batch_size)):
                item = outcome.item
                if outcome.run_id is None:
                    yield TriggeredItem(item.position, item.key, None, outcome.error)
                    continue
                status = outcome.triggered.status if outcome.triggered else None
                if outcome.ended is not None:
                    status = RunStatus(outcome.ended["status"])
                yield TriggeredItem(item.position, item.key, handle(outcome.run_id, status, outcome.triggered))
    finally:
        job.close()


def run_many(job: Job, *, max_pending: int, item_timeout: float) -> Iterator[FinishedItem]:
    """Each item's ended run or error, as they come; at most `max_pending` runs waited for at once."""
    settings = job._seam.settings
    pending: dict[str, list[_Waiting]] = {}
    waiting = 0
    floor = 0.0
    try:
        while not job.done or pending:
            while not job.done and waiting < max_pending:
                for outcome in job.trigger(job.next_items(max_pending - waiting)):
                    item = outcome.item
                    if outcome.run_id is None:
                        yield FinishedItem(item.position, item.key, None, outcome.error)
                    elif outcome.ended is not None:
                        yield FinishedItem(item.position, item.key, Run.from_dict(outcome.ended), run_id=outcome.run_id)
                    else:
                        end = settings.clock() + item_timeout
                        pending.setdefault(outcome.run_id, []).append(_Waiting(item.position, item.key, end))
                        waiting += 1
            if not pending:
                continue
            hold = job.done or waiting >= max_pending
            finished, floor = _wait_round(job, pending, hold=hold, floor=floor, item_timeout=item_timeout)
            if hold:
                job._seam.run(batch.linger(len(finished), waiting))
            for w, run, failure in finished:
                waiting -= 1
                run_id = run.run_id if run is not None else failure.run_id if failure is not None else None
                yield FinishedItem(w.position, w.key, run, failure, run_id=run_id)
    finally:
        job.close()


Finished = list[tuple[_Waiting, Run | None, CxpaError | None]]


def _wait_round(
    job: Job, pending: dict[str, list[_Waiting]], *, hold: bool, floor: float, item_timeout: float
) -> tuple[Finished, float]:
    """One round of waiting: what ended (taken out of `pending` and journaled), and the new pacing floor.

    Held (`hold`) until a run ends or the soonest item's wait ends (at most the server's window);
    not held while there are items left to trigger. A run whose item's wait ran out is a
    WaitTimeoutError naming the run (which goes on).
    """
    seam = job._seam
    settings = seam.settings
    soonest = min(w.wait_end for group in pending.values() for w in group)
    wait_end = min(soonest, settings.clock() + ops.SERVER_WINDOW_MS / 1000) if hold else settings.clock()
    keys = [(job.agent_id, run_id) for run_id in pending]
    try:
        ended, floor = seam.run(ops.wait_many(settings, keys, wait_end=wait_end, floor=floor))
    except NotFoundError:  # an older platform without wait_for_runs: wait run by run
        ended = [_wait_one(seam, job.agent_id, run_id, pending[run_id]) for run_id in list(pending)]
    finished: Finished = []
    for found in ended:
        if isinstance(found, Run):
            finished.extend((w, found, None) for w in pending.pop(found.run_id, []))
        elif found.run_id is not None:
            finished.extend((w, None, found) for w in pending.pop(found.run_id, []))
    now = settings.clock()
    for run_id in [run_id for run_id, group in pending.items() if min(w.wait_end for w in group) <= now]:
        error = gave_up(
            WaitTimeoutError(f"run {run_id} did not end within {item_timeout:g} s", run_id=run_id, status="unknown")
        )
        finished.extend((w, None, error) for w in pending.pop(run_id))
    if job.journal is not None:
        job.journal.ended((w.key, run.to_dict()) for w, run, _ in finished if run is not None)
    return finished, floor


def _wait_one(seam: Seam, agent_id: int, run_id: str, group: list[_Waiting]) -> Run | CxpaError:
    """One run's end, waited for on its own (a platform without wait_for_runs), or the wait's error."""
    left = max(0.001, min(w.wait_end for w in group) - seam.settings.clock())
    try:
        return seam.run(ops.wait_for_run(seam.settings, agent_id, run_id, timeout=left))
    except CxpaError as exc:
        exc.run_id = exc.run_id or run_id
        return exc
