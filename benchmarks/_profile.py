"""Where a trigger call's CPU goes, by package: `python -m benchmarks._profile [SIDE ...]`.

The explanation behind a goal that is not met (the CPU rows add it to their notes): it runs 2000
`trigger_run` calls (or a peer's same POST) against the benchmark server under cProfile and sums
each function's own time by the package it belongs to (cxpa_sdk, httpx2, httpcore2, h11, aiohttp,
openai, asyncio, the socket calls, the rest of the standard library). Profiling slows every
function call, so the shares are what to read, not the absolute times. SIDE is one of SIDES.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks._common import API_KEY, TRIGGER_INPUT, TRIGGER_PATH, encode, raw_headers
from benchmarks._result import RowResult
from benchmarks._server import serve_in_process
from cxpa_sdk import AsyncCxpa, Cxpa

CALLS = 2000
WARMUP = 200
SIDES = ("sync", "async", "aiohttp", "openai-sync", "openai-async", "plain-aiohttp")
PACKAGES = ("cxpa_sdk", "httpx2", "httpcore2", "h11", "aiohttp", "openai", "pydantic", "anyio", "asyncio", "httpx")


def _package(filename: str, name: str) -> str:
    """The package a profiled function belongs to."""
    if filename == "~":
        return "socket and other C calls" if "socket" in name or "select" in name else "builtins"
    for package in PACKAGES:
        if f"/{package}/" in filename:
            return package
    return "standard library" if "/lib/python3" in filename else "other"


def _shares(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Each package's share of the profiled own time, largest first."""
    totals: dict[str, float] = defaultdict(float)
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, own, *_) in stats.items():
        totals[_package(filename, name)] += own
    whole = sum(totals.values())
    return sorted(((package, own / whole) for package, own in totals.items()), key=lambda item: -item[1])


def _profile_sync(call: Callable[[], Any], calls: int) -> cProfile.Profile:
    for _ in range(min(WARMUP, calls)):
        call()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        call()
    profile.disable()
    return profile


async def _profile_async(call: Callable[[], Awaitable[Any]], calls: int) -> cProfile.Profile:
    for _ in range(min(WARMUP, calls)):
        await call()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(calls):
        await call()
    profile.disable()
    return profile


def _measure(side: str, base_url: str, calls: int) -> cProfile.Profile:
    """Profile one side's calls."""
    if side == "sync":
        with Cxpa(base_url=base_url, ingest_api_key=API_KEY) as client:
            return _profile_sync(lambda: client.trigger_run(1, TRIGGER_INPUT), calls)
    if side == "openai-sync":
        import openai  # noqa: PLC0415 - optional: the bench group has it

        with openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=2) as peer:
            body = {"input": TRIGGER_INPUT}
            return _profile_sync(lambda: peer.post(TRIGGER_PATH, body=body, cast_to=object), calls)

    async def main() -> cProfile.Profile:
        if side == "plain-aiohttp":
            import aiohttp  # noqa: PLC0415 - optional: the aiohttp extra has it

            body = encode({"input": TRIGGER_INPUT})
            async with aiohttp.ClientSession() as session:

                async def post() -> None:
                    async with session.post(base_url + TRIGGER_PATH, data=body, headers=raw_headers()) as answer:
                        await answer.json()

                return await _profile_async(post, calls)
        if side == "openai-async":
            import openai  # noqa: PLC0415 - optional: the bench group has it

            async with openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=2) as peer:
                body = {"input": TRIGGER_INPUT}
                return await _profile_async(lambda: peer.post(TRIGGER_PATH, body=body, cast_to=object), calls)
        backend = "aiohttp" if side == "aiohttp" else "httpx2"
        async with AsyncCxpa(base_url=base_url, ingest_api_key=API_KEY, http_backend=backend) as client:
            return await _profile_async(lambda: client.trigger_run(1, TRIGGER_INPUT), calls)

    return asyncio.run(main())


def where_it_goes(side: str, base_url: str, calls: int = CALLS) -> str:
    """One side's CPU by package, as text: `httpx2 25%, h11 13%, ...` (shares under 1% left out)."""
    if side not in SIDES:
        raise ValueError(f"no profile for {side!r}; sides: {', '.join(SIDES)}")
    shares = _shares(_measure(side, base_url, calls))
    return ", ".join(f"{package} {share:.0%}" for package, share in shares if share >= 0.01)


def explain(line: RowResult, base_url: str, sdk: str, peer: str | None = None, *, calls: int = CALLS) -> None:
    """Add to a line whose goal is not met where the CPU goes on its SDK side (and its peer's)."""
    if line.met is not False:
        return
    text = f"Goal not met; where the CPU goes (cProfile, own time by package, {calls} calls): SDK ({sdk}) "
    text += where_it_goes(sdk, base_url, calls)
    if peer is not None:
        text += f"; the peer ({peer}) " + where_it_goes(peer, base_url, calls)
    line.notes.append(text + ".")


def main(argv: list[str]) -> None:
    """Print each side's shares by package."""
    with serve_in_process() as base_url:
        for side in argv or ["sync", "async", "aiohttp"]:
            print(f"{side}: {where_it_goes(side, base_url)}")


if __name__ == "__main__":
    main(sys.argv[1:])
