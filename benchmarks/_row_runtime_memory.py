"""Row 13: the runtime host's memory with N async runs in flight at once in one process.

The local platform (`benchmarks._platform_child`, signing its deliveries with a fresh `whsec_`
secret) has an agent whose runtime URL is the host's `hold` agent, served by uvicorn in a child
process of its own (`benchmarks._runtime_child`, verifying every delivery). Each run's async
function starts (the host reports `started`), then waits until the row releases it (at most
`HOLD_CAP_S`), then returns (`complete`). The row triggers `WARMUP_RUNS` runs through the whole
cycle first, so that the host has loaded and built what every run uses, and reads the host
process's resident memory (VmRSS of /proc/<pid>/status) at idle; then it triggers N runs (one
`AsyncCxpa`, all at once), waits until all N wait in the function at once (the host's own count),
reads the memory at that peak, releases them, and waits for every run to end on the platform.
Growth per run = (peak - idle) / N. Errors: a trigger that failed, runs that never were all in
flight at once within the bound, a run that did not end completed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field

import httpx2

from benchmarks._child import Child
from benchmarks._common import API_KEY, raw_async_client
from benchmarks._platform_child import URL_AGENT_ID, platform_child
from benchmarks._proc import rss_kib
from benchmarks._result import RowResult, Scale, failed_row
from benchmarks._row_deliveries import new_secret
from benchmarks._runtime_child import HOLD_PATH, HOLDING_PATH, RELEASE_PATH, runtime_child
from benchmarks._server import listening_socket
from cxpa_sdk import AsyncCxpa

GOAL_KIB = 50.0  # growth per run in flight
WARMUP_RUNS = 20
POLL_S = 0.05
HOLD_BOUND_S = 60.0  # the most a round waits for all its runs to be in flight at once (plus 50 ms a run)
END_BOUND_S = 120.0  # the most a round waits for its runs to end on the platform
MAX_ERROR_TEXTS = 5


@dataclass
class Round:
    """One round of runs: how many were held at once, the host's memory then, and the errors."""

    runs: int
    most_held: int = 0
    peak_kib: int = 0  # the host's VmRSS with all runs held (or at the most held, when they never all were)
    after_kib: int = 0  # the host's VmRSS once every run ended
    highest_kib: int = 0  # the highest VmRSS sampled during the round (the end's reports included)
    seconds_to_hold: float = 0.0
    errors: list[str] = field(default_factory=list)


async def _holding(http: httpx2.AsyncClient, host: Child) -> int:
    """How many runs wait in the host's `hold` function now."""
    response = await http.get(host.url + HOLDING_PATH)
    return int(json.loads(response.content)["holding"])


async def _sample(pid: int, measured: Round) -> None:
    """Keep `measured.highest_kib` the highest VmRSS of `pid`, sampled every POLL_S, until cancelled."""
    while True:
        measured.highest_kib = max(measured.highest_kib, rss_kib(pid))
        await asyncio.sleep(POLL_S)


async def _round(client: AsyncCxpa, http: httpx2.AsyncClient, host: Child, runs: int) -> Round:
    """Trigger `runs` runs at once, wait until all are held, read the memory, release them, wait for their ends."""
    measured = Round(runs)
    sampler = asyncio.create_task(_sample(host.pid, measured))
    try:
        await _cycle(client, http, host, measured)
    finally:
        sampler.cancel()
    measured.highest_kib = max(measured.highest_kib, measured.peak_kib, measured.after_kib)
    return measured


