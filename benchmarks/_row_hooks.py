"""Row 11: client CPU per call with one hook against none, sync and async, on the same SDK.

Both sides are the SDK calling `trigger_run` on the benchmark server: one client with
`hooks=[Hook()]` (a hook that does nothing, so the line shows what the hook points themselves
cost: the CallInfo, the events and the driver's calls), one without any (no hook work at all: a
client without hooks skips every hook point with one `if`). CPU time is this process's; blocks of
calls alternate as in rows 2 and 3. What a client without hooks costs against raw httpx2 is rows 2
and 3.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks._common import API_KEY, TRIGGER_INPUT
from benchmarks._result import RowResult, Scale
from benchmarks._runner import Pairs, ainterleave, interleave
from cxpa_sdk import AsyncCxpa, Cxpa, Hook


def _line(kind: str, pairs: Pairs, calls: int, block: int) -> RowResult:
    client = "AsyncCxpa" if kind == "async" else "Cxpa"
    low, high = pairs.ratio_range
    return RowResult(
        11,
        f"client CPU per call, {kind}: `{client}(hooks=[Hook()]).trigger_run` vs `{client}().trigger_run` "
        f"(no hooks), {calls} calls",
        f"{pairs.sdk_median * 1e6:.0f} µs",
        f"{pairs.raw_median * 1e6:.0f} µs",
        f"{pairs.ratio_median:.2f}",
        "(reported)",
        None,
        [
            f"{kind}: {pairs.reps} pairs of {calls} sequential calls a side after a warm-up pair, blocks of "
            f"{block} alternating; the 'peer' column is the same SDK without hooks; pairwise ratios from {low:.2f} "
            f"to {high:.2f}; a hook costs {(pairs.sdk_median - pairs.raw_median) * 1e6:+.1f} µs per call here."
        ],
    )


def _sync(scale: Scale, base_url: str) -> RowResult:
    with (
        Cxpa(base_url=base_url, ingest_api_key=API_KEY, hooks=[Hook()]) as hooked,
        Cxpa(base_url=base_url, ingest_api_key=API_KEY) as plain,
    ):

        def on_hooked(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                hooked.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        def on_plain(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                plain.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        pairs = interleave(on_hooked, on_plain, calls=scale.cpu_calls, block=scale.cpu_block, reps=scale.cpu_reps)
    return _line("sync", pairs, scale.cpu_calls, scale.cpu_block)


async def _async_pairs(scale: Scale, base_url: str) -> Pairs:
    async with (
        AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, hooks=[Hook()]) as hooked,
        AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY) as plain,
    ):

        async def on_hooked(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                await hooked.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        async def on_plain(count: int) -> float:
            started = time.process_time()
            for _ in range(count):
                await plain.trigger_run(1, TRIGGER_INPUT)
            return time.process_time() - started

        return await ainterleave(on_hooked, on_plain, calls=scale.cpu_calls, block=scale.cpu_block, reps=scale.cpu_reps)


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Row 11: one line sync, one async."""
    return [
        _sync(scale, base_url),
        _line("async", asyncio.run(_async_pairs(scale, base_url)), scale.cpu_calls, scale.cpu_block),
    ]
