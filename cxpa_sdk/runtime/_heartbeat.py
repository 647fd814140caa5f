"""The runtime host's heartbeat: one task per host that keeps the leases of its quiet runs (the lease extension).

Every run holds the host's lease from the 202 that took its trigger or its resume (queued behind a
limit or not) and asks for it again with its `started`; while it holds one, the platform fails it
`RuntimeLost` if no callback arrives within the lease, which is how a host killed outright (SIGKILL,
the OOM killer) is noticed. Every lease/3 seconds the task sends a `heartbeat` for each working or
queued run that has not reported within that interval, on the host's shared pool, a few at a time
(a heartbeat is no report of the run's own: a silent run gets one at every beat). Its answer is a
callback's: a cancelled or ended run is stopped as a cancel delivery stops it; a platform that
refuses heartbeats (an older one) gets none from this host again; anything else (no answer, a slow
or garbled one) is logged and tried again at the next beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping

from .._errors import APIStatusError, ConflictError, CxpaError, NotFoundError, RunCancelledError
from .._logging import logger
from .._runtime._agent import AsyncAgentClient
from ._clients import RunClients
from ._state import RunState

DEFAULT_LEASE_S = 60
BEATS_PER_LEASE = 3  # heartbeats a quiet run gets within its lease: two may be lost before it lapses
CONCURRENT_BEATS = 8  # heartbeats in flight at once, for the whole host
TICK_SLACK = 0.1  # of an interval: a run that reported this little after the last beat began is quiet now
# The statuses with which a platform says it has no leases: it does not know the event (400), or a
# gateway in front of it does not know the route or method (404 of no run, 405, 501).
REFUSALS = frozenset({400, 404, 405, 501})


def refused(error: APIStatusError) -> bool:
    """Whether a heartbeat's error answer says the platform has no leases (not: the run is unknown)."""
    if isinstance(error, NotFoundError) and error.code == "run_not_found":
        return False
    return error.status_code in REFUSALS


class Heartbeat:
    """The host's one heartbeat task over its runs (`runs`: the host's own map, read on the serving loop)."""

    def __init__(self, runs: Mapping[str, RunState]) -> None:
        self._runs = runs
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Heartbeat(running={self._task is not None and not self._task.done()})"

    def start(self, clients: RunClients) -> None:
        """Start the task (on the serving loop) unless it runs, or runs hold no lease."""
        if clients.lease_seconds is None or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.get_running_loop().create_task(self._beat(clients), name="cxpa-runtime-heartbeat")

    async def stop(self) -> None:
        """Stop the task (the host shuts down)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self, clients: RunClients) -> None:
        slots = asyncio.Semaphore(CONCURRENT_BEATS)
        while (lease := clients.lease_seconds) is not None:
            interval = lease / BEATS_PER_LEASE
            began = time.monotonic()
            since = began - interval * (1 - TICK_SLACK)  # a run that reported just after the last tick is quiet too
            quiet = [state for state in list(self._runs.values()) if _quiet(state, since)]
            if quiet:
                await asyncio.gather(*(self._renew(state, clients, slots, interval) for state in quiet))
            await asyncio.sleep(max(0.0, began + interval - time.monotonic()))

    async def _renew(self, state: RunState, clients: RunClients, slots: asyncio.Semaphore, interval: float) -> None:
        """Send one run's heartbeat and act on its answer; never raises (the task goes on for the other runs)."""
        async with slots:
            if state.lease is None or state.waiting() or state.was_cancelled() or clients.lease_seconds is None:
                return  # it changed while waiting for a slot
            try:
                client = clients.for_async(state.payload, deadline=max(interval, 1.0), max_retries=1)
            except CxpaError as exc:
                logger.warning("run %s: no heartbeat can be sent: %s", state.run_id, exc)
                return
            try:
                await _send(client, state, clients)
            except Exception:  # a bug must not stop every run's heartbeat
                logger.exception("run %s: a heartbeat failed", state.run_id)
            finally:
                await client.aclose()


async def _send(client: AsyncAgentClient, state: RunState, clients: RunClients) -> None:
    """One heartbeat: a cancelled or ended run is stopped, a refusal ends the host's leases, the rest is logged."""
    try:
        answer = await client.heartbeat()
    except RunCancelledError:
        logger.info("run %s was cancelled (a heartbeat's answer): its function is stopped", state.run_id)
        state.cancel()
    except ConflictError as exc:
        if exc.code == "run_finished":
            logger.warning("run %s has ended on the platform (%s): its function is stopped", state.run_id, exc)
            state.cancel()
        else:
            logger.info("run %s: a heartbeat was refused: %s", state.run_id, exc)
    except APIStatusError as exc:
        if refused(exc):
            clients.refuse_lease()
        else:
            logger.info("run %s: a heartbeat was not taken: %s", state.run_id, exc)
    except CxpaError as exc:  # no answer, a late or garbled one: the next beat tries again
        logger.info("run %s: a heartbeat got no usable answer: %s", state.run_id, exc)
    else:  # not a report of the run's own: a silent run gets a heartbeat at every beat
        if answer.status.terminal:
            logger.info("run %s is %s (a heartbeat's answer): its function is stopped", state.run_id, answer.status)
            state.cancel()


def _quiet(state: RunState, since: float) -> bool:
    """Whether a working or queued run holds a lease and has not reported since `since` (a monotonic time)."""
    return state.lease is not None and state.reported_at <= since and not state.waiting() and not state.was_cancelled()
