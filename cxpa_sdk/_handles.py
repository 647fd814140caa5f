"""Run handles: a triggered run as an object to wait for, read, cancel and follow, sync and async.

`Cxpa.trigger_run` returns a `RunHandle` (`AsyncCxpa.trigger_run` an `AsyncRunHandle`), and
`client.run(agent_id, run_id)` rebuilds one from a stored `to_dict()` in any process. A handle
holds no connection: it is its client, the agent id and the run id. `as_completed` and `wait_all`
wait for many handles at once, sharing batched requests (`_waits`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from . import _config as check
from ._core import _operations as ops
from ._core._seam import AsyncSeam, Seam
from ._errors import InvalidArgumentTypeError, NotFoundError, WaitTimeoutError
from .types import Run, RunEvent, RunStatus, TriggeredRun


class RunsClient(Protocol):
    """What a RunHandle asks of its client (a Cxpa): the sync and async clients never import each other."""

    @property
    def _seam(self) -> Seam: ...

    def get_run(self, agent_id: int, run_id: str) -> Run: ...

    def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float = 300.0) -> Run: ...

    def cancel_run(self, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Run: ...

    def run_events(
        self, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> Iterator[RunEvent]: ...


class AsyncRunsClient(Protocol):
    """What an AsyncRunHandle asks of its client (an AsyncCxpa)."""

    @property
    def _seam(self) -> AsyncSeam: ...

    async def get_run(self, agent_id: int, run_id: str) -> Run: ...

    async def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float = 300.0) -> Run: ...

    async def cancel_run(self, agent_id: int, run_id: str, *, idempotency_key: str | None = None) -> Run: ...

    def run_events(
        self, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> AsyncIterator[RunEvent]: ...


class _HandleBase:
    """What both handles share: the run's identity, its last known status, and the trigger's answer."""

    __slots__ = ("agent_id", "attempts", "extra", "replayed", "request_id", "run_id", "status")

    agent_id: int
    run_id: str
    status: RunStatus | None
    request_id: str | None
    replayed: bool
    attempts: int
    extra: Mapping[str, Any]

    def __init__(
        self,
        agent_id: int,
        run_id: str,
        status: RunStatus | None,
        *,
        request_id: str | None = None,
        replayed: bool = False,
        attempts: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.extra = extra or {}
        self.run_id = run_id
        self.status = status
        self.request_id = request_id
        self.replayed = replayed
        self.attempts = attempts

    def to_dict(self) -> dict[str, Any]:
        """The handle as a small JSON-safe reference: `{"agent_id": ..., "run_id": ...}`.

        Store it anywhere; `client.run(**reference)` rebuilds the handle, in this process or another.
        """
        return {"agent_id": self.agent_id, "run_id": self.run_id}

    def _seen(self, run: Run) -> Run:
        self.status = run.status
        return run

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _HandleBase):
            return NotImplemented
        return (self.agent_id, self.run_id) == (other.agent_id, other.run_id)

    def __hash__(self) -> int:
        return hash((self.agent_id, self.run_id))

    def __repr__(self) -> str:
        status = None if self.status is None else self.status.value
        return f"{type(self).__name__}(agent_id={self.agent_id}, run_id={self.run_id!r}, status={status!r})"


class RunHandle(_HandleBase):
    """A run of a sync client: wait for it, read it, cancel it, follow its events.

    Attributes:
        agent_id: The run's agent.
        run_id: The run's id.
        status: The last status this handle saw (the trigger's answer, then each read); None for a
            handle rebuilt with `client.run()` before its first read.
        request_id: The X-Request-Id of the trigger's answer (None for a rebuilt handle).
        replayed: Whether the trigger's answer was an idempotent replay.
        attempts: How many attempts the trigger took.
        extra: Fields of the trigger's answer this SDK does not know (a newer platform's), by wire name.
    """

    __slots__ = ("_client",)

    def __init__(self, client: RunsClient, agent_id: int, run_id: str, status: RunStatus | None, **answer: Any) -> None:
        super().__init__(agent_id, run_id, status, **answer)
        self._client = client

    def refresh(self) -> Run:
        """Read the run as it stands (and remember its status)."""
        return self._seen(self._client.get_run(self.agent_id, self.run_id))

    def wait(self, timeout: float = 300.0) -> Run:
        """Wait up to `timeout` seconds for the run to end; the terminal Run (completed, failed or cancelled).

        Stopping the wait (a timeout, Ctrl-C) never cancels the run: `cancel()` does.

        Raises:
            WaitTimeoutError: The run had not ended after `timeout` seconds (it may still be running).
        """
        return self._seen(self._client.wait_for_run(self.agent_id, self.run_id, timeout=timeout))

    def result(self, timeout: float = 300.0) -> Run:
        """Wait for the run (as `wait`); the Run when it completed.

        Raises:
            RunFailedError: The run failed or was cancelled (its `run` attribute is the Run).
            WaitTimeoutError: The run had not ended after `timeout` seconds.
        """
        return self.wait(timeout).raise_for_status()

    def cancel(self) -> Run:
        """Cancel the run (queued, running or waiting); the cancelled Run. ConflictError once it has ended."""
        return self._seen(self._client.cancel_run(self.agent_id, self.run_id))

    def events(self, *, after: str | None = None, timeout: float = 300.0) -> Iterator[RunEvent]:
        """The run's events as they happen (status changes, outputs, waits, the end), from cursor `after`.

        See `Cxpa.run_events`.
        """
        return self._client.run_events(self.agent_id, self.run_id, after=after, timeout=timeout)


class AsyncRunHandle(_HandleBase):
    """A run of an async client: the async twin of `RunHandle`."""

    __slots__ = ("_client",)

    def __init__(
        self, client: AsyncRunsClient, agent_id: int, run_id: str, status: RunStatus | None, **answer: Any
    ) -> None:
        super().__init__(agent_id, run_id, status, **answer)
        self._client = client

    async def refresh(self) -> Run:
        """Read the run as it stands (and remember its status)."""
        return self._seen(await self._client.get_run(self.agent_id, self.run_id))

    async def wait(self, timeout: float = 300.0) -> Run:
        """Wait up to `timeout` seconds for the run to end; the terminal Run.

        Cancelling the task that waits, or a timeout, never cancels the run: `cancel()` does.

        Raises:
            WaitTimeoutError: The run had not ended after `timeout` seconds (it may still be running).
        """
        return self._seen(await self._client.wait_for_run(self.agent_id, self.run_id, timeout=timeout))

    async def result(self, timeout: float = 300.0) -> Run:
        """Wait for the run (as `wait`); the Run when it completed. RunFailedError when it failed or was cancelled."""
        return (await self.wait(timeout)).raise_for_status()

    async def cancel(self) -> Run:
        """Cancel the run; the cancelled Run. ConflictError once it has ended."""
        return self._seen(await self._client.cancel_run(self.agent_id, self.run_id))

    def events(self, *, after: str | None = None, timeout: float = 300.0) -> AsyncIterator[RunEvent]:
        """The run's events as they happen, from cursor `after` (see `AsyncCxpa.run_events`)."""
        return self._client.run_events(self.agent_id, self.run_id, after=after, timeout=timeout)


