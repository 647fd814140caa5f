"""Row 4: async fan-out, N concurrent trigger calls over a pool of P connections, SDK against raw httpx.

Both sides start all N calls at once (asyncio.gather). The SDK side is what its users write: a plain
gather on `AsyncCxpa`'s own pool of P (= 100) connections, whose gate lets P requests into httpx at a
time. The raw side is what a careful raw httpx user must write: an httpx2.AsyncClient with the SDK's pool
limits (max_connections = max_keepalive = P, keep-alive expiry 30 s), TCP_NODELAY, and an
asyncio.Semaphore(P) around each call. Without that semaphore httpcore 1.0.9's pool does O(queued x
connections) work per event, and every one of 1000 calls fails with PoolTimeout or ConnectTimeout
after about 30 s. Errors (exceptions, or a raw answer other than 202) are counted, not raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from benchmarks._common import API_KEY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_async_client, raw_headers
from benchmarks._result import RowResult, Scale
from benchmarks._runner import Pairs, aalternate
from cxpa_sdk import AsyncCxpa
from cxpa_sdk._transport import DEFAULT_LIMITS, POOL_SIZE

GOAL_RATIO = 1.1
BODY = encode({"input": TRIGGER_INPUT})


async def _fan_out(calls: int, one: Callable[[], Awaitable[None]], errors: list[str]) -> float:
    """Wall time of `calls` concurrent calls of `one`; failures go to `errors`."""
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(calls)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors.extend(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    return elapsed


async def _pairs(scale: Scale, base_url: str) -> tuple[Pairs, list[str], list[str]]:
    """Measure alternately; the pairs and the errors of each side."""
    pool = POOL_SIZE  # the SDK's own pool; the raw side gets the same limits, keep-alive expiry included
    url = base_url + TRIGGER_PATH
    sdk_errors: list[str] = []
    raw_errors: list[str] = []
    gate = asyncio.Semaphore(pool)
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY) as client, raw_async_client(DEFAULT_LIMITS) as http:

        async def sdk_one() -> None:
            await client.trigger_run(1, TRIGGER_INPUT)

        async def raw_one() -> None:
            async with gate:
                response = await http.post(url, content=BODY, headers=raw_headers())
            if response.status_code != 202:
                raise RuntimeError(f"answered {response.status_code}")
            response.json()

        async def sdk() -> float:
            return await _fan_out(scale.fanout_calls, sdk_one, sdk_errors)

        async def raw() -> float:
            return await _fan_out(scale.fanout_calls, raw_one, raw_errors)

        pairs = await aalternate(sdk, raw, reps=scale.fanout_reps, warmup_pairs=scale.fanout_warmup_pairs)
    return pairs, sdk_errors, raw_errors


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Measure the fan-out pair alternately and count errors on both sides (warm-up included)."""
    pairs, sdk_errors, raw_errors = asyncio.run(_pairs(scale, base_url))
    ratio = pairs.ratio_median
    low, high = pairs.ratio_range
    notes = [
        f"{pairs.reps} pairs after {scale.fanout_warmup_pairs} warm-up pairs; pairwise ratios from {low:.2f} to "
        f"{high:.2f}. Each measurement starts {scale.fanout_calls} calls at once (asyncio.gather). SDK: a plain "
        f"gather on `AsyncCxpa`'s own pool of {POOL_SIZE}, whose gate lets {POOL_SIZE} requests into httpx at a "
        f"time. Raw: an httpx2.AsyncClient with the same pool and an asyncio.Semaphore({POOL_SIZE}) around each "
        "call, which a raw user has to write: without it all 1000 calls failed (PoolTimeout, ConnectTimeout) "
        "after about 30 s in this benchmark's setting, because httpcore 1.0.9's pool does O(queued x "
        "connections) work per event (encode/httpcore#1035).",
        "A fresh pool's first one or two fan-outs take 8-35 s on either side instead of about 2.5 s: httpcore "
        "1.0.9 also scans every connection for each idle one on every event (O(idle x connections)), and a "
        "burst that starts on new connections stays synchronized, with most connections idle at each event. "
        "The warm-up pairs absorb that.",
        f"Errors over all measurements, warm-up included: SDK {len(sdk_errors)}, raw {len(raw_errors)}.",
    ]
    notes += [f"SDK error: {e}" for e in sorted(set(sdk_errors))[:5]]
    notes += [f"raw error: {e}" for e in sorted(set(raw_errors))[:5]]
    return [
        RowResult(
            4,
            f"async fan-out: {scale.fanout_calls} concurrent `trigger_run` (plain gather), pool of {POOL_SIZE}, "
            "vs raw httpx behind a semaphore (wall time)",
            f"{pairs.sdk_median * 1000:.0f} ms, {len(sdk_errors)} errors",
            f"{pairs.raw_median * 1000:.0f} ms, {len(raw_errors)} errors",
            f"{ratio:.2f}",
            f"ratio <= {GOAL_RATIO}, 0 errors",
            ratio <= GOAL_RATIO and not sdk_errors,
            notes,
        )
    ]
