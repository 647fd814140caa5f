"""Row 4: async fan-out, N concurrent trigger calls over a pool of P connections, each SDK backend against its floor.

Every side starts all N calls at once with a plain asyncio.gather, as users write it (no semaphore):

- the SDK on `AsyncCxpa`'s own pool of P (= 100) connections, against raw httpx2 (an
  httpx2.AsyncClient with the SDK's pool limits: max_connections = max_keepalive = P, keep-alive
  expiry 30 s, and TCP_NODELAY);
- the SDK on its aiohttp backend (`http_backend="aiohttp"`), against plain aiohttp (a ClientSession
  whose TCPConnector has limit P), the floor for async.

Each pair is measured warm (one client per side for the whole line, after warm-up pairs: the
connections are open) and cold (a fresh client per measurement, so each burst also opens its P
connections; closing it is not timed). (On httpx 0.28 the raw side needed an asyncio.Semaphore(P),
and the SDK a gate: httpcore 1.0.9's pool did O(queued x connections) work per event; httpcore2's
does not.) Errors (exceptions, or a raw answer other than 202) are counted, not raised.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from benchmarks._common import API_KEY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_async_client, raw_headers
from benchmarks._profile import explain
from benchmarks._result import RowResult, Scale, failed_row
from benchmarks._runner import Pairs, aalternate
from cxpa_sdk import AsyncCxpa
from cxpa_sdk._http._transport import DEFAULT_LIMITS, POOL_SIZE

BODY = encode({"input": TRIGGER_INPUT})
# One call of a side's client.
Call = Callable[[], Awaitable[None]]
# A side: opens its client for a block, yielding one call of it.
Side = Callable[[str], AbstractAsyncContextManager[Call]]
# (SDK backend, warm or cold) -> the goal ratio against the floor, None: only "0 errors".
GOALS: dict[tuple[str, str], float | None] = {
    ("httpx2", "warm"): 1.1,
    ("httpx2", "cold"): None,
    ("aiohttp", "warm"): 1.5,
    ("aiohttp", "cold"): 1.5,
}
FLOORS = {"httpx2": "raw httpx2", "aiohttp": "plain aiohttp"}


@asynccontextmanager
async def _sdk(base_url: str, backend: str) -> AsyncIterator[Call]:
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client:

        async def one() -> None:
            await client.trigger_run(1, TRIGGER_INPUT)

        yield one


@asynccontextmanager
async def _raw_httpx2(base_url: str) -> AsyncIterator[Call]:
    async with raw_async_client(DEFAULT_LIMITS) as http:

        async def one() -> None:
            response = await http.post(base_url + TRIGGER_PATH, content=BODY, headers=raw_headers())
            if response.status_code != 202:
                raise RuntimeError(f"answered {response.status_code}")
            response.json()

        yield one


@asynccontextmanager
async def _plain_aiohttp(base_url: str) -> AsyncIterator[Call]:
    import aiohttp  # noqa: PLC0415 - optional: the aiohttp extra has it

    connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.post(base_url + TRIGGER_PATH, data=BODY, headers=raw_headers()) as answer:
                if answer.status != 202:
                    raise RuntimeError(f"answered {answer.status}")
                await answer.json()

        yield one


async def _fan_out(calls: int, one: Call, errors: list[str]) -> float:
    """Wall time of `calls` concurrent calls of `one`; failures go to `errors`."""
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(calls)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors.extend(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    return elapsed


async def _warm(scale: Scale, base_url: str, sdk: Side, floor: Side) -> tuple[Pairs, list[str], list[str]]:
    """Bursts on one long-lived client per side, after warm-up pairs; the pairs and each side's errors."""
    sdk_errors: list[str] = []
    raw_errors: list[str] = []
    async with sdk(base_url) as sdk_one, floor(base_url) as raw_one:
        return (
            await aalternate(
                lambda: _fan_out(scale.fanout_calls, sdk_one, sdk_errors),
                lambda: _fan_out(scale.fanout_calls, raw_one, raw_errors),
                reps=scale.fanout_reps,
                warmup_pairs=scale.fanout_warmup_pairs,
            ),
            sdk_errors,
            raw_errors,
        )


async def _cold(scale: Scale, base_url: str, sdk: Side, floor: Side) -> tuple[Pairs, list[str], list[str]]:
    """Each burst on a fresh client (opening its connections is timed, closing it is not), no warm-up."""
    sdk_errors: list[str] = []
    raw_errors: list[str] = []

    async def fresh(side: Side, errors: list[str]) -> float:
        async with side(base_url) as one:
            return await _fan_out(scale.fanout_calls, one, errors)

    pairs = await aalternate(
        lambda: fresh(sdk, sdk_errors), lambda: fresh(floor, raw_errors), reps=scale.fanout_reps, warmup_pairs=0
    )
    return pairs, sdk_errors, raw_errors


def _line(backend: str, kind: str, scale: Scale, measured: tuple[Pairs, list[str], list[str]]) -> RowResult:
    pairs, sdk_errors, raw_errors = measured
    goal = GOALS[(backend, kind)]
    low, high = pairs.ratio_range
    client = "AsyncCxpa" + ('(http_backend="aiohttp")' if backend == "aiohttp" else "")
    how = (
        f"{scale.fanout_warmup_pairs} warm-up pairs, one client per side for all"
        if kind == "warm"
        else "no warm-up pair, a fresh client per measurement (connecting included, closing not timed)"
    )
    notes = [
        f"{kind}, `{client}` vs {FLOORS[backend]}: {pairs.reps} pairs after {how}; pairwise ratios from {low:.2f} "
        f"to {high:.2f}. Errors over all measurements, warm-up included: SDK {len(sdk_errors)}, "
        f"{FLOORS[backend]} {len(raw_errors)}."
    ]
    notes += [f"SDK error: {e}" for e in sorted(set(sdk_errors))[:5]]
    notes += [f"{FLOORS[backend]} error: {e}" for e in sorted(set(raw_errors))[:5]]
    ratio = pairs.ratio_median
    return RowResult(
        4,
        f"async fan-out, {kind}: {scale.fanout_calls} concurrent `{client}.trigger_run` (plain gather), pool of "
        f"{POOL_SIZE}, vs {FLOORS[backend]}, plain gather too (wall time)",
        f"{pairs.sdk_median * 1000:.0f} ms, {len(sdk_errors)} errors",
        f"{pairs.raw_median * 1000:.0f} ms, {len(raw_errors)} errors",
        f"{ratio:.2f}",
        "0 errors" if goal is None else f"ratio <= {goal}, 0 errors",
        not sdk_errors and (goal is None or ratio <= goal),
        notes,
    )


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Each backend's fan-out against its floor, warm then cold; a side that fails is an error line."""
    floors: dict[str, Side] = {"httpx2": _raw_httpx2, "aiohttp": _plain_aiohttp}
    lines: list[RowResult] = []
    for backend, kind in GOALS:
        measure = _warm if kind == "warm" else _cold
        sdk = functools.partial(_sdk, backend=backend)
        try:
            line = _line(backend, kind, scale, asyncio.run(measure(scale, base_url, sdk, floors[backend])))
            if backend == "aiohttp":  # a burst is bound by the client's CPU: where it goes, against the floor
                explain(line, base_url, "aiohttp", "plain-aiohttp", calls=scale.cpu_calls)
            lines.append(line)
        except Exception as exc:  # one backend's failure must not lose the others
            lines.append(failed_row(4, f"async fan-out, {kind}, {backend}", exc))
    return lines
