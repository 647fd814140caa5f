"""Waits that share connections: many runs watched by a few batched `wait_for_runs` requests.

A held run read keeps one connection of the pool for as long as the platform holds it (up to 50
s). An async client holds at most `HELD_WAITS` of those at once; every further wait joins the
client's `AsyncWaitHub` on that event loop, which watches up to 1000 runs per request with at most
`MAX_BATCHES` requests in flight, so a thousand waits use a handful of connections (the sync
`as_completed` batches the same way in its own thread: `_operations.wait_many`). A platform that
lacks the endpoint (it answers 404 for the route) gets waits run by run, as before. Imported on
an async client's first wait: asyncio loads only for async users. `SharedWaits` is the client's
wait strategy: when a wait holds a connection of its own, and when it shares.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from . import _config as check
from ._core import _operations as ops
from ._core._seam import AsyncSeam
from ._errors import CxpaError, NotFoundError, WaitTimeoutError
from ._logging import gave_up
from .types import Run, RunStatus, WaitTimedOut

if TYPE_CHECKING:
    from ._async_handles import AsyncRunHandle


class HubClient(Protocol):
    """What the shared waits ask of their client (an AsyncCxpa): its hubs, its seam, and to trigger a run."""

    _hubs: dict[asyncio.AbstractEventLoop, AsyncWaitHub]

    @property
    def _seam(self) -> AsyncSeam: ...

    async def trigger_run(
        self, agent_id: int, input: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> AsyncRunHandle: ...


HELD_WAITS = 50
"""How many waits of one async client on one loop each hold a connection (a held run read) before waits share."""

MAX_BATCHES = 4
"""The most `wait_for_runs` requests one hub keeps in flight: the connections all shared waits use."""

RESTART_AFTER_S = 0.25
"""With every batch in flight and new waits queued, the oldest batch older than this is asked again
with them (its request is dropped and sent anew), so a new wait never sits out a whole window."""

STATUS_READ_S = ops.WAIT_GRACE_S
"""The most the one status read after a shared wait gave up may take (one attempt, no retries): the waits' grace."""

Key = tuple[int, str]


class _Waiter(NamedTuple):
    future: asyncio.Future[Any]
    wait_end: float


class _Fallback:
    """What a waiter's future holds when the platform lacks `wait_for_runs`: wait run by run."""


FALLBACK = _Fallback()


def with_run_id(error: BaseException, run_id: str) -> BaseException:
    """A copy of a batch's error for one waiter, naming its run (errors pickle, so they copy)."""
    mine = copy.copy(error)
    if isinstance(mine, CxpaError) and mine.run_id is None:
        mine.run_id = run_id
    return mine


