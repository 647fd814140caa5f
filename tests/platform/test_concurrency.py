"""Concurrent callers: triggers and their callbacks keep the state consistent, and waiting takes no thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from cxpa_sdk.testing import ECHO, SLOW, LocalPlatform

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

TRIGGERS = 100
SLOW_RUNS = 20
WAITERS_PER_RUN = 10
# Threads the 200 held waits may add: none, bar a few the event loop or httpx might start on their own.
MAX_THREADS_ADDED = 10
REQUEST_TIMEOUT_S = 30.0
TEST_TIMEOUT_S = 60.0
SAMPLE_EVERY_S = 0.005
# Long enough for 200 waits to go out and be held while the runs run: sending them from this process,
# which also serves them, takes up to ~1.5 s on a 2-core machine (0.3 s runs were over before most were).
SLOW_RUN_S = 3.0


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """One local platform served for the module."""
    served = LocalPlatform()
    with served.serve():
        yield served


def client(platform: LocalPlatform, connections: int) -> httpx2.AsyncClient:
    """An async client on the platform with the ingest key and room for `connections` at once."""
    return httpx2.AsyncClient(
        base_url=platform.base_url,
        headers={"Authorization": f"Bearer {platform.ingest_key}"},
        limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=REQUEST_TIMEOUT_S,
        trust_env=False,
    )


def test_100_concurrent_triggers_each_complete_once_with_their_own_output(platform: LocalPlatform) -> None:
    """100 concurrent trigger-and-waits on echo each complete once with their own input as output."""

    async def trigger_all() -> list[httpx2.Response]:
        async with client(platform, TRIGGERS) as http:
            posts = [
                http.post(
                    f"/api/agents/{ECHO}/runs/trigger-and-wait",
                    json={"input": {"n": n}},
                    headers={"Idempotency-Key": f"concurrency-{n}-{uuid.uuid4()}"},
                )
                for n in range(TRIGGERS)
            ]
            return await asyncio.wait_for(asyncio.gather(*posts), TEST_TIMEOUT_S)

    answers = asyncio.run(trigger_all())
    assert [answer.status_code for answer in answers] == [200] * TRIGGERS, [a.text for a in answers if a.is_error]
    rows = [answer.json() for answer in answers]
    assert [(row["status"], row["input_data"], row["output_data"]) for row in rows] == [
        ("completed", {"n": n}, {"n": n}) for n in range(TRIGGERS)
    ]
    run_ids = [row["id"] for row in rows]
    assert len(set(run_ids)) == TRIGGERS
    stored: dict[str, list[dict[str, Any]]] = {}
    for row in platform.runs(ECHO):
        stored.setdefault(row["id"], []).append(row)
    for n, run_id in enumerate(run_ids):
        assert [(row["status"], row["output_data"]) for row in stored.get(run_id, [])] == [("completed", {"n": n})]


class ThreadSampler:
    """Samples the process's live thread count from its own thread (the event loop is too busy to do it)."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="thread-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.samples.append(threading.active_count())

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(REQUEST_TIMEOUT_S)


def test_200_long_poll_waiters_on_20_slow_runs_all_see_completed_without_taking_threads(
    platform: LocalPlatform,
) -> None:
    """200 concurrent long polls on 20 slow runs all answer completed, and the waits take no threads."""
    sent_while_running: list[bool] = []

    async def note_run_state(request: httpx2.Request) -> None:
        run_id = request.url.path.rsplit("/", 1)[-1]
        sent_while_running.append(platform.run(run_id)["status"] in ("queued", "running"))

    async def wait_for_all(sampler: ThreadSampler) -> tuple[list[httpx2.Response], int, int]:
        async with contextlib.AsyncExitStack() as stack:
            # One client per run: httpx's pool slows down quadratically with hundreds of connections.
            clients = [await stack.enter_async_context(client(platform, WAITERS_PER_RUN)) for _ in range(SLOW_RUNS)]
            # Open every connection first, so that the waits all go out at once.
            warm_up = [
                http.get(f"/api/agents/{SLOW}/runs/warm-up-{n}") for http in clients for n in range(WAITERS_PER_RUN)
            ]
            assert {answer.status_code for answer in await asyncio.gather(*warm_up)} == {404}
            slow = {"input": {"seconds": SLOW_RUN_S}}
            triggered = await asyncio.gather(
                *[http.post(f"/api/agents/{SLOW}/runs/trigger", json=slow) for http in clients]
            )
            assert {answer.status_code for answer in triggered} == {202}
            # Each trigger hands its run to a runtime thread before answering: those threads exist now.
            baseline = threading.active_count()
            start = len(sampler.samples)
            waits = []
            for http, answer in zip(clients, triggered, strict=True):
                http.event_hooks["request"] = [note_run_state]
                path = f"/api/agents/{SLOW}/runs/{answer.json()['runId']}"
                waits += [http.get(path, params={"waitMs": 10_000}) for _ in range(WAITERS_PER_RUN)]
            answers = await asyncio.wait_for(asyncio.gather(*waits), TEST_TIMEOUT_S)
            return answers, baseline, start

    with ThreadSampler() as sampler:
        answers, baseline, start = asyncio.run(wait_for_all(sampler))
    during = sampler.samples[start:]
    waiters = SLOW_RUNS * WAITERS_PER_RUN
    assert [answer.status_code for answer in answers] == [200] * waiters
    assert Counter(answer.json()["status"] for answer in answers) == {"completed": waiters}
    assert sent_while_running == [True] * waiters, "some waits went out after their run had ended"
    assert during, "no thread count was sampled during the waits"
    assert max(during) - baseline <= MAX_THREADS_ADDED, f"the waits added {max(during) - baseline} threads"
