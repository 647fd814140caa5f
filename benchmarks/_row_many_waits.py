"""Row 10: N concurrent `trigger_run_and_wait` calls on one AsyncCxpa, on real runs of 10 to 60 s.

The local platform (cxpa_sdk.testing.LocalPlatform, served by `benchmarks._platform_child` in its
own process, a runtime thread for every run in flight) runs each call as the built-in `slow` agent
(2), which sleeps `input.seconds` on its thread; the run lengths are spread evenly from the shortest
to the longest, call i getting the i-th (so the longest runs start last). The SDK side is ONE
`AsyncCxpa` per backend starting all N calls at once with a plain asyncio.gather: it holds at most
HELD_WAITS (50) waits on connections of their own and shares the others on batched `wait_for_runs`
requests. The raw side is an httpx2.AsyncClient with the SDK's pool limits (100 connections) and no
pool timeout, doing what a careful hand-written client does: POST trigger-and-wait with timeoutMs
50000, then, on 202, GET the run with waitMs=50000 until it ends. Each held request keeps a
connection, so its calls queue for connections and its wall time grows with the sum of the run
lengths / 100. Each side talks through a counting TCP relay (`benchmarks._relay`) that records the
most connections the client had open at once. Each side is bounded at 4 x the goal's wall time:
calls unfinished then are cancelled and counted as errors. One measurement a side (the full scale
takes minutes); errors (exceptions, a WaitTimedOut, a run that did not complete) are counted.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx2

from benchmarks._common import API_KEY, encode, raw_async_client, raw_headers
from benchmarks._platform_child import platform_in_process
from benchmarks._relay import counting_relay
from benchmarks._result import RowResult, Scale, failed_row
from cxpa_sdk import AsyncCxpa
from cxpa_sdk._http._transport import DEFAULT_LIMITS, POOL_SIZE
from cxpa_sdk._waits import HELD_WAITS, MAX_BATCHES
from cxpa_sdk.testing import SLOW

GOAL_FACTOR = 1.2  # the wall time's goal: within 1.2 x the longest run
BOUND_FACTOR = 4  # a side still running at 4 x the goal's wall time is stopped
TIMEOUT_FACTOR = 3  # each SDK call's timeout_ms: 3 x the longest run
RAW_WINDOW_MS = 50_000  # the raw side's trigger-and-wait timeoutMs and run read waitMs: under 60 s a request
RAW_TIMEOUT = httpx2.Timeout(connect=5.0, read=60.0, write=60.0, pool=None)  # no pool timeout: calls queue
TERMINAL = frozenset({"completed", "failed", "cancelled"})
BACKENDS = ("httpx2", "aiohttp")
SPARE_WORKERS = 100  # runtime threads beyond one per call
MAX_ERROR_TEXTS = 5

One = Callable[[int, float], Awaitable[None]]


@dataclass
class Side:
    """One side's measurement: its wall time, errors, calls stopped at the bound, and its connections."""

    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    stopped: int = 0  # calls unfinished at the bound (also counted in errors)
    most_open: int = 0
    opened: int = 0


def lengths(scale: Scale) -> list[float]:
    """The run lengths in seconds, spread evenly from `many_min_s` to `many_max_s` over the calls."""
    calls, low, high = scale.many_calls, scale.many_min_s, scale.many_max_s
    if calls == 1:
        return [high]
    return [low + (high - low) * i / (calls - 1) for i in range(calls)]


def goal_seconds(scale: Scale) -> float:
    """The goal's wall time: 1.2 x the longest run."""
    return GOAL_FACTOR * scale.many_max_s


async def _burst(seconds: list[float], one: One, bound_s: float, side: Side) -> None:
    """Start `one(i, s)` for every run length at once; the wall time until the last ended, within `bound_s`."""
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(one(i, s)) for i, s in enumerate(seconds)]
    done, pending = await asyncio.wait(tasks, timeout=bound_s)
    side.seconds = time.perf_counter() - started
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    side.stopped = len(pending)
    side.errors += [f"unfinished after {bound_s:g} s (stopped)"] * len(pending)
    side.errors += [f"{type(e).__name__}: {e}" for t in done if (e := t.exception()) is not None]


