"""One SDK client shared by many threads or tasks, many long polls at once, and clients across fork().

Every answer must belong to its own request (no answer crosses to another caller), the platform's
state must stay consistent, and a client used before fork() must stay usable on both sides.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from cxpa_sdk import AsyncCxpa, Cxpa, CxpaError, Run
from cxpa_sdk.testing import DEFAULT_INGEST_KEY, ECHO, REPORT, SLOW, STANDALONE, LocalPlatform, report_bytes

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

THREADS = 16
OPS_PER_THREAD = 24
TASKS = 500
SLOW_RUNS = 40
WAITERS = 200
RUNS_IN_FLIGHT = 1000
SLOW_RUN_S = 1
BATCH_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 60.0
POLL_EVERY_S = 0.05
SERVER_START_TIMEOUT_S = 30.0
CHILD_TIMEOUT_S = 30.0
CHILD_EXIT_TIMEOUT_S = 10.0
CHILD_MESSAGE_BYTES = 4096
# Long polls and 500 tasks queue for the pool: give that queue time, keep every phase finite.
ASYNC_TIMEOUT = httpx2.Timeout(connect=10.0, read=60.0, write=30.0, pool=60.0)


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """One local platform served for the module."""
    served = LocalPlatform()
    with served.serve():
        yield served


def check_operation(client: Cxpa, platform: LocalPlatform, tag: str, i: int) -> str | None:
    """Operation i of a mixed batch through a sync client; None when its answer is its own, else what was wrong."""
    kind = i % 4
    if kind == 0:
        given = {"op": i, "tag": tag}
        result = client.trigger_run_and_wait(ECHO, given, timeout_ms=60_000)
        if not isinstance(result, Run) or result.status != "completed" or result.output_data != given:
            return f"op {i}: trigger_run_and_wait answered {result!r} for input {given}"
    elif kind == 1:
        run_id = client.trigger_run(ECHO, {"op": i, "tag": tag}).run_id
        run = client.get_run(ECHO, run_id)
        if run.run_id != run_id or run.input_data != {"op": i, "tag": tag}:
            return f"op {i}: get_run({run_id}) answered run {run.run_id} with input {run.input_data}"
    elif kind == 2:
        external = f"{tag}-{i}"
        registered = client.register_run(STANDALONE, external)
        if platform.run(registered.run_id)["external_run_id"] != external:
            return f"op {i}: register_run({external}) answered run {registered.run_id} of another external id"
    else:
        size = 1000 + i
        with client.trigger_run_and_download(REPORT, {"sizeBytes": size, "chunkBytes": 512}) as download:
            body = download.read()
        if body != b"".join(report_bytes(size, 512)):
            return f"op {i}: download of {size} bytes answered {len(body)} bytes, or other bytes"
    return None


async def acheck_operation(client: AsyncCxpa, platform: LocalPlatform, tag: str, i: int) -> str | None:
    """Operation i of a mixed batch through an async client; None when its answer is its own, else what was wrong."""
    kind = i % 4
    if kind == 0:
        given = {"op": i, "tag": tag}
        result = await client.trigger_run_and_wait(ECHO, given, timeout_ms=60_000)
        if not isinstance(result, Run) or result.status != "completed" or result.output_data != given:
            return f"op {i}: trigger_run_and_wait answered {result!r} for input {given}"
    elif kind == 1:
        run_id = (await client.trigger_run(ECHO, {"op": i, "tag": tag})).run_id
        run = await client.get_run(ECHO, run_id)
        if run.run_id != run_id or run.input_data != {"op": i, "tag": tag}:
            return f"op {i}: get_run({run_id}) answered run {run.run_id} with input {run.input_data}"
    elif kind == 2:
        external = f"{tag}-{i}"
        registered = await client.register_run(STANDALONE, external)
        if platform.run(registered.run_id)["external_run_id"] != external:
            return f"op {i}: register_run({external}) answered run {registered.run_id} of another external id"
    else:
        size = 1000 + i
        async with client.trigger_run_and_download(REPORT, {"sizeBytes": size, "chunkBytes": 512}) as download:
            body = await download.read()
        if body != b"".join(report_bytes(size, 512)):
            return f"op {i}: download of {size} bytes answered {len(body)} bytes, or other bytes"
    return None


def test_one_sync_client_shared_by_16_threads(platform: LocalPlatform) -> None:
    """16 threads share one Cxpa for mixed operations: no error, and every answer is its own request's."""
    tag = f"sync-{uuid.uuid4().hex[:8]}"
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:

        def operation(i: int) -> str | None:
            try:
                return check_operation(client, platform, tag, i)
            except Exception as exc:
                return f"op {i}: {type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(THREADS) as pool:
            problems = [p for p in pool.map(operation, range(THREADS * OPS_PER_THREAD), timeout=BATCH_TIMEOUT_S) if p]
    assert problems == [], f"{len(problems)} of {THREADS * OPS_PER_THREAD} operations went wrong: {problems[:10]}"


