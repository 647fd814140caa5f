"""Waits that scale: past its first 50 held waits, an AsyncCxpa's waits share a few batched requests.

The connections are counted by a TCP relay between the client and the local platform, so these
tests see what the client really opened, not how it was configured.
"""

import asyncio
import time
from collections.abc import Iterator

import pytest
from connection_counter import counting_relay

from cxpa_sdk import AsyncCxpa, NotFoundError, Run, RunStatus, WaitTimedOut, WaitTimeoutError, _waits
from cxpa_sdk._waits import HELD_WAITS, MAX_BATCHES
from cxpa_sdk.testing import SLOW, LocalPlatform

WAITS = 300


@pytest.fixture(scope="module")
def busy_platform() -> Iterator[LocalPlatform]:
    """A platform whose Python runtimes can all run at once (the built-in `slow` agent sleeps in a thread)."""
    platform = LocalPlatform(runtime_workers=WAITS + 50)
    with platform.serve():
        yield platform


def _port(platform: LocalPlatform) -> int:
    return int(platform.base_url.rsplit(":", 1)[1])


async def _trigger(platform: LocalPlatform, seconds: list[float]) -> list[str]:
    """Start SLOW runs of the given lengths on a client of their own (its connections are not counted)."""
    async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        handles = await asyncio.gather(*(client.trigger_run(SLOW, {"seconds": s}) for s in seconds))
    return [handle.run_id for handle in handles]


def test_many_waits_share_a_few_connections(busy_platform: LocalPlatform) -> None:
    """300 concurrent wait_for_run calls all return their runs, over at most 50 + 4 connections (a pool is 100)."""

    async def flow() -> tuple[list[Run], float]:
        run_ids = await _trigger(busy_platform, [1.0 + (i % 4) * 0.5 for i in range(WAITS)])
        with counting_relay(_port(busy_platform)) as counts:
            async with AsyncCxpa(base_url=counts.url, ingest_api_key=busy_platform.ingest_key) as client:
                started = time.monotonic()
                runs = await asyncio.gather(*(client.wait_for_run(SLOW, run_id, timeout=60) for run_id in run_ids))
                took = time.monotonic() - started
            assert counts.most_open <= HELD_WAITS + MAX_BATCHES + 2, counts
        assert [run.run_id for run in runs] == run_ids
        return runs, took

    runs, took = asyncio.run(flow())
    assert {run.status for run in runs} == {RunStatus.COMPLETED}
    assert took < 30  # the longest run is 2.5 s; a wait that sat out a whole 50 s window would show here


def test_trigger_and_wait_fan_out_completes_every_run(busy_platform: LocalPlatform) -> None:
    """300 concurrent trigger_run_and_wait on one client: every run completes, none is triggered twice."""

    async def flow() -> list[Run | WaitTimedOut]:
        with counting_relay(_port(busy_platform)) as counts:
            async with AsyncCxpa(base_url=counts.url, ingest_api_key=busy_platform.ingest_key) as client:
                return await asyncio.gather(
                    *(
                        client.trigger_run_and_wait(SLOW, {"seconds": 1.5, "n": i}, timeout_ms=60_000)
                        for i in range(WAITS)
                    )
                )

    before = len(busy_platform.runs(SLOW))
    results = asyncio.run(flow())
    assert all(isinstance(result, Run) and result.status is RunStatus.COMPLETED for result in results)
    assert len({result.run_id for result in results}) == WAITS
    assert len(busy_platform.runs(SLOW)) - before == WAITS


def test_a_new_wait_is_answered_while_every_batch_holds_long_runs(busy_platform: LocalPlatform) -> None:
    """With the held waits and every batch busy on 30 s runs, a wait for a 0.3 s run returns within seconds."""

    async def flow() -> float:
        long_ids = await _trigger(busy_platform, [30.0] * (HELD_WAITS + MAX_BATCHES * 2))
        async with AsyncCxpa(base_url=busy_platform.base_url, ingest_api_key=busy_platform.ingest_key) as client:
            waits = [asyncio.ensure_future(client.wait_for_run(SLOW, run_id, timeout=60)) for run_id in long_ids]
            await asyncio.sleep(1.0)  # every batch is in flight by now
            (quick,) = await _trigger(busy_platform, [0.3])
            started = time.monotonic()
            run = await client.wait_for_run(SLOW, quick, timeout=30)
            took = time.monotonic() - started
            assert run.status is RunStatus.COMPLETED
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
            for run_id in long_ids:
                await client.cancel_run(SLOW, run_id)
        return took

    assert asyncio.run(flow()) < 5.0


def test_a_missing_run_among_shared_waits_fails_only_its_wait(busy_platform: LocalPlatform) -> None:
    """A run id the platform doesn't know raises NotFoundError naming it; the other shared waits complete."""

    async def flow() -> list[Run | BaseException]:
        run_ids = await _trigger(busy_platform, [0.5] * (HELD_WAITS + 10))
        async with AsyncCxpa(base_url=busy_platform.base_url, ingest_api_key=busy_platform.ingest_key) as client:
            ids = [*run_ids, "run_not_there"]
            return await asyncio.gather(
                *(client.wait_for_run(SLOW, run_id, timeout=30) for run_id in ids), return_exceptions=True
            )

    results = asyncio.run(flow())
    missing = results[-1]
    assert isinstance(missing, NotFoundError)
    assert missing.run_id == "run_not_there"
    assert all(isinstance(result, Run) for result in results[:-1])