class AsyncWaitHub:
    """The shared waits of one async client on one event loop.

    Args:
        seam: The client's settings (key, deadline, base URL), and how it performs a flow on its pool
            of this loop.
    """

    def __init__(self, seam: AsyncSeam) -> None:
        self._settings = seam.settings
        self._run = seam.run
        self._waiters: dict[Key, list[_Waiter]] = {}
        self._queued: dict[Key, None] = {}  # keys no batch in flight watches, oldest first
        self._batches: dict[asyncio.Task[None], tuple[float, list[Key]]] = {}  # in flight -> (sent at, keys)
        self._in_flight: set[Key] = set()  # keys a batch in flight watches
        self._changed = asyncio.Event()
        self._scheduler: asyncio.Task[None] | None = None
        self.supported: bool | None = None  # whether the platform has wait_for_runs (None: not known yet)
        self._probe: asyncio.Future[bool] | None = None
        self.held = 0  # waits of this client holding a connection of their own
        self._floor = 0.0  # the pace of batches answered early with nothing (`ops.pace`)

    async def supports_batches(self) -> bool:
        """Whether the platform has `wait_for_runs`, asked once per hub (a request listing one made-up run).

        A platform without it answers 404 for the route; any other failure (a bad key, a network
        error) answers False this time without being remembered, so the caller's own request
        reports it.
        """
        if self.supported is not None:
            return self.supported
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._ask())
        return await asyncio.shield(self._probe)

    async def _ask(self) -> bool:
        deadline = time.monotonic() + self._settings.deadline
        try:
            await self._run(ops.wait_for_runs(self._settings, [(1, "run_probe")], wait_ms=0, deadline=deadline))
        except NotFoundError:
            self.supported = False
            return False
        except CxpaError:
            return False
        self.supported = True
        return True

    async def wait(self, agent_id: int, run_id: str, wait_end: float) -> Run | _Fallback | None:
        """The run once it ended; None when `wait_end` (a `time.monotonic()`) passed first; FALLBACK: wait alone.

        Raises:
            CxpaError: The batch request failed (after its retries), naming this run.
        """
        key = (agent_id, run_id)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(future, wait_end)
        self._waiters.setdefault(key, []).append(waiter)
        if key not in self._in_flight:
            self._queued[key] = None
        self._kick()
        try:
            async with asyncio.timeout(max(0.0, wait_end - time.monotonic())):
                result = await asyncio.shield(future)
        except TimeoutError:
            return None
        finally:
            self._leave(key, waiter)
        if isinstance(result, BaseException):
            raise with_run_id(result, run_id)
        return result  # type: ignore[no-any-return]

    def _leave(self, key: Key, waiter: _Waiter) -> None:
        waiting = self._waiters.get(key)
        if waiting is not None and waiter in waiting:
            waiting.remove(waiter)
            if not waiting:
                del self._waiters[key]
                self._queued.pop(key, None)

    def _kick(self) -> None:
        self._changed.set()
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = asyncio.get_running_loop().create_task(self._schedule())

    async def _schedule(self) -> None:
        """Send batches while waits are queued: at most MAX_BATCHES in flight, the oldest renewed to take new ones.

        A batch none of whose runs is still waited for (their waits timed out or were cancelled) is
        dropped at once, so it holds no connection for the rest of its window.
        """
        while True:
            for task, (_, keys) in list(self._batches.items()):
                if not any(key in self._waiters for key in keys):
                    task.cancel()
            if not self._waiters:
                return
            self._queued = {key: None for key in self._queued if key in self._waiters}
            if self._queued and len(self._batches) < MAX_BATCHES:
                keys = list(self._queued)[: ops.MAX_RUNS_PER_WAIT]
                for key in keys:
                    del self._queued[key]
                self._send(keys)
                continue
            if self._queued and self._batches:
                oldest, (sent, _) = min(self._batches.items(), key=lambda item: item[1][0])
                if time.monotonic() - sent >= RESTART_AFTER_S:
                    oldest.cancel()  # its keys go back to the queue; the next turn sends them with the new ones
                    await asyncio.wait([oldest])
                    continue
            self._changed.clear()
            try:
                async with asyncio.timeout(RESTART_AFTER_S):
                    await self._changed.wait()
            except TimeoutError:
                pass

    def _send(self, keys: list[Key]) -> None:
        self._in_flight.update(keys)
        task = asyncio.get_running_loop().create_task(self._batch(keys))
        self._batches[task] = (time.monotonic(), keys)

    async def _batch(self, keys: list[Key]) -> None:
        """One `wait_for_runs` request for `keys`; settle the waiters of the runs it answers for."""
        try:
            nearest = min((w.wait_end for key in keys for w in self._waiters.get(key, ())), default=time.monotonic())
            window = ops.window_ms(nearest - time.monotonic())
            sent = time.monotonic()
            deadline = ops.wait_deadline(self._settings, sent + window / 1000)
            waited: ops.Waited = await self._run(
                ops.wait_for_runs(self._settings, keys, wait_ms=window, deadline=deadline)
            )
            # No progress (nothing about these runs settled: `ops.wait_for_runs` keeps only what
            # is), early: the server did not hold it. Pause (in flight, so the scheduler does not
            # ask again at once) before these runs are asked for again.
            pause, self._floor = (
                ops.pace(self._floor, window / 1000, time.monotonic() - sent)
                if not (waited.ended or waited.missing)
                else (0.0, 0.0)
            )
            if pause > 0:
                await asyncio.sleep(pause)
        except NotFoundError:
            self.supported = False
            self._settle(keys, _always(FALLBACK))
        except CxpaError as exc:
            self._settle(keys, _always(exc))
        else:
            self.supported = True
            ended = {(run.agent_id, run.run_id): run for run in waited.ended}
            missing = {(item.agent_id, item.run_id): item.error() for item in waited.missing}
            self._settle(list(ended), ended.__getitem__)
            self._settle(list(missing), missing.__getitem__)
        finally:
            current = asyncio.current_task()
            if current is not None:
                self._batches.pop(current, None)
            self._in_flight.difference_update(keys)
            for key in keys:  # those still waited for and not settled go back to the queue
                if key in self._waiters and key not in self._queued:
                    self._queued[key] = None
            self._changed.set()

    def _settle(self, keys: Sequence[Key], result: Callable[[Key], Any]) -> None:
        for key in keys:
            for waiter in self._waiters.pop(key, []):
                if not waiter.future.done():
                    waiter.future.set_result(result(key))
            self._queued.pop(key, None)


def _always(value: Any) -> Callable[[Key], Any]:
    return lambda key: value


def hub_of(client: HubClient) -> AsyncWaitHub:
    """The shared waits of `client` on the running event loop (built on first use)."""
    loop = asyncio.get_running_loop()
    hubs = client._hubs
    hub = hubs.get(loop)
    if hub is None:
        for known in [known for known in hubs if known.is_closed()]:
            del hubs[known]
        hub = hubs[loop] = AsyncWaitHub(client._seam)
    return hub


