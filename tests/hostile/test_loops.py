"""Event loops: one AsyncCxpa works on successive loops and on loops in several threads; a brought one refuses.

Each test has a sync twin for the same sharing pattern (one Cxpa on successive or concurrent
threads), which must simply work. Every thread is joined with a timeout and every async call is
under `asyncio.wait_for`, so a client stuck on another loop's lock fails the test instead of hanging.
"""

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from hostile.hostile_server import KEY, TRIGGERED, HostileServer, backend, both, no_brought_backend, send

from cxpa_sdk import AsyncCxpa, Cxpa, CxpaError

CALL_S = 3.0
JOIN_S = 10.0


@dataclass(frozen=True)
class Failed:
    """A call that raised: whether it was a CxpaError, and what it said (the exception itself is not kept)."""

    cxpa: bool
    text: str


def in_threads(*functions: Callable[[], Any]) -> list[Any]:
    """Run each function in its own thread at once; each one's result, or a Failed, after a bounded join."""
    results: list[Any] = [None] * len(functions)
    barrier = threading.Barrier(len(functions), timeout=JOIN_S)

    def run(index: int, function: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:
            results[index] = Failed(isinstance(exc, CxpaError), f"{type(exc).__module__}.{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in enumerate(functions)]
    for thread in threads:
        thread.start()
    end = time.monotonic() + JOIN_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {len(threads)} threads still running after {JOIN_S:g} s"
    return results


async def bounded(awaitable: Any) -> Any:
    """Await a call for at most CALL_S seconds."""
    try:
        return await asyncio.wait_for(awaitable, CALL_S)
    except TimeoutError:
        raise TimeoutError(f"the call did not end within {CALL_S:g} s") from None


def triggers(client: Any, count: int) -> Callable[[], list[str]]:
    """A function making `count` trigger_run calls on `client` (async: on a new event loop); their run ids."""
    if isinstance(client, Cxpa):
        return lambda: [client.trigger_run(1, {}).run_id for _ in range(count)]

    async def calls() -> list[str]:
        return [(await bounded(client.trigger_run(1, {}))).run_id for _ in range(count)]

    return lambda: asyncio.run(calls())


def closer(thing: Any) -> Callable[[], None]:
    """A function closing a client or an httpx client of either kind (async: on a new event loop)."""
    if isinstance(thing, Cxpa | httpx2.Client):
        return thing.close
    return lambda: asyncio.run(asyncio.wait_for(thing.aclose(), CALL_S))


Stage = tuple[int, int] | Callable[[Any], tuple[Callable[[], Any], ...]]


def run_stage(client: Any, stage: Stage) -> tuple[list[Any], float]:
    """One stage of `stages`: the threads' results, and how long the stage took."""
    started = time.monotonic()
    functions = stage(client) if callable(stage) else [triggers(client, stage[1])] * stage[0]
    return in_threads(*functions), time.monotonic() - started


def stages(mode: str, *plan: Stage, brought: bool = False) -> tuple[list[tuple[list[Any], float]], int]:
    """One client used in stages, each run in threads at once; per stage the threads' results and the seconds.

    A stage is (threads, calls per thread), or a function making the threads' functions from the
    client. Also returns how many requests the server received.

    A connection opened on an event loop that has ended can't be closed any more: it is dropped,
    and Python warns (ResourceWarning) when it is collected. That is no broken promise here, so
    ResourceWarnings are ignored, and the client is collected before returning, so that none is
    reported by a later test.
    """
    if brought:
        no_brought_backend(mode)
    done: list[tuple[list[Any], float]] = []
    with warnings.catch_warnings(), HostileServer(send(TRIGGERED, keep_alive=True)) as server:
        warnings.simplefilter("ignore", ResourceWarning)
        options: dict[str, Any] = {"base_url": server.base_url, "ingest_api_key": KEY, "max_retries": 0}
        options.update(backend(mode))
        http: Any = None
        if brought:
            http = options["http_client"] = httpx2.Client() if mode == "sync" else httpx2.AsyncClient()
        client: Any = (Cxpa if mode == "sync" else AsyncCxpa)(deadline=CALL_S, **options)
        try:
            done += [run_stage(client, stage) for stage in plan]
        finally:
            in_threads(closer(client))
            if http is not None:
                in_threads(closer(http))
            del client, http, options
            gc.collect()
    return done, server.count


def succeeded(results: list[Any], expected: list[str]) -> None:
    """Assert every thread returned the `expected` run ids."""
    failed = [f"thread {n}: {result.text}" for n, result in enumerate(results) if isinstance(result, Failed)]
    assert not failed, "calls failed: " + "; ".join(failed)
    assert results == [expected] * len(results)


@both
def test_one_client_works_on_successive_event_loops(mode: str) -> None:
    """Event loops: one AsyncCxpa serves two successive asyncio.run() (sync: one Cxpa, two successive threads)."""
    (first, _), (second, _) = stages(mode, (1, 3), (1, 3))[0]
    succeeded(first, ["run_1"] * 3)
    succeeded(second, ["run_1"] * 3)


def taking_turns(client: Any) -> tuple[Callable[[], list[str]], ...]:
    """Two functions for two threads that call `client` in turns, each thread's event loop alive throughout.

    The first calls, then the second calls while the first waits (in a worker thread: its loop
    runs on), and so on: so each loop meets the connections the other one opened.
    """
    turns = [threading.Event(), threading.Event()]
    finished = [threading.Event(), threading.Event()]

    def wait_for_turn(theirs: int) -> None:
        if not turns[theirs].wait(CALL_S + 1):
            raise TimeoutError("the other thread never took its turn")
        if not finished[theirs].is_set():  # once the other thread has ended, its turn stays given
            turns[theirs].clear()

    def turn(mine: int, calls: int = 3) -> Callable[[], list[str]]:
        theirs = 1 - mine

        def sync_turns() -> list[str]:
            found = []
            try:
                for _ in range(calls):
                    if mine == 1:
                        wait_for_turn(theirs)
                    found.append(client.trigger_run(1, {}).run_id)
                    turns[mine].set()
                    if mine == 0:
                        wait_for_turn(theirs)
            finally:
                finished[mine].set()  # an ended (or failed) thread lets the other one go on
                turns[mine].set()
            return found

        async def async_turns() -> list[str]:
            found = []
            try:
                for _ in range(calls):
                    if mine == 1:
                        await asyncio.to_thread(wait_for_turn, theirs)
                    found.append((await bounded(client.trigger_run(1, {}))).run_id)
                    turns[mine].set()
                    if mine == 0:
                        await asyncio.to_thread(wait_for_turn, theirs)
            finally:
                finished[mine].set()
                turns[mine].set()
            return found

        return sync_turns if isinstance(client, Cxpa) else lambda: asyncio.run(async_turns())

    return turn(0), turn(1)


@both
def test_one_client_works_on_two_threads_at_once(mode: str) -> None:
    """Event loops: two threads, each with its own event loop, share one AsyncCxpa and both succeed in time."""
    [(results, _)], count = stages(mode, taking_turns)
    succeeded(results, ["run_1"] * 3)
    assert count == 6


@both
def test_a_brought_http_client_on_a_second_loop_is_refused(mode: str) -> None:
    """Event loops: an AsyncCxpa on a brought httpx2.AsyncClient raises a CxpaError at once on a second loop."""
    (first, _), ([second], elapsed) = stages(mode, (1, 1), (1, 1), brought=True)[0]
    succeeded(first, ["run_1"])
    if mode == "sync":  # a sync client has no loop: another thread just works
        succeeded([second], ["run_1"])
        return
    assert isinstance(second, Failed), f"the second loop's call returned {second!r}"
    assert second.cxpa, f"expected a CxpaError, got {second.text}"
    assert elapsed < 1.0, f"the refusal took {elapsed:.2f} s"