def test_one_async_client_shared_by_500_tasks(platform: LocalPlatform) -> None:
    """500 asyncio tasks share one AsyncCxpa for mixed operations: no error, and every answer is its own."""
    tag = f"async-{uuid.uuid4().hex[:8]}"

    async def main() -> list[str]:
        async with AsyncCxpa(
            base_url=platform.base_url, ingest_api_key=platform.ingest_key, timeout=ASYNC_TIMEOUT
        ) as client:

            async def operation(i: int) -> str | None:
                try:
                    return await acheck_operation(client, platform, tag, i)
                except Exception as exc:
                    return f"op {i}: {type(exc).__name__}: {exc}"

            outcomes = await asyncio.wait_for(asyncio.gather(*(operation(i) for i in range(TASKS))), BATCH_TIMEOUT_S)
        return [p for p in outcomes if p]

    problems = asyncio.run(main())
    assert problems == [], f"{len(problems)} of {TASKS} operations went wrong: {problems[:10]}"


def test_200_long_polls_with_1000_runs_in_flight(platform: LocalPlatform) -> None:
    """200 wait_for_run long polls on slow runs while 1000 echo runs call back: all answered, each run ends once."""
    tag = f"flight-{uuid.uuid4().hex[:8]}"

    async def main() -> tuple[list[Run | BaseException], list[str | BaseException]]:
        # The waiters get a pool with room for all of them at once, so the 200 long polls are really held together.
        roomy = httpx2.AsyncClient(
            limits=httpx2.Limits(max_connections=WAITERS + 10, max_keepalive_connections=WAITERS + 10),
            timeout=ASYNC_TIMEOUT,
        )
        async with (
            roomy,
            AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, http_client=roomy) as waiting,
            AsyncCxpa(
                base_url=platform.base_url, ingest_api_key=platform.ingest_key, timeout=ASYNC_TIMEOUT
            ) as triggering,
        ):
            slow = [
                (await triggering.trigger_run(SLOW, {"seconds": SLOW_RUN_S, "tag": tag, "n": n})).run_id
                for n in range(SLOW_RUNS)
            ]
            waiters = [waiting.wait_for_run(SLOW, slow[w % SLOW_RUNS], timeout=60.0) for w in range(WAITERS)]
            # All at once, with no semaphore of the caller's: the SDK's gate queues them for its pool.
            triggers = [triggering.trigger_run(ECHO, {"flight": j, "tag": tag}) for j in range(RUNS_IN_FLIGHT)]
            outcomes = await asyncio.wait_for(
                asyncio.gather(*waiters, *triggers, return_exceptions=True), BATCH_TIMEOUT_S
            )
        waited = list(outcomes[:WAITERS])
        triggered = [o if isinstance(o, BaseException) else o.run_id for o in outcomes[WAITERS:]]
        return waited, [slow[w % SLOW_RUNS] for w in range(WAITERS)] + triggered

    waited, ids = asyncio.run(main())
    asked, triggered = ids[:WAITERS], ids[WAITERS:]
    wrong_waits = [
        (w, repr(r))
        for w, r in enumerate(waited)
        if not isinstance(r, Run) or (r.run_id, r.status) != (asked[w], "completed")
    ]
    assert wrong_waits == [], f"{len(wrong_waits)} of {WAITERS} waiters answered wrong: {wrong_waits[:10]}"
    failed_triggers = [repr(t) for t in triggered if isinstance(t, BaseException)]
    assert failed_triggers == [], f"{len(failed_triggers)} triggers failed: {failed_triggers[:10]}"

    def echo_runs() -> list[dict[str, object]]:
        return [
            r for r in platform.runs(ECHO) if isinstance(r["input_data"], dict) and r["input_data"].get("tag") == tag
        ]

    settle_by = time.monotonic() + SETTLE_TIMEOUT_S
    while any(r["status"] not in ("completed", "failed", "cancelled") for r in echo_runs()):
        if time.monotonic() > settle_by:
            break
        time.sleep(POLL_EVERY_S)  # bounded polling for the runtimes' callbacks to land
    rows = echo_runs()
    per_flight = Counter(r["input_data"]["flight"] for r in rows)  # type: ignore[index]
    assert per_flight == Counter(range(RUNS_IN_FLIGHT)), "every trigger must make exactly one run"
    assert {r["id"] for r in rows} == set(triggered), "the platform's runs are the ones the triggers returned"
    not_completed = [
        (r["id"], r["status"]) for r in rows if r["status"] != "completed" or r["output_data"] != r["input_data"]
    ]
    assert not_completed == [], (
        f"{len(not_completed)} runs did not complete once with their input: {not_completed[:10]}"
    )
    slow_rows = [r for r in platform.runs(SLOW) if (r["input_data"] or {}).get("tag") == tag]
    assert sorted(r["status"] for r in slow_rows) == ["completed"] * SLOW_RUNS


# -- fork --------------------------------------------------------------------------------------