async def shared_wait(client: HubClient, hub: AsyncWaitHub, agent_id: int, run_id: str, wait_end: float) -> Run | None:
    """The run once it ended, waiting with others on batched requests; None when `wait_end` passed first."""
    result = await hub.wait(agent_id, run_id, wait_end)
    if isinstance(result, _Fallback):  # the platform lacks wait_for_runs: wait alone, within what is left
        left = wait_end - time.monotonic()
        if left <= 0:
            return None
        try:
            seam = client._seam
            return await seam.run(ops.wait_for_run(seam.settings, agent_id, run_id, timeout=left))
        except WaitTimeoutError:
            return None
    return result


async def status_at_timeout(client: HubClient, agent_id: int, run_id: str) -> Run | None:
    """The run as it stands once a shared wait gave up; None when that read fails.

    The wait's budget is spent, so this read is one attempt of at most STATUS_READ_S: a platform
    that fails or stalls reads cannot stretch the wait past its timeout or turn it into their error.
    """
    seam = client._seam
    settings = seam.settings
    once = settings.with_changes(
        retry=settings.retry._replace(max_retries=0), deadline=min(settings.deadline, STATUS_READ_S)
    )
    try:
        return await seam.run(ops.get_run(once, agent_id, run_id))
    except CxpaError:
        return None


class SharedWaits:
    """An AsyncCxpa's wait strategy on the running event loop.

    The client's first `HELD_WAITS` waits on a loop each hold a connection (a held run read); past
    them, on a platform with `wait_for_runs`, a wait shares the hub's batched requests. Either way a
    wait ends on the platform's proof that the run ended, or on its own clock.
    """

    __slots__ = ("_client", "_hub")

    def __init__(self, client: HubClient) -> None:
        self._client = client
        self._hub = hub_of(client)

    async def trigger_run_and_wait(
        self, agent_id: int, input: Mapping[str, Any], *, timeout_ms: int | None, idempotency_key: str, known: list[str]
    ) -> Run | WaitTimedOut:
        """Trigger and wait: held on its own connection, or triggered then shared (a fan-out).

        `known` receives the run id as soon as it is known (`noting_run` names it in errors).
        """
        client, hub, seam = self._client, self._hub, self._client._seam
        if hub.held < HELD_WAITS or not await hub.supports_batches():
            flow = ops.trigger_run_and_wait(
                seam.settings, agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key, known=known
            )
            hub.held += 1
            try:
                return await seam.run(flow)
            finally:
                hub.held -= 1
        # A fan-out: more waits than this client holds connections for. Trigger, then share the wait.
        wait_ms = ops.DEFAULT_WAIT_MS if timeout_ms is None else check.milliseconds(timeout_ms, "timeout_ms")
        wait_end = time.monotonic() + wait_ms / 1000
        handle = await client.trigger_run(agent_id, input, idempotency_key=idempotency_key)
        known.append(handle.run_id)
        run = await shared_wait(client, hub, handle.agent_id, handle.run_id, wait_end)
        if run is not None:
            return run
        last = await status_at_timeout(client, handle.agent_id, handle.run_id)
        if last is None:  # unreadable now: the run as its trigger left it (a trigger answers with a status)
            return WaitTimedOut(
                handle.run_id,
                handle.status or RunStatus.QUEUED,
                request_id=handle.request_id,
                replayed=handle.replayed,
                attempts=handle.attempts,
            )
        if last.status.terminal:
            return last
        return WaitTimedOut(
            last.run_id, last.status, request_id=last.request_id, replayed=last.replayed, attempts=last.attempts
        )

    async def wait_for_run(self, agent_id: int, run_id: str, wait_s: float) -> Run:
        """Wait for a run (checked ids) to end within `wait_s` seconds; WaitTimeoutError after."""
        client, hub, seam = self._client, self._hub, self._client._seam
        wait_end = time.monotonic() + wait_s
        if hub.held < HELD_WAITS or hub.supported is False:
            hub.held += 1
            try:
                return await seam.run(ops.wait_for_run(seam.settings, agent_id, run_id, timeout=wait_s))
            finally:
                hub.held -= 1
        run = await shared_wait(client, hub, agent_id, run_id, wait_end)
        if run is not None:
            return run
        last = await status_at_timeout(client, agent_id, run_id)
        if last is not None and last.status.terminal:  # it ended as the wait gave up
            return last
        status = "unknown" if last is None else last.status.value
        raise gave_up(
            WaitTimeoutError(
                f"run {run_id} did not end within {wait_s:g} s (it is {status})", run_id=run_id, status=status
            )
        )
