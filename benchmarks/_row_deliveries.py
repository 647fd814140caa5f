"""Row 12: deliveries per second into the runtime host (`cxpa_sdk.runtime`), against a bare Starlette app.

Each side is served by uvicorn in a child process of its own (`benchmarks._runtime_child`, the
benchmark server's uvicorn settings): the host with one JSON agent, `echo`, an async function that
returns at once, verifying every delivery (a `whsec_` secret in CXPA_SIGNING_SECRET); the floor a
Starlette app whose one route reads the body and answers 202. A load generator here (one
aiohttp.ClientSession, TCP_NODELAY, CONCURRENCY requests in flight; aiohttp, because an
httpx2.AsyncClient tops out near a third of the floor's rate on this machine and would cap both
sides) POSTs the same kind of delivery to each: a trigger payload with a fresh run id, signed
Standard Webhooks headers with a fresh `webhook-id` (a duplicate is refused), the same bytes and
headers to both sides (built, and signed, before each block's clock starts). The sides alternate
in blocks (`deliveries_block` deliveries), host then floor, so that both see the same load of the
machine; the first pair of measurements is a warm-up.

Where the host's reports go: a stub platform, the benchmark server (`benchmarks._server`) in its own
process, which answers each callback at once with the contract's 200 CallbackAccepted and counts
the events. Not the local platform: it would have to make the deliveries itself (the load
generator's runs must exist there), so its own work per run (records, events, its runtime client)
would be in the measurement and on the same two cores; the stub keeps the platform's share to
the least a platform can do, so that what is measured is the host's. A host block ends when every
delivery is answered AND the stub has counted every run's `complete`: the host's background work
(a client per run, `started`, the function, `complete`) is part of its cost, not left behind for
the next block. Two lines: that sustained rate (the goal, >= 0.75 x the floor's rate) and the rate
of answers alone. Errors are counted, never raised: an answer other than 202 (or none), and a
report the stub never received within DRAIN_BOUND_S.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from benchmarks._child import Child
from benchmarks._common import TRIGGER_INPUT, encode
from benchmarks._proc import cpu_seconds
from benchmarks._result import RowResult, Scale, failed_row
from benchmarks._runner import Pairs
from benchmarks._runtime_child import BACKEND_VARIABLE, ECHO_PATH, runtime_child
from benchmarks._server import server_child
from cxpa_sdk._runtime._signing import SigningKey, signature_header, signed_content, signing_keys

CONCURRENCY = 32
BACKENDS = ("httpx2", "aiohttp")  # what the host's runs report with (`Runtime(http_backend=...)`), a line each
AGENT_ID = 1
AGENT_KEY = "cxpa_bench_agent_key"  # the stub platform takes any key
GOAL = 0.75  # the host's sustained rate >= 0.75 x the floor's
DRAIN_BOUND_S = 30.0  # after its last answer, a host block waits at most this long for its reports
POLL_S = 0.002
CALLBACKS_PATH = "/bench/callbacks"
MAX_ERROR_TEXTS = 5

Delivery = tuple[bytes, dict[str, str]]


@dataclass
class Tally:
    """Per side: seconds per delivery of each measurement, and the errors seen."""

    answered: list[float] = field(default_factory=list)  # until the last answer
    cpu_s: float = 0.0  # the CPU time of the side's process(es) over the measurements after the warm-up
    worked: list[float] = field(default_factory=list)  # until the last answer and the last report
    errors: list[str] = field(default_factory=list)
    missing_reports: int = 0


def new_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes) for this run of the row."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def deliveries(keys: tuple[SigningKey, ...], count: int) -> list[Delivery]:
    """`count` signed trigger deliveries, each with a fresh run id and webhook-id, timestamped now."""
    made = []
    timestamp = str(int(time.time()))
    for _ in range(count):
        run_id = f"run_{uuid.uuid4().hex}"
        payload = {"runId": run_id, "agentId": AGENT_ID, "input": TRIGGER_INPUT, "agentApiKey": AGENT_KEY}
        body = encode(payload)
        delivery_id = f"msg_{uuid.uuid4().hex}"
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature_header(signed_content(delivery_id, timestamp, body), keys),
        }
        made.append((body, headers))
    return made


async def _send(http: aiohttp.ClientSession, url: str, block: list[Delivery], errors: list[str]) -> None:
    """POST every delivery of the block, CONCURRENCY at a time; an answer other than 202 is an error."""
    queue = iter(block)

    async def worker() -> None:
        for body, headers in queue:  # shared: each worker takes the next delivery
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    answer = await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status != 202:
                errors.append(f"answered {response.status}: {answer[:200]!r}")

    await asyncio.gather(*(worker() for _ in range(min(CONCURRENCY, len(block)))))


async def _completes(http: aiohttp.ClientSession, stub_url: str) -> int:
    """How many `complete` events the stub platform has received."""
    async with http.get(stub_url + CALLBACKS_PATH) as response:
        return int(json.loads(await response.read()).get("complete", 0))


@dataclass
class Sides:
    """Both sides' servers, the generator's client, the signing keys and where the host's reports are counted."""

    http: aiohttp.ClientSession
    host_server: Child
    bare_server: Child
    stub_server: Child
    keys: tuple[SigningKey, ...]
    host: Tally = field(default_factory=Tally)
    bare: Tally = field(default_factory=Tally)
    stub_cpu_s: float = 0.0  # the stub platform's CPU time over the measurements after the warm-up
    reported: int = 0  # the host's completes the stub has counted so far

    @property
    def host_url(self) -> str:
        """Where the host takes deliveries."""
        return self.host_server.url + ECHO_PATH

    @property
    def bare_url(self) -> str:
        """Where the floor takes deliveries."""
        return self.bare_server.url + ECHO_PATH

    @property
    def stub_url(self) -> str:
        """The stub platform's URL."""
        return self.stub_server.url

    def cpu(self) -> tuple[float, float, float]:
        """The CPU seconds used so far by the host, the floor and the stub platform."""
        servers = (self.host_server, self.bare_server, self.stub_server)
        host, bare, stub = (cpu_seconds(server.pid) for server in servers)
        return host, bare, stub

    async def host_block(self, count: int) -> tuple[float, float]:
        """One block into the host: seconds until the last answer, and until its last report too."""
        block = deliveries(self.keys, count)
        expected = self.reported + count
        started = time.perf_counter()
        await _send(self.http, self.host_url, block, self.host.errors)
        answered = time.perf_counter() - started
        deadline = time.monotonic() + DRAIN_BOUND_S
        while (seen := await _completes(self.http, self.stub_url)) < expected and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        worked = time.perf_counter() - started
        self.host.missing_reports += max(0, expected - seen)
        self.reported = seen
        return answered, worked

    async def bare_block(self, count: int) -> float:
        """One block into the bare Starlette app: seconds until the last answer."""
        block = deliveries(self.keys, count)
        started = time.perf_counter()
        await _send(self.http, self.bare_url, block, self.bare.errors)
        return time.perf_counter() - started