@contextmanager
def noting_run(agent_id: int, known: Sequence[str], idempotency_key: str | None = None) -> Iterator[None]:
    """On an interrupt or a cancelled task while waiting, a note on it naming the run that goes on.

    KeyboardInterrupt and asyncio.CancelledError carry no run id; the note (shown under the
    traceback) says which run is still running and how to wait for it again, or, before the
    platform named the run, which Idempotency-Key asks for the same run again. CxpaErrors name
    their run themselves (`run_id`).
    """
    try:
        yield
    except BaseException as stop:
        asyncio = sys.modules.get("asyncio")  # a task can only be cancelled where asyncio is loaded
        if not (
            isinstance(stop, KeyboardInterrupt) or (asyncio is not None and isinstance(stop, asyncio.CancelledError))
        ):
            raise
        if known:
            stop.add_note(
                f"run {known[-1]} of agent {agent_id} goes on (stopping a wait never cancels a run): wait for it "
                f"again with client.run({agent_id}, {known[-1]!r}).wait()"
            )
        elif idempotency_key is not None:
            stop.add_note(
                f"the run's id was not known yet (the platform names it when it answers); the same call, with the "
                f"same arguments and idempotency_key={idempotency_key!r}, gets that run rather than starting another"
            )
        raise


def trigger_answer(triggered: TriggeredRun) -> dict[str, Any]:
    """What a handle keeps of the trigger's answer: `RunHandle(client, agent_id, run_id, status, **it)`."""
    return {
        "request_id": triggered.request_id,
        "replayed": triggered.replayed,
        "attempts": triggered.attempts,
        "extra": triggered.extra,
    }


