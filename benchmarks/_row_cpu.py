"""Rows 2 and 3: client CPU time per trigger call, SDK against raw httpx2, sync and async.

The raw side sends what the SDK sends (bearer key, a fresh uuid4 Idempotency-Key, JSON content type,
the same body bytes) and parses the JSON answer. CPU time is this process's (time.process_time);
the server runs in another process. Each pair alternates blocks of calls (A B A B ...): this machine's
CPU time per call drifts by a fifth within seconds, and whole 2000-call measurements in turn gave
pairwise ratios from 0.90 to 1.28.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks._common import API_KEY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_async_client, raw_client, raw_headers
from benchmarks._profile import explain
from benchmarks._result import RowResult, Scale
from benchmarks._runner import Pairs, ainterleave, interleave
from cxpa_sdk import AsyncCxpa, Cxpa

GOAL_RATIO = 1.15
BODY = encode({"input": TRIGGER_INPUT})


def _row(number: int, kind: str, pairs: Pairs, calls: int, block: int) -> RowResult:
    """The table line of a CPU-per-call pair (medians in microseconds per call)."""
    sdk_call = f"`{'AsyncCxpa' if kind == 'async' else 'Cxpa'}.trigger_run(1, {{...}})`"
    raw_call = f"`httpx2.{'AsyncClient' if kind == 'async' else 'Client'}.post` + `.json()`"
    low, high = pairs.ratio_range
    return RowResult(
        number,
        f"client CPU per call, {kind}: {sdk_call} vs {raw_call}, {calls} calls",
        f"{pairs.sdk_median * 1e6:.0f} µs",
        f"{pairs.raw_median * 1e6:.0f} µs",
        f"{pairs.ratio_median:.2f}",
        f"ratio <= {GOAL_RATIO}",
        pairs.ratio_median <= GOAL_RATIO,
        [
            f"{pairs.reps} pairs of {calls} sequential calls a side, after a warm-up pair; each pair alternates "
            f"blocks of {block} calls; one client per side; pairwise ratios from {low:.2f} to {high:.2f}."
        ],
    )


def run_sync(scale: Scale, base_url: str) -> list[RowResult]:
    """Row 2: sync CPU time per call."""
    url = base_url + TRIGGER_PATH
    calls = scale.cpu_calls
    with Cxpa(base_url=base_url, ingest_api_key=API_KEY) as sdk_client, raw_client() as http:

        def sdk(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                sdk_client.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        def raw(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                response = http.post(url, content=BODY, headers=raw_headers())
                if response.status_code != 202:
                    raise RuntimeError(f"raw trigger answered {response.status_code}")
                response.json()
            return time.process_time() - started

        pairs = interleave(sdk, raw, calls=calls, block=scale.cpu_block, reps=scale.cpu_reps)
    line = _row(2, "sync", pairs, calls, scale.cpu_block)
    explain(line, base_url, "sync", calls=calls)
    return [line]


async def _run_async(scale: Scale, base_url: str) -> Pairs:
    """Row 3's pairs, on one event loop."""
    url = base_url + TRIGGER_PATH
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY) as sdk_client, raw_async_client() as http:

        async def sdk(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                await sdk_client.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        async def raw(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                response = await http.post(url, content=BODY, headers=raw_headers())
                if response.status_code != 202:
                    raise RuntimeError(f"raw trigger answered {response.status_code}")
                response.json()
            return time.process_time() - started

        return await ainterleave(sdk, raw, calls=scale.cpu_calls, block=scale.cpu_block, reps=scale.cpu_reps)


def run_async(scale: Scale, base_url: str) -> list[RowResult]:
    """Row 3: async CPU time per call."""
    line = _row(3, "async", asyncio.run(_run_async(scale, base_url)), scale.cpu_calls, scale.cpu_block)
    explain(line, base_url, "async", calls=scale.cpu_calls)
    return [line]