@pytest.fixture
def separate_platform() -> Iterator[str]:
    """A local platform in its own process (`python -m cxpa_sdk.testing --port 0`); its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cxpa_sdk.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = b""
        started_by = time.monotonic() + SERVER_START_TIMEOUT_S
        while not line.endswith(b"\n"):
            left = started_by - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, left))
            if not ready:
                pytest.fail(f"the platform process printed no URL within {SERVER_START_TIMEOUT_S} s")
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                pytest.fail(f"the platform process ended before printing its URL: {line!r}")
            line += byte
        prefix = "CXPA local platform at "
        text = line.decode().strip()
        assert text.startswith(prefix), text
        yield text.removeprefix(prefix)
    finally:
        process.terminate()
        try:
            process.wait(CHILD_EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(CHILD_EXIT_TIMEOUT_S)
        if process.stdout is not None:
            process.stdout.close()


def in_forked_child(action: Callable[[], str]) -> str:
    """Run `action` in a forked child and return what it reported through a pipe (`raised:...` if it raised)."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that fork() in a multi-threaded process may deadlock the child; with
        # filterwarnings=error that warning would be raised in the parent after the child exists. The
        # test process has threads (other tests' servers); the child makes one call on a fresh pool and
        # leaves with os._exit, and the parent kills it if it does not report in time.
        warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            try:
                message = action()
            except BaseException as exc:
                message = f"raised:{type(exc).__name__}:{isinstance(exc, CxpaError)}:{exc}"
            os.write(write_end, message.encode()[:CHILD_MESSAGE_BYTES])
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        return _read_child(read_end)
    finally:
        os.close(read_end)
        _reap(pid)


def _read_child(read_end: int) -> str:
    """What the child wrote, up to its end of the pipe; fails the test when it takes too long."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_end], [], [], max(0.0, left))
        if not ready:
            pytest.fail(f"the forked child did not report within {CHILD_TIMEOUT_S} s")
        chunk = os.read(read_end, CHILD_MESSAGE_BYTES)
        if not chunk:
            return b"".join(chunks).decode()
        chunks.append(chunk)


def _reap(pid: int) -> None:
    """Wait for the child to exit (bounded), killing it if it does not."""
    deadline = time.monotonic() + CHILD_EXIT_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0, f"the forked child exited with status {status}"
            return
        time.sleep(POLL_EVERY_S)  # bounded polling for the child's exit
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child did not exit within {CHILD_EXIT_TIMEOUT_S} s")


@pytest.mark.skipif(sys.platform != "linux", reason="os.fork() is tested on Linux only")
def test_client_used_before_fork_works_in_the_child_and_the_parent(separate_platform: str) -> None:
    """A Cxpa used before fork() works in the child (on a fresh pool) and still works in the parent afterwards."""
    with Cxpa(base_url=separate_platform, ingest_api_key=DEFAULT_INGEST_KEY) as client:
        before = client.trigger_run_and_wait(ECHO, {"who": "parent-before"})
        assert isinstance(before, Run)
        assert before.output_data == {"who": "parent-before"}
        parent_pool = client._http  # holds a kept-alive connection to the platform

        def child_call() -> str:
            result = client.trigger_run_and_wait(ECHO, {"who": "child", "pid": os.getpid()})
            return json.dumps(
                {
                    "status": str(result.status),
                    "output": result.output_data if isinstance(result, Run) else None,
                    "pid": os.getpid(),
                    "fresh_pool": client._http is not parent_pool,
                }
            )

        reported = in_forked_child(child_call)
        assert not reported.startswith("raised:"), reported
        child = json.loads(reported)
        assert child["status"] == "completed", child
        assert child["output"] == {"who": "child", "pid": child["pid"]}, child
        assert child["fresh_pool"], "the child must not use the parent's connection pool"
        assert client._http is parent_pool, "the parent keeps its own pool"
        for n in range(3):
            after = client.trigger_run_and_wait(ECHO, {"who": "parent-after", "n": n})
            assert isinstance(after, Run)
            assert after.output_data == {"who": "parent-after", "n": n}, after


@pytest.mark.skipif(sys.platform != "linux", reason="os.fork() is tested on Linux only")
def test_client_with_brought_http_client_refuses_in_the_forked_child(separate_platform: str) -> None:
    """A Cxpa on a caller's httpx2.Client raises a CxpaError saying "forked" in the child; the parent's still works."""
    with (
        httpx2.Client(timeout=httpx2.Timeout(10.0)) as http,
        Cxpa(base_url=separate_platform, ingest_api_key=DEFAULT_INGEST_KEY, http_client=http) as client,
    ):
        assert client.get_run(ECHO, client.trigger_run(ECHO, {"who": "parent"}).run_id).input_data == {"who": "parent"}

        def child_call() -> str:
            return f"returned:{client.trigger_run(ECHO, {'who': 'child'}).run_id}"

        reported = in_forked_child(child_call)
        kind, _, rest = reported.partition(":")
        assert kind == "raised", f"the child's call must raise, it reported {reported!r}"
        name, _, rest = rest.partition(":")
        is_cxpa_error, _, message = rest.partition(":")
        assert is_cxpa_error == "True", f"the child raised {name}, not a CxpaError: {message}"
        assert "forked" in message, message
        after = client.trigger_run_and_wait(ECHO, {"who": "parent-after"})
        assert isinstance(after, Run)
        assert after.output_data == {"who": "parent-after"}, after