def checked_reference(agent_id: object, run_id: object) -> tuple[int, str]:
    """A handle's agent id and run id, checked as every call checks them."""
    return check.agent_id(agent_id), check.run_id(run_id)


def _handles(handles: Iterable[Any], kind: type[_HandleBase]) -> list[Any]:
    found = list(handles)
    for handle in found:
        if not isinstance(handle, kind):
            raise InvalidArgumentTypeError(f"expected {kind.__name__} objects, not {type(handle).__name__}")
    return found


def _by_run(handles: Iterable[Any]) -> dict[tuple[int, str], Any]:
    """The handles by their run, in the order given (a run handed in twice is waited for once)."""
    return {(handle.agent_id, handle.run_id): handle for handle in handles}


def _timed_out(pending: Mapping[tuple[int, str], _HandleBase], timeout: float) -> WaitTimeoutError:
    """The error of an `as_completed` whose clock ran out: it names every run still going, in `pending`."""
    first = next(iter(pending.values()))
    names = ", ".join(handle.run_id for handle in list(pending.values())[:5])
    more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
    status = "unknown" if first.status is None else first.status.value
    return WaitTimeoutError(
        f"{len(pending)} run(s) did not end within {timeout:g} s: {names}{more}",
        run_id=first.run_id,
        status=status,
        pending=tuple(pending),
    )


def as_completed(handles: Iterable[RunHandle], *, timeout: float = 300.0) -> Iterator[Run]:
    """Each run's terminal Run as it ends, first ended first, within `timeout` seconds in all.

    The waits share requests: one held request watches up to 1000 runs. On a platform without
    that endpoint the runs are waited for one after another (in the order given). Only a terminal
    Run of a run asked for is ever yielded, each run once; the iteration ends by `timeout` plus the
    waits' grace (`WAIT_GRACE_S`, 2 s) whatever the platform does.

    Raises:
        WaitTimeoutError: `timeout` passed with runs still going: its `pending` lists every one of
            them as `(agent_id, run_id)` (none is cancelled).
        NotFoundError, PermissionDeniedError: A run the platform could not read.
    """
    pending = _by_run(_handles(handles, RunHandle))
    wait_s = check.seconds(timeout, "timeout")
    wait_end = time.monotonic() + wait_s
    floor = 0.0
    while pending:
        if time.monotonic() >= wait_end:
            raise _timed_out(pending, wait_s)
        by_client: dict[int, list[RunHandle]] = {}
        for handle in pending.values():
            by_client.setdefault(id(handle._client), []).append(handle)
        for group in by_client.values():
            client = group[0]._client
            keys = [(handle.agent_id, handle.run_id) for handle in group]
            end = wait_end if len(by_client) == 1 else min(wait_end, time.monotonic() + 1.0)
            try:
                seam = client._seam
                ended, floor = seam.run(ops.wait_many(seam.settings, keys, wait_end=end, floor=floor))
            except NotFoundError:
                # An older platform without wait_for_runs (a run it can't find is in the answer's
                # `missing`, not a 404): wait run by run, within what is left.
                for handle in group:
                    try:
                        run = handle.wait(max(0.001, wait_end - time.monotonic()))
                    except WaitTimeoutError:
                        raise _timed_out(pending, wait_s) from None
                    del pending[(handle.agent_id, handle.run_id)]
                    yield run
                continue
            for item in ended:  # each about a run of `keys`, once (`ops.wait_for_runs`)
                if isinstance(item, BaseException):
                    raise item
                yield pending.pop((item.agent_id, item.run_id))._seen(item)