def test_a_shared_wait_times_out_naming_the_run(busy_platform: LocalPlatform) -> None:
    """A shared wait past its timeout raises WaitTimeoutError with the run and its status; the run goes on."""

    async def flow() -> list[Run | BaseException]:
        run_ids = await _trigger(busy_platform, [30.0] * (HELD_WAITS + 5))
        async with AsyncCxpa(base_url=busy_platform.base_url, ingest_api_key=busy_platform.ingest_key) as client:
            results = await asyncio.gather(
                *(client.wait_for_run(SLOW, run_id, timeout=1.0) for run_id in run_ids), return_exceptions=True
            )
            for run_id in run_ids:
                await client.cancel_run(SLOW, run_id)
        return results

    results = asyncio.run(flow())
    assert all(isinstance(result, WaitTimeoutError) and result.status == "running" for result in results)


def test_shared_waits_on_an_older_platform_wait_run_by_run() -> None:
    """Without wait_for_runs (404 for the route) every wait still returns its run, queueing for connections."""
    platform = LocalPlatform(batch_waits=False, runtime_workers=200)

    async def flow() -> list[Run]:
        run_ids = await _trigger(platform, [0.5] * 150)
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
            return await asyncio.gather(*(client.wait_for_run(SLOW, run_id, timeout=30) for run_id in run_ids))

    with platform.serve():
        runs = asyncio.run(flow())
    assert {run.status for run in runs} == {RunStatus.COMPLETED}


def test_a_trigger_and_wait_fan_out_on_an_older_platform_holds_its_waits() -> None:
    """Without wait_for_runs, a fan-out of trigger_run_and_wait keeps the seed's calls: every run completes once."""
    platform = LocalPlatform(batch_waits=False, runtime_workers=200)

    async def flow() -> list[Run | WaitTimedOut]:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
            return await asyncio.gather(
                *(client.trigger_run_and_wait(SLOW, {"seconds": 0.5}, timeout_ms=30_000) for _ in range(150))
            )

    with platform.serve():
        results = asyncio.run(flow())
        assert len(platform.runs(SLOW)) == 150
    assert all(isinstance(result, Run) and result.status is RunStatus.COMPLETED for result in results)


def test_a_call_waits_for_a_free_connection_as_long_as_its_deadline_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    """With all 100 connections held for 14 s, a get_run with no retries waits for one instead of a 10 s PoolTimeout."""
    platform = LocalPlatform(batch_waits=False, runtime_workers=150)
    monkeypatch.setattr(_waits, "HELD_WAITS", 1000)  # every wait holds a connection of its own at once

    async def flow() -> tuple[Run, float]:
        run_ids = await _trigger(platform, [14.0] * 100)
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, max_retries=0) as client:
            waits = [asyncio.ensure_future(client.wait_for_run(SLOW, run_id, timeout=60)) for run_id in run_ids]
            await asyncio.sleep(2.0)  # every connection of the pool now holds a wait (2 s, for a loaded machine)
            started = time.monotonic()
            run = await client.get_run(SLOW, run_ids[0])
            took = time.monotonic() - started
            await asyncio.gather(*waits)
        return run, took

    with platform.serve():
        run, took = asyncio.run(flow())
    assert run.run_id.startswith("run_")
    assert took > 9.0  # it did wait for a connection (about 11 s, past the old fixed pool timeout of 10 s)


@pytest.mark.parametrize("fault", ["fails", "stalls"])
def test_a_shared_wait_that_times_out_keeps_its_timeout_when_run_reads_fail(
    busy_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """Past its timeout a shared wait reads the run's status once; a read that fails or stalls gives "unknown".

    The batched waits work, only the plain run reads fail (500) or stall (30 s): wait_for_run raises
    WaitTimeoutError, and trigger_run_and_wait answers WaitTimedOut with the trigger's status, both
    within the timeout plus one bounded read, never the read's own error after its retries.
    """
    monkeypatch.setattr(_waits, "HELD_WAITS", 0)  # every wait shares
    reads = "/api/agents/*/runs/run_*"

    async def flow() -> tuple[list[BaseException | Run | WaitTimedOut], float]:
        run_ids = await _trigger(busy_platform, [30.0] * 3)
        async with AsyncCxpa(base_url=busy_platform.base_url, ingest_api_key=busy_platform.ingest_key) as client:
            if fault == "fails":
                rule = busy_platform.faults.fail_next(1000, status=500, path=reads)
            else:
                rule = busy_platform.faults.latency(30.0, path=reads)
            started = time.monotonic()
            try:
                results = await asyncio.gather(
                    *(client.wait_for_run(SLOW, run_id, timeout=1.0) for run_id in run_ids),
                    client.trigger_run_and_wait(SLOW, {"seconds": 30}, timeout_ms=1000),
                    return_exceptions=True,
                )
                took = time.monotonic() - started
            finally:
                rule.remove()
            for result in results:
                run_id = result.run_id if isinstance(result, WaitTimedOut) else getattr(result, "run_id", None)
                if isinstance(run_id, str):
                    await client.cancel_run(SLOW, run_id)
        return results, took

    results, took = asyncio.run(flow())
    waits, triggered = results[:-1], results[-1]
    assert all(isinstance(error, WaitTimeoutError) and error.status == "unknown" for error in waits), waits
    assert isinstance(triggered, WaitTimedOut), triggered
    assert triggered.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    assert took < 1.0 + _waits.STATUS_READ_S + 2.0, took  # the timeout, one bounded read, a loaded machine's slack