async def _cycle(client: AsyncCxpa, http: httpx2.AsyncClient, host: Child, measured: Round) -> None:
    """The round's work: trigger, wait until all are held, read the memory, release, wait for the ends."""
    runs = measured.runs
    triggered = await asyncio.gather(
        *(client.trigger_run(URL_AGENT_ID, {"n": n}) for n in range(runs)), return_exceptions=True
    )
    handles = [t for t in triggered if not isinstance(t, BaseException)]
    measured.errors += [f"trigger: {type(t).__name__}: {t}" for t in triggered if isinstance(t, BaseException)]
    started = time.monotonic()
    deadline = started + HOLD_BOUND_S + 0.05 * runs
    while (held := await _holding(http, host)) < len(handles) and time.monotonic() < deadline:
        measured.most_held = max(measured.most_held, held)
        await asyncio.sleep(POLL_S)
    measured.peak_kib = rss_kib(host.pid)
    measured.most_held = max(measured.most_held, held)
    measured.seconds_to_hold = time.monotonic() - started
    if held < runs:
        measured.errors.append(f"only {held} of {runs} runs were in flight at once (bound reached)")
    await http.post(host.url + RELEASE_PATH)
    ended = await asyncio.gather(
        *(client.wait_for_run(URL_AGENT_ID, h.run_id, timeout=END_BOUND_S) for h in handles), return_exceptions=True
    )
    for run in ended:
        if isinstance(run, BaseException):
            measured.errors.append(f"wait: {type(run).__name__}: {run}")
        elif run.status != "completed":
            measured.errors.append(f"a run ended {run.status}: {run.error}")
    measured.after_kib = rss_kib(host.pid)


async def _measure(scale: Scale, platform_url: str, host: Child) -> tuple[Round, int, Round]:
    """The warm-up round, the idle memory after it, and the measured round."""
    async with AsyncCxpa(base_url=platform_url, ingest_api_key=API_KEY) as client, raw_async_client() as http:
        warmup = await _round(client, http, host, WARMUP_RUNS)
        await asyncio.sleep(0.5)  # let the last reports' connections close
        idle_kib = rss_kib(host.pid)
        measured = await _round(client, http, host, scale.hold_runs)
    return warmup, idle_kib, measured


def _measure_text(scale: Scale) -> str:
    """The measure column."""
    return (
        f"runtime host's memory with {scale.hold_runs} async runs in flight at once in one process (local "
        "platform, signed deliveries; growth of VmRSS per run)"
    )


def _line(scale: Scale, warmup: Round, idle_kib: int, measured: Round, load: tuple[float, float]) -> RowResult:
    """The row's line."""
    runs = scale.hold_runs
    per_run = (measured.peak_kib - idle_kib) / runs
    errors = warmup.errors + measured.errors
    notes = [
        f"the host process's VmRSS: {idle_kib / 1024:.1f} MiB idle after {WARMUP_RUNS} warm-up runs, "
        f"{measured.peak_kib / 1024:.1f} MiB with {measured.most_held} of {runs} runs held at once (all held "
        f"{measured.seconds_to_hold:.1f} s after the triggers began), {measured.after_kib / 1024:.1f} MiB once every "
        f"run ended, {measured.highest_kib / 1024:.1f} MiB at the most during the round (sampled every "
        f"{POLL_S * 1000:.0f} ms; the release's burst of `complete` reports included): {per_run:.1f} KiB a run "
        f"in flight. Errors: {len(warmup.errors)} in the warm-up, "
        f"{len(measured.errors)} in the measured round. Load average (1 min) {load[0]:.2f} before the row, "
        f"{load[1]:.2f} after ({os.cpu_count()} cores, shared).",
    ]
    notes += [f"error: {e}" for e in sorted(set(errors))[:MAX_ERROR_TEXTS]]
    return RowResult(
        13,
        _measure_text(scale),
        f"{per_run:.1f} KiB a run, {measured.most_held} in flight at once, {len(errors)} errors",
        "-",
        "-",
        f"<= {GOAL_KIB:g} KiB a run, all {runs} in flight at once, 0 errors",
        per_run <= GOAL_KIB and measured.most_held == runs and not errors,
        notes,
    )


def run(scale: Scale) -> list[RowResult]:
    """One line; the platform and the host are stopped at the end."""
    secret = new_secret()
    load_before = os.getloadavg()[0]
    sock = listening_socket(0)  # bound here, so that the platform's agent knows the host's URL before it serves
    host_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        env = {"CXPA_SIGNING_SECRET": secret}
        with (
            platform_child(64, url_agent=host_url + HOLD_PATH, env={**os.environ, **env}) as platform,
            runtime_child("hold", {**env, "CXPA_API_URL": platform.url}, sock) as host,
        ):
            sock.close()  # the child serves on its own copy
            warmup, idle_kib, measured = asyncio.run(_measure(scale, platform.url, host))
    except Exception as exc:
        return [failed_row(13, _measure_text(scale), exc)]
    finally:
        sock.close()
    return [_line(scale, warmup, idle_kib, measured, (load_before, os.getloadavg()[0]))]
