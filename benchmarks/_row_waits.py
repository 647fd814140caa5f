"""Row 9: N concurrent `trigger_run_and_wait` calls on one client, each held S seconds by the server.

The benchmark server holds each trigger-and-wait request for `input.seconds` (S) with asyncio.sleep,
then answers 200 with a completed Run row. One measurement starts all N calls at once with a plain
asyncio.gather on ONE client: the SDK on `AsyncCxpa`'s own pool of P (= 100) connections, once on the
default backend (httpx2) and once on `http_backend="aiohttp"`; the raw side on an httpx2.AsyncClient
with the SDK's pool limits and TCP_NODELAY, posting the same body. So at most P requests are held at
a time and the calls queue for connections in ceil(N / P) waves: the wall time cannot go below
ceil(N / P) x S, and a call waits up to (ceil(N / P) - 1) x S for a connection: the SDK's wait for a
connection is bounded by each call's deadline (no fixed pool timeout), the raw side's by httpx2's pool
timeout (10 s, the SDK's former default). Errors (exceptions, a result that is not a completed Run, a
raw answer other than 200) are counted, not raised.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from benchmarks._common import API_KEY, encode, raw_async_client, raw_headers
from benchmarks._result import RowResult, Scale, failed_row
from benchmarks._runner import Pairs, aalternate
from cxpa_sdk import AsyncCxpa
from cxpa_sdk._core._operations import SERVER_WINDOW_MS
from cxpa_sdk._http._transport import DEFAULT_LIMITS, POOL_SIZE

AGENT_ID = 5
WAIT_MS = 120_000
# What the SDK sends as `timeoutMs` for `timeout_ms=WAIT_MS`: its first request's server window.
WINDOW_MS = min(SERVER_WINDOW_MS, WAIT_MS)
WAIT_PATH = f"/api/agents/{AGENT_ID}/runs/trigger-and-wait"
BACKENDS = ("httpx2", "aiohttp")
MAX_ERROR_TEXTS = 5


async def _burst(calls: int, one: Callable[[], Awaitable[None]], errors: list[str]) -> float:
    """Wall time of `calls` concurrent calls of `one`; failures go to `errors`."""
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(calls)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors.extend(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    return elapsed


async def _pairs(scale: Scale, base_url: str, backend: str) -> tuple[Pairs, list[str], list[str]]:
    """Measure one SDK backend against raw httpx2 alternately; the pairs and the errors of each side."""
    run_input = {"seconds": scale.waits_seconds}
    url = base_url + WAIT_PATH
    body = encode({"input": run_input, "timeoutMs": WINDOW_MS})
    sdk_errors: list[str] = []
    raw_errors: list[str] = []
    async with (
        AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client,
        raw_async_client(DEFAULT_LIMITS) as http,
    ):

        async def sdk_one() -> None:
            result = await client.trigger_run_and_wait(AGENT_ID, run_input, timeout_ms=WAIT_MS)
            if result.timed_out or result.status != "completed":
                raise RuntimeError(f"the run came back {result.status} (timed out: {result.timed_out})")

        async def raw_one() -> None:
            response = await http.post(url, content=body, headers=raw_headers())
            if response.status_code != 200:
                raise RuntimeError(f"answered {response.status_code}")
            if (status := response.json()["status"]) != "completed":
                raise RuntimeError(f"the run came back {status}")

        async def sdk() -> float:
            return await _burst(scale.waits_calls, sdk_one, sdk_errors)

        async def raw() -> float:
            return await _burst(scale.waits_calls, raw_one, raw_errors)

        pairs = await aalternate(sdk, raw, reps=scale.waits_reps, warmup_pairs=scale.waits_warmup_pairs)
    return pairs, sdk_errors, raw_errors


def _measure(scale: Scale, backend: str) -> str:
    """The measure column of one backend's line."""
    return (
        f"{scale.waits_calls} concurrent `trigger_run_and_wait` ({scale.waits_seconds * 1000:.0f} ms runs, plain "
        f'gather) on one `AsyncCxpa(http_backend="{backend}")`, pool of {POOL_SIZE}, vs raw httpx2 (wall time)'
    )


def _line(scale: Scale, base_url: str, backend: str) -> RowResult:
    """Measure one SDK backend and make its line."""
    pairs, sdk_errors, raw_errors = asyncio.run(_pairs(scale, base_url, backend))
    low, high = pairs.ratio_range
    waves = math.ceil(scale.waits_calls / POOL_SIZE)
    floor = waves * scale.waits_seconds
    notes = [
        f"{backend} backend: {pairs.reps} pairs after {scale.waits_warmup_pairs} warm-up pair(s); pairwise ratios "
        f"from {low:.2f} to {high:.2f}. Each measurement starts {scale.waits_calls} calls at once with a plain "
        f"asyncio.gather on one client per side (the same clients for every measurement), the server holding each "
        f"request {scale.waits_seconds:g} s. Theoretical floor: ceil({scale.waits_calls}/{POOL_SIZE}) = {waves} "
        f"waves x {scale.waits_seconds:g} s = {floor:.2f} s; SDK median {pairs.sdk_median - floor:+.2f} s and raw "
        f"median {pairs.raw_median - floor:+.2f} s from it.",
        f"{backend} backend: errors over all measurements, warm-up included: SDK {len(sdk_errors)}, "
        f"raw {len(raw_errors)}.",
    ]
    notes += [f"{backend} backend, SDK error: {e}" for e in sorted(set(sdk_errors))[:MAX_ERROR_TEXTS]]
    notes += [f"{backend} backend, raw error: {e}" for e in sorted(set(raw_errors))[:MAX_ERROR_TEXTS]]
    return RowResult(
        9,
        _measure(scale, backend),
        f"{pairs.sdk_median:.2f} s, {len(sdk_errors)} errors",
        f"{pairs.raw_median:.2f} s, {len(raw_errors)} errors",
        f"{pairs.ratio_median:.2f}",
        "0 errors",
        not sdk_errors,
        notes,
    )


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """One line per SDK backend; a backend that cannot be measured (aiohttp not installed) fails its line only."""
    lines = []
    for backend in BACKENDS:
        try:
            lines.append(_line(scale, base_url, backend))
        except Exception as exc:  # one failed backend must not lose the other's line
            lines.append(failed_row(9, _measure(scale, backend), exc))
    return lines