async def _sdk(scale: Scale, backend: str, base_url: str, side: Side) -> None:
    """All calls at once on one AsyncCxpa of `backend`."""
    timeout_ms = int(TIMEOUT_FACTOR * scale.many_max_s * 1000)
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client:

        async def one(n: int, seconds: float) -> None:
            result = await client.trigger_run_and_wait(SLOW, {"seconds": seconds, "n": n}, timeout_ms=timeout_ms)
            if result.timed_out or result.status != "completed":
                raise RuntimeError(f"run {result.run_id} came back {result.status} (timed out: {result.timed_out})")

        await _burst(lengths(scale), one, BOUND_FACTOR * goal_seconds(scale), side)


async def _raw(scale: Scale, base_url: str, side: Side) -> None:
    """All calls at once on one raw httpx2.AsyncClient: trigger-and-wait, then held run reads until the end."""
    wait_url = f"{base_url}/api/agents/{SLOW}/runs/trigger-and-wait"
    authorization = {"Authorization": f"Bearer {API_KEY}"}
    # Enough held reads for the longest run, with one to spare: the loop is bounded.
    reads = int(scale.many_max_s * 1000 // RAW_WINDOW_MS) + 2
    async with raw_async_client(DEFAULT_LIMITS, RAW_TIMEOUT) as http:

        async def one(n: int, seconds: float) -> None:
            body = encode({"input": {"seconds": seconds, "n": n}, "timeoutMs": RAW_WINDOW_MS})
            response = await http.post(wait_url, content=body, headers=raw_headers())
            if response.status_code == 202:
                run_url = f"{base_url}/api/agents/{SLOW}/runs/{response.json()['runId']}"
                for _ in range(reads):
                    response = await http.get(run_url, params={"waitMs": RAW_WINDOW_MS}, headers=authorization)
                    if response.status_code != 200 or response.json()["status"] in TERMINAL:
                        break
            if response.status_code != 200:
                raise RuntimeError(f"answered {response.status_code}")
            if (status := response.json()["status"]) != "completed":
                raise RuntimeError(f"the run came back {status}")

        await _burst(lengths(scale), one, BOUND_FACTOR * goal_seconds(scale), side)


def _measured(port: int, measure: Callable[[str, Side], Coroutine[None, None, None]]) -> Side:
    """Run one side through a fresh counting relay to the platform at `port`."""
    side = Side()
    with counting_relay(port) as counts:
        asyncio.run(measure(counts.url, side))
    side.most_open, side.opened = counts.most_open, counts.opened
    return side


def _measure(scale: Scale, backend: str) -> str:
    """The measure column of one backend's line."""
    return (
        f"{scale.many_calls} concurrent `trigger_run_and_wait` on real runs of {scale.many_min_s:g} to "
        f'{scale.many_max_s:g} s (local platform, plain gather) on one `AsyncCxpa(http_backend="{backend}")`, vs '
        f"raw httpx2 (pool of {POOL_SIZE}: trigger-and-wait, then held run reads) (wall time)"
    )


def _goal(scale: Scale) -> str:
    """The goal column."""
    return f"0 errors, wall <= {GOAL_FACTOR:g} x longest run ({goal_seconds(scale):g} s)"


def _column(side: Side) -> str:
    """A side's cell: its wall time and errors (and whether it was stopped at the bound)."""
    stopped = " (stopped at the bound)" if side.stopped else ""
    return f"{side.seconds:.1f} s{stopped}, {len(side.errors)} errors"


def _ratio(sdk: Side, raw: Side) -> str:
    """SDK/raw of the wall times; a bound when one side was stopped, none when both were.

    Only the raw side stopped: an upper bound (its true wall time is longer); only the SDK: a lower one.
    """
    if not raw.seconds or (sdk.stopped and raw.stopped):
        return "-"
    bound = "<= " if raw.stopped else ">= " if sdk.stopped else ""
    return f"{bound}{sdk.seconds / raw.seconds:.2f}"


def _line(scale: Scale, backend: str, sdk: Side, raw: Side) -> RowResult:
    """One backend's line, against the one raw measurement."""
    goal_s = goal_seconds(scale)
    notes = [
        f"{backend} backend: one measurement a side (no warm-up: a fresh client, cold), {scale.many_calls} calls "
        f"started at once with a plain asyncio.gather, runs of the `slow` agent from {scale.many_min_s:g} to "
        f"{scale.many_max_s:g} s spread evenly (the longest last), each call's timeout_ms "
        f"{TIMEOUT_FACTOR * scale.many_max_s * 1000:.0f}, the local platform in its own process. SDK wall "
        f"{sdk.seconds:.1f} s = {sdk.seconds / scale.many_max_s:.2f} x the longest run ({sdk.seconds - goal_s:+.1f} "
        f"s from the goal's {goal_s:g} s); errors {len(sdk.errors)}.",
        f"{backend} backend: connections the SDK client opened (counted by a TCP relay in front of the platform): "
        f"at most {sdk.most_open} open at once, {sdk.opened} in all (its pool holds {POOL_SIZE}; it holds at most "
        f"{HELD_WAITS} waits on their own connections and shares the rest on up to {MAX_BATCHES} batched "
        "`wait_for_runs` requests).",
    ]
    notes += [f"{backend} backend, SDK error: {e}" for e in sorted(set(sdk.errors))[:MAX_ERROR_TEXTS]]
    return RowResult(
        10,
        _measure(scale, backend),
        _column(sdk),
        _column(raw),
        _ratio(sdk, raw),
        _goal(scale),
        not sdk.errors and sdk.seconds <= goal_s,
        notes,
    )


def _raw_notes(scale: Scale, raw: Side) -> list[str]:
    """What the raw side did, once for the row."""
    bound_s = BOUND_FACTOR * goal_seconds(scale)
    stopped = (
        f"; it was stopped at the bound ({bound_s:g} s = {BOUND_FACTOR} x the goal's wall time) with {raw.stopped} "
        "calls unfinished, counted as errors, so its true wall time is longer and the ratio is an upper bound"
        if raw.stopped
        else f" (bound {bound_s:g} s, not reached)"
    )
    notes = [
        f"raw side, measured once after the SDK lines on the same platform: httpx2.AsyncClient with the SDK's pool "
        f"limits ({POOL_SIZE} connections), TCP_NODELAY and no pool timeout; POST trigger-and-wait with timeoutMs "
        f"{RAW_WINDOW_MS}, then on 202 GET the run with waitMs={RAW_WINDOW_MS} until it ends. Wall "
        f"{raw.seconds:.1f} s{stopped}; errors {len(raw.errors)}; connections at most {raw.most_open} open at once, "
        f"{raw.opened} in all.",
    ]
    notes += [f"raw error: {e}" for e in sorted(set(raw.errors))[:MAX_ERROR_TEXTS]]
    return notes


def run(scale: Scale) -> list[RowResult]:
    """One line per SDK backend, all against one raw measurement; a backend that cannot be measured fails its line."""
    with platform_in_process(scale.many_calls + SPARE_WORKERS) as base_url:
        port = urlsplit(base_url).port
        if port is None:
            raise RuntimeError(f"the platform's URL has no port: {base_url}")
        measured: dict[str, Side | Exception] = {}
        for backend in BACKENDS:
            try:
                measured[backend] = _measured(port, functools.partial(_sdk, scale, backend))
            except Exception as exc:  # one failed backend must not lose the other's line
                measured[backend] = exc
        raw = _measured(port, functools.partial(_raw, scale))
    lines = []
    for backend, sdk in measured.items():
        if isinstance(sdk, Exception):
            lines.append(failed_row(10, _measure(scale, backend), sdk))
        else:
            lines.append(_line(scale, backend, sdk, raw))
    lines[-1].notes.extend(_raw_notes(scale, raw))
    return lines