async def _measure(scale: Scale, sides: Sides) -> None:
    """`deliveries_reps` pairs after a warm-up pair, each side's measurement in alternating blocks."""
    calls, block = scale.deliveries_calls, scale.deliveries_block
    cpu_before = sides.cpu()
    for rep in range(scale.deliveries_reps + 1):
        if rep == 1:  # the warm-up pair is over
            cpu_before = sides.cpu()
        host_answered = host_worked = bare_spent = 0.0
        for _ in range(calls // block):
            answered, worked = await sides.host_block(block)
            host_answered += answered
            host_worked += worked
            bare_spent += await sides.bare_block(block)
        sides.host.answered.append(host_answered / calls)
        sides.host.worked.append(host_worked / calls)
        sides.bare.answered.append(bare_spent / calls)
    host_cpu, bare_cpu, stub_cpu = (after - before for after, before in zip(sides.cpu(), cpu_before, strict=True))
    sides.host.cpu_s, sides.bare.cpu_s, sides.stub_cpu_s = host_cpu, bare_cpu, stub_cpu


def _rate_ratio(pairs: Pairs) -> float:
    """The median of the pairwise ratios of the rates, host/floor (= floor's seconds / host's seconds)."""
    return statistics.median(b / a for a, b in zip(pairs.sdk, pairs.raw, strict=True))


def _measure_text(scale: Scale, sustained: bool, backend: str) -> str:
    """The measure column of one line."""
    what = "answered 202 and `complete` reported" if sustained else "answers alone"
    return (
        f"runtime host (`cxpa_sdk.runtime`, signed deliveries, async agent returning at once, reports on "
        f"{backend}), {CONCURRENCY} in flight, vs bare Starlette answering 202 (deliveries/s, {what})"
    )


def _line(scale: Scale, pairs: Pairs, sustained: bool, sides: Sides, backend: str) -> RowResult:
    """One line: rates per side, the ratio of rates and, on the sustained line, the goal."""
    ratio = _rate_ratio(pairs)
    host_errors = len(sides.host.errors) + (sides.host.missing_reports if sustained else 0)
    ratios = [b / a for a, b in zip(pairs.sdk, pairs.raw, strict=True)]
    notes = [
        f"{'sustained' if sustained else 'answers alone'}: {pairs.reps} pairs after a warm-up pair, each of "
        f"{scale.deliveries_calls} deliveries a side in blocks of {scale.deliveries_block}; pairwise ratios of the "
        f"rates host/floor from {min(ratios):.2f} to {max(ratios):.2f}."
    ]
    return RowResult(
        12,
        _measure_text(scale, sustained, backend),
        f"{1 / pairs.sdk_median:.0f}/s, {host_errors} errors",
        f"{1 / pairs.raw_median:.0f}/s, {len(sides.bare.errors)} errors",
        f"{ratio:.2f}",
        f">= {GOAL:g} x the floor's rate, 0 errors" if sustained else "(reported)",
        (ratio >= GOAL and host_errors == 0) if sustained else None,
        notes,
    )


def _row_notes(scale: Scale, sides: Sides, load: tuple[float, float]) -> list[str]:
    """CPU per delivery, errors and the machine's load, once for the row."""
    measured = scale.deliveries_calls * scale.deliveries_reps
    notes = [
        f"CPU time per delivery over the measurements after the warm-up (utime + stime of each process, /proc), "
        f"less sensitive to the machine's load than the rates: host {sides.host.cpu_s / measured * 1000:.2f} ms, "
        f"plus {sides.stub_cpu_s / measured * 1000:.2f} ms in the stub platform answering its two reports; floor "
        f"{sides.bare.cpu_s / measured * 1000:.2f} ms.",
        f"errors over all measurements, warm-up included: host {len(sides.host.errors)} answers other than 202, "
        f"{sides.host.missing_reports} `complete` reports the stub platform never received (bound "
        f"{DRAIN_BOUND_S:g} s a block); floor {len(sides.bare.errors)} answers other than 202. Load average "
        f"(1 min) {load[0]:.2f} before the row, {load[1]:.2f} after ({os.cpu_count()} cores, shared).",
        "the host's reports go to a stub platform (the benchmark server answering each callback 200 at once), "
        "not the local platform: the load generator makes the deliveries, and the platform's own work per run "
        "stays out of the measurement.",
    ]
    notes += [f"host error: {e}" for e in sorted(set(sides.host.errors))[:MAX_ERROR_TEXTS]]
    notes += [f"floor error: {e}" for e in sorted(set(sides.bare.errors))[:MAX_ERROR_TEXTS]]
    return notes


async def _run(scale: Scale, host: Child, bare: Child, stub: Child, secret: str) -> Sides:
    """Measure both sides with one generator client; the tallies."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        sides = Sides(http, host, bare, stub, signing_keys([secret]))
        sides.reported = await _completes(http, stub.url)
        await _measure(scale, sides)
    return sides


def run(scale: Scale) -> list[RowResult]:
    """Per backend of the host's reports, two lines: sustained (the goal) and answers alone; children stopped."""
    return [line for backend in BACKENDS for line in _run_backend(scale, backend)]


def _run_backend(scale: Scale, backend: str) -> list[RowResult]:
    secret = new_secret()
    load_before = os.getloadavg()[0]
    try:
        with server_child() as stub:
            env = {"CXPA_SIGNING_SECRET": secret, "CXPA_API_URL": stub.url, BACKEND_VARIABLE: backend}
            with runtime_child("echo", env) as host, runtime_child("bare", env) as bare:
                sides = asyncio.run(_run(scale, host, bare, stub, secret))
    except Exception as exc:
        return [failed_row(12, _measure_text(scale, sustained, backend), exc) for sustained in (True, False)]
    load = (load_before, os.getloadavg()[0])
    sustained = Pairs(sides.host.worked[1:], sides.bare.answered[1:])  # the first pair was the warm-up
    answers = Pairs(sides.host.answered[1:], sides.bare.answered[1:])
    lines = [_line(scale, sustained, True, sides, backend), _line(scale, answers, False, sides, backend)]
    lines[-1].notes.extend(_row_notes(scale, sides, load))
    return lines
