"""Row 8: client CPU per call against peers: raw httpx 0.28 (what the SDK ran on), openai-python, plain aiohttp.

The same work as rows 2 and 3 (one trigger POST and its JSON answer), measured the same way (blocks
of calls alternated inside each pair, this process's CPU time), with another client on the B side:

- raw httpx 0.28 (`httpx.Client.post` + `.json()`, TCP_NODELAY, the same headers and body), the
  floor the SDK had before httpx2: the goal is that the SDK on httpx2 costs no more than it did;
- openai-python (`OpenAI.post(path, body=..., cast_to=object)`, max_retries=2 like the SDK), a
  first-class SDK doing the same POST through its own machinery (options, retries, headers, parsing);
- plain aiohttp (`ClientSession.post` + `.json()`, a pool of 100), the floor under the SDK's aiohttp
  backend (`AsyncCxpa(http_backend="aiohttp")`), which is measured against all three async peers.

The peers are optional imports (the `bench` dependency group and the `aiohttp` extra have them); a
missing one makes its line an error line, not a crash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._common import API_KEY, NODELAY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_headers
from benchmarks._profile import explain
from benchmarks._result import RowResult, Scale, failed_row
from benchmarks._runner import Pairs, ainterleave, interleave
from cxpa_sdk import AsyncCxpa, Cxpa
from cxpa_sdk._http._transport import POOL_SIZE

BODY = encode({"input": TRIGGER_INPUT})
# (SDK backend, peer, kind) -> the goal ratio SDK/peer; None: reported without a goal.
GOALS: dict[tuple[str, str, str], float | None] = {
    ("httpx2", "httpx", "sync"): 1.0,
    ("httpx2", "httpx", "async"): None,
    ("httpx2", "openai", "sync"): 0.6,
    ("httpx2", "openai", "async"): 0.7,
    ("aiohttp", "httpx", "async"): 0.6,
    ("aiohttp", "aiohttp", "async"): 1.5,  # issue 24: no httpx2 object on the aiohttp path
    ("aiohttp", "openai", "async"): 0.45,
}
PEER_CALLS = {
    ("httpx", "sync"): "raw httpx 0.28 `httpx.Client.post` + `.json()`",
    ("httpx", "async"): "raw httpx 0.28 `httpx.AsyncClient.post` + `.json()`",
    ("openai", "sync"): "openai-python `OpenAI.post(..., cast_to=object)`",
    ("openai", "async"): "openai-python `AsyncOpenAI.post(..., cast_to=object)`",
    ("aiohttp", "async"): "plain aiohttp `ClientSession.post` + `.json()`",
}
# The `benchmarks._profile` sides that explain a line whose goal is not met.
PROFILED_SDK = {("httpx2", "sync"): "sync", ("httpx2", "async"): "async", ("aiohttp", "async"): "aiohttp"}
PROFILED_PEER = {
    ("openai", "sync"): "openai-sync",
    ("openai", "async"): "openai-async",
    ("aiohttp", "async"): "plain-aiohttp",
}


def _timed(call: Callable[[], Any]) -> Callable[[int], float]:
    def measure(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            call()
        return time.process_time() - started

    return measure


def _atimed(call: Callable[[], Awaitable[Any]]) -> Callable[[int], Awaitable[float]]:
    async def measure(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            await call()
        return time.process_time() - started

    return measure


def _checked(status: int) -> None:
    if status != 202:
        raise RuntimeError(f"the peer's trigger answered {status}")


def _sync_peer(peer: str, base_url: str) -> tuple[Any, Callable[[], Any]]:
    """A sync peer client (to close) and one call of it."""
    if peer == "httpx":
        import httpx  # noqa: PLC0415 - optional: the bench group has it

        http = httpx.Client(transport=httpx.HTTPTransport(socket_options=NODELAY), timeout=60.0)

        def call() -> None:
            response = http.post(base_url + TRIGGER_PATH, content=BODY, headers=raw_headers())
            _checked(response.status_code)
            response.json()

        return http, call
    import openai  # noqa: PLC0415 - optional: the bench group has it

    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=2)
    body = {"input": TRIGGER_INPUT}
    return client, lambda: client.post(TRIGGER_PATH, body=body, cast_to=object)


def _async_peer(peer: str, base_url: str) -> tuple[Any, Callable[[], Awaitable[Any]]]:
    """An async peer client (to close) and one call of it."""
    if peer == "httpx":
        import httpx  # noqa: PLC0415 - optional: the bench group has it

        http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(socket_options=NODELAY), timeout=60.0)

        async def call() -> None:
            response = await http.post(base_url + TRIGGER_PATH, content=BODY, headers=raw_headers())
            _checked(response.status_code)
            response.json()

        return http, call
    if peer == "aiohttp":
        import aiohttp  # noqa: PLC0415 - optional: the aiohttp extra has it

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL_SIZE))

        async def acall() -> None:
            async with session.post(base_url + TRIGGER_PATH, data=BODY, headers=raw_headers()) as answer:
                _checked(answer.status)
                await answer.json()

        return session, acall
    import openai  # noqa: PLC0415 - optional: the bench group has it

    client = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=2)
    body = {"input": TRIGGER_INPUT}
    return client, lambda: client.post(TRIGGER_PATH, body=body, cast_to=object)


def _line(backend: str, peer: str, kind: str, pairs: Pairs, scale: Scale) -> RowResult:
    goal = GOALS[(backend, peer, kind)]
    ratio = pairs.ratio_median
    low, high = pairs.ratio_range
    client = {"sync": "Cxpa", "async": "AsyncCxpa"}[kind] + ('(http_backend="aiohttp")' if backend == "aiohttp" else "")
    return RowResult(
        8,
        f"client CPU per call, {kind}: `{client}.trigger_run` vs {PEER_CALLS[(peer, kind)]}, {scale.cpu_calls} calls",
        f"{pairs.sdk_median * 1e6:.0f} µs",
        f"{pairs.raw_median * 1e6:.0f} µs",
        f"{ratio:.2f}",
        "reported" if goal is None else f"ratio <= {goal}",
        None if goal is None else ratio <= goal,
        [
            f"`{client}` vs {PEER_CALLS[(peer, kind)]}: {pairs.reps} pairs of {scale.cpu_calls} calls a side in "
            f"blocks of {scale.cpu_block}; pairwise ratios from {low:.2f} to {high:.2f}."
        ],
    )


def _measure_sync(peer: str, scale: Scale, base_url: str) -> Pairs:
    closable, call = _sync_peer(peer, base_url)
    with Cxpa(base_url=base_url, ingest_api_key=API_KEY) as client, closable:
        sdk = _timed(lambda: client.trigger_run(1, TRIGGER_INPUT))
        return interleave(sdk, _timed(call), calls=scale.cpu_calls, block=scale.cpu_block, reps=scale.cpu_reps)


async def _ameasure(backend: str, peer: str, scale: Scale, base_url: str) -> Pairs:
    closable, call = _async_peer(peer, base_url)
    async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client, closable:
        sdk = _atimed(lambda: client.trigger_run(1, TRIGGER_INPUT))
        return await ainterleave(sdk, _atimed(call), calls=scale.cpu_calls, block=scale.cpu_block, reps=scale.cpu_reps)


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Row 8: the SDK's CPU per call against each peer, per backend; a peer that fails is an error line."""
    lines: list[RowResult] = []
    for backend, peer, kind in GOALS:
        try:
            if kind == "sync":
                pairs = _measure_sync(peer, scale, base_url)
            else:
                pairs = asyncio.run(_ameasure(backend, peer, scale, base_url))
            line = _line(backend, peer, kind, pairs, scale)
            explain(
                line, base_url, PROFILED_SDK[(backend, kind)], PROFILED_PEER.get((peer, kind)), calls=scale.cpu_calls
            )
            lines.append(line)
        except Exception as exc:  # one peer's failure must not lose the others
            lines.append(failed_row(8, f"client CPU per call, {kind}, {backend}, vs {PEER_CALLS[(peer, kind)]}", exc))
    return lines
