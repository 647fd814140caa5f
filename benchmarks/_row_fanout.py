"""Row 4: async fan-out, N concurrent trigger calls over a pool of P connections, SDK against raw httpx2.

Both sides start all N calls at once with a plain asyncio.gather, as users write it: the SDK on
`AsyncCxpa`'s own pool of P (= 100) connections, the raw side on an httpx2.AsyncClient with the SDK's
pool limits (max_connections = max_keepalive = P, keep-alive expiry 30 s) and TCP_NODELAY. (On httpx
0.28 the raw side needed an asyncio.Semaphore(P), and the SDK a gate: httpcore 1.0.9's pool did
O(queued x connections) work per event; httpcore2's does not.) Errors (exceptions, or a raw answer
other than 202) are counted, not raised.
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
    url = base_url + TRIGGER_PATH
    sdk_errors: list[str] = []
    raw_errors: list[str] = []
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY) as client, raw_async_client(DEFAULT_LIMITS) as http:

        async def sdk_one() -> None:
            await client.trigger_run(1, TRIGGER_INPUT)

        async def raw_one() -> None:
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
        f"{high:.2f}. Each measurement starts {scale.fanout_calls} calls at once with a plain asyncio.gather on "
        f"each side: the SDK on `AsyncCxpa`'s own pool of {POOL_SIZE}, the raw side on an httpx2.AsyncClient with "
        "the same pool limits.",
        f"Errors over all measurements, warm-up included: SDK {len(sdk_errors)}, raw {len(raw_errors)}.",
    ]
    notes += [f"SDK error: {e}" for e in sorted(set(sdk_errors))[:5]]
    notes += [f"raw error: {e}" for e in sorted(set(raw_errors))[:5]]
    return [
        RowResult(
            4,
            f"async fan-out: {scale.fanout_calls} concurrent `trigger_run` (plain gather), pool of {POOL_SIZE}, "
            "vs raw httpx2, plain gather too (wall time)",
            f"{pairs.sdk_median * 1000:.0f} ms, {len(sdk_errors)} errors",
            f"{pairs.raw_median * 1000:.0f} ms, {len(raw_errors)} errors",
            f"{ratio:.2f}",
            f"ratio <= {GOAL_RATIO}, 0 errors",
            ratio <= GOAL_RATIO and not sdk_errors,
            notes,
        )
    ]
