"""Row 4: async fan-out, N concurrent trigger calls over a pool of P connections, SDK against raw httpx.

Both sides get an identical httpx.AsyncClient (TCP_NODELAY, max_connections = max_keepalive = P,
keepalive 60 s); the SDK's through `AsyncCxpa(http_client=...)`. All N calls start at once
(asyncio.gather) and an asyncio.Semaphore(P) lets P of them into httpx at a time: with N requests queued
inside it, httpcore 1.0.9's pool does O(queued x connections) work per event (cold pools hit
PoolTimeout, warm ones take 15 s or more for 1000 calls, on either side), which would measure httpcore
rather than the SDK. Errors (exceptions, or a raw answer other than 202) are counted, not raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from benchmarks._common import API_KEY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_async_client, raw_headers
from benchmarks._result import RowResult, Scale
from benchmarks._runner import Pairs, aalternate
from cxpa_sdk import AsyncCxpa

GOAL_RATIO = 1.1
BODY = encode({"input": TRIGGER_INPUT})


async def _fan_out(calls: int, pool: int, one: Callable[[], Awaitable[None]], errors: list[str]) -> float:
    """Wall time of `calls` concurrent calls of `one`, `pool` at a time in httpx; failures go to `errors`."""
    gate = asyncio.Semaphore(pool)

    async def gated() -> None:
        async with gate:
            await one()

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(gated() for _ in range(calls)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors.extend(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    return elapsed


async def _pairs(scale: Scale, base_url: str) -> tuple[Pairs, list[str], list[str]]:
    """Measure alternately; the pairs and the errors of each side."""
    pool = scale.fanout_pool
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=60.0)
    url = base_url + TRIGGER_PATH
    sdk_errors: list[str] = []
    raw_errors: list[str] = []
    async with raw_async_client(limits) as sdk_http, raw_async_client(limits) as http:
        client = AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_client=sdk_http)

        async def sdk_one() -> None:
            await client.trigger_run(1, TRIGGER_INPUT)

        async def raw_one() -> None:
            response = await http.post(url, content=BODY, headers=raw_headers())
            if response.status_code != 202:
                raise RuntimeError(f"answered {response.status_code}")
            response.json()

        async def sdk() -> float:
            return await _fan_out(scale.fanout_calls, pool, sdk_one, sdk_errors)

        async def raw() -> float:
            return await _fan_out(scale.fanout_calls, pool, raw_one, raw_errors)

        pairs = await aalternate(sdk, raw, reps=scale.fanout_reps, warmup_pairs=scale.fanout_warmup_pairs)
        await client.aclose()
    return pairs, sdk_errors, raw_errors


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Measure the fan-out pair alternately and count errors on both sides (warm-up included)."""
    pairs, sdk_errors, raw_errors = asyncio.run(_pairs(scale, base_url))
    ratio = pairs.ratio_median
    low, high = pairs.ratio_range
    notes = [
        f"{pairs.reps} pairs after {scale.fanout_warmup_pairs} warm-up pairs (a pool's first two rounds are "
        f"cold on either side: 25-36 s instead of about 3 s); pairwise ratios from {low:.2f} to {high:.2f}. "
        f"Each measurement starts {scale.fanout_calls} calls at once "
        f"(asyncio.gather), {scale.fanout_pool} at a time in httpx (asyncio.Semaphore), over a pool of "
        f"{scale.fanout_pool} keep-alive connections: the same httpx.AsyncClient configuration on both sides. "
        "Without the semaphore httpcore 1.0.9's pool bookkeeping (O(queued x connections) per event, "
        "encode/httpcore#1035) dominates both sides and cold pools hit PoolTimeout.",
        f"Errors over all measurements, warm-up included: SDK {len(sdk_errors)}, raw {len(raw_errors)}.",
    ]
    notes += [f"SDK error: {e}" for e in sorted(set(sdk_errors))[:5]]
    notes += [f"raw error: {e}" for e in sorted(set(raw_errors))[:5]]
    return [
        RowResult(
            4,
            f"async fan-out: {scale.fanout_calls} concurrent `trigger_run`, pool of {scale.fanout_pool} (wall time)",
            f"{pairs.sdk_median * 1000:.0f} ms, {len(sdk_errors)} errors",
            f"{pairs.raw_median * 1000:.0f} ms, {len(raw_errors)} errors",
            f"{ratio:.2f}",
            f"ratio <= {GOAL_RATIO}, 0 errors",
            ratio <= GOAL_RATIO and not sdk_errors,
            notes,
        )
    ]