def wait_all(handles: Iterable[RunHandle], *, timeout: float = 300.0) -> list[Run]:
    """Every run's terminal Run, in the order of `handles`, within `timeout` seconds in all (see `as_completed`)."""
    found = _handles(handles, RunHandle)
    ended = {(run.agent_id, run.run_id): run for run in as_completed(found, timeout=timeout)}
    return [ended[(handle.agent_id, handle.run_id)] for handle in found]


async def async_as_completed(handles: Iterable[AsyncRunHandle], *, timeout: float = 300.0) -> AsyncIterator[Run]:
    """Each run's terminal Run as it ends, first ended first, within `timeout` seconds in all: the async `as_completed`.

    The same algorithm as `as_completed`, awaited: one held request watches up to 1000 runs; on a
    platform without that endpoint the runs are waited for one after another (in the order given).
    Only a terminal Run of a run asked for is ever yielded, each run once; the iteration ends by
    `timeout` plus the waits' grace whatever the platform does. Leaving the loop early stops the
    waiting (never the runs).

    Raises:
        WaitTimeoutError: `timeout` passed with runs still going: its `pending` lists every one of
            them as `(agent_id, run_id)` (none is cancelled).
        NotFoundError, PermissionDeniedError: A run the platform could not read.
    """
    pending = _by_run(_handles(handles, AsyncRunHandle))
    wait_s = check.seconds(timeout, "timeout")
    wait_end = time.monotonic() + wait_s
    floor = 0.0
    while pending:
        if time.monotonic() >= wait_end:
            raise _timed_out(pending, wait_s)
        by_client: dict[int, list[AsyncRunHandle]] = {}
        for handle in pending.values():
            by_client.setdefault(id(handle._client), []).append(handle)
        for group in by_client.values():
            client = group[0]._client
            keys = [(handle.agent_id, handle.run_id) for handle in group]
            end = wait_end if len(by_client) == 1 else min(wait_end, time.monotonic() + 1.0)
            try:
                seam = client._seam
                ended, floor = await seam.run(ops.wait_many(seam.settings, keys, wait_end=end, floor=floor))
            except NotFoundError:
                # An older platform without wait_for_runs (a run it can't find is in the answer's
                # `missing`, not a 404): wait run by run, within what is left.
                for handle in group:
                    try:
                        run = await handle.wait(max(0.001, wait_end - time.monotonic()))
                    except WaitTimeoutError:
                        raise _timed_out(pending, wait_s) from None
                    del pending[(handle.agent_id, handle.run_id)]
                    yield run
                continue
            for item in ended:  # each about a run of `keys`, once (`ops.wait_for_runs`)
                if isinstance(item, BaseException):
                    raise item
                yield pending.pop((item.agent_id, item.run_id))._seen(item)


async def async_wait_all(handles: Iterable[AsyncRunHandle], *, timeout: float = 300.0) -> list[Run]:
    """Every run's terminal Run, in the order of `handles`, within `timeout` seconds in all."""
    found = _handles(handles, AsyncRunHandle)
    ended = {(run.agent_id, run.run_id): run async for run in async_as_completed(found, timeout=timeout)}
    return [ended[(handle.agent_id, handle.run_id)] for handle in found]
