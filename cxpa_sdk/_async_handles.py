"""The async run handle (`AsyncRunHandle`), what it asks of its client, and `as_completed`, `wait_all`.

`scripts/unasync` writes the sync twin, `_sync_handles.py`, from this file: edit this one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

from . import _config as check
from ._core import _operations as ops
from ._core._seam import AsyncSeam
from ._errors import NotFoundError, WaitTimeoutError
from ._handles import _by_run, _HandleBase, _handles, _timed_out
from .types import Run, RunEvent, RunStatus


class AsyncRunsClient(Protocol):
    """What the handle asks of its client (`AsyncCxpa`, which it never imports): the calls it makes, as made."""

    @property
    def _seam(self) -> AsyncSeam: ...

    async def get_run(self, agent_id: int, run_id: str) -> Run:
        """Read the run as it stands."""

    async def wait_for_run(self, agent_id: int, run_id: str, *, timeout: float) -> Run:
        """Wait for the run to end; the terminal Run."""

    async def cancel_run(self, agent_id: int, run_id: str) -> Run:
        """Cancel the run; the cancelled Run."""

    async def resume_run(self, agent_id: int, run_id: str, token_id: str, output: Mapping[str, Any] | None) -> Run:
        """Resume the run's token; the Run as it stands after."""

    def run_events(self, agent_id: int, run_id: str, *, after: str | None, timeout: float) -> AsyncIterator[RunEvent]:
        """The run's events until its end."""


class AsyncRunHandle(_HandleBase):
    """A run of an async client: wait for it, read it, cancel it, follow its events.

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

    def __init__(
        self, client: AsyncRunsClient, agent_id: int, run_id: str, status: RunStatus | None, **answer: Any
    ) -> None:
        super().__init__(agent_id, run_id, status, **answer)
        self._client = client

    async def refresh(self) -> Run:
        """Read the run as it stands (and remember its status)."""
        return self._seen(await self._client.get_run(self.agent_id, self.run_id))

    async def wait(self, timeout: float = 300.0) -> Run:
        """Wait up to `timeout` seconds for the run to end; the terminal Run (completed, failed or cancelled).

        Stopping the wait (its timeout, or an interrupt) never cancels the run: `cancel()` does.

        Raises:
            WaitTimeoutError: The run had not ended after `timeout` seconds (it may still be running).
        """
        return self._seen(await self._client.wait_for_run(self.agent_id, self.run_id, timeout=timeout))

    async def result(self, timeout: float = 300.0) -> Run:
        """Wait for the run (as `wait`); the Run when it completed.

        Raises:
            RunFailedError: The run failed or was cancelled (its `run` attribute is the Run).
            WaitTimeoutError: The run had not ended after `timeout` seconds.
        """
        run = await self.wait(timeout)
        return run.raise_for_status()

    async def cancel(self) -> Run:
        """Cancel the run (queued, running or waiting); the cancelled Run. ConflictError once it has ended."""
        return self._seen(await self._client.cancel_run(self.agent_id, self.run_id))

    async def resume(self, token_id: str, output: Mapping[str, Any] | None = None) -> Run:
        """Resume the run, waiting on `token_id`, with `output` for its runtime; the Run as it stands after.

        See `AsyncCxpa.resume_run`: the run stays `waiting` until its runtime reports `started`.
        """
        return self._seen(await self._client.resume_run(self.agent_id, self.run_id, token_id, output))

    def events(self, *, after: str | None = None, timeout: float = 300.0) -> AsyncIterator[RunEvent]:
        """The run's events as they happen (status changes, outputs, waits, the end), from cursor `after`.

        See `AsyncCxpa.run_events`.
        """
        return self._client.run_events(self.agent_id, self.run_id, after=after, timeout=timeout)


async def as_completed(handles: Iterable[AsyncRunHandle], *, timeout: float = 300.0) -> AsyncIterator[Run]:
    """Each run's terminal Run as it ends, first ended first, within `timeout` seconds in all.

    The waits share requests: one held request watches up to 1000 runs. On a platform without
    that endpoint the runs are waited for one after another (in the order given). Only a terminal
    Run of a run asked for is ever yielded, each run once; the iteration ends by `timeout` plus the
    waits' grace (`WAIT_GRACE_S`, 2 s) whatever the platform does. Leaving the loop early stops the
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


async def wait_all(handles: Iterable[AsyncRunHandle], *, timeout: float = 300.0) -> list[Run]:
    """Every run's terminal Run, in the order of `handles`, within `timeout` seconds in all (see `as_completed`)."""
    found = _handles(handles, AsyncRunHandle)
    ended = {(run.agent_id, run.run_id): run async for run in as_completed(found, timeout=timeout)}
    return [ended[(handle.agent_id, handle.run_id)] for handle in found]
