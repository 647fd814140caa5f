"""Run handles over real HTTP: trigger, wait, result, refresh, cancel, store and rebuild, many at once."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from sdk_support import MODES, Api

from cxpa_sdk import (
    AsyncCxpa,
    AsyncRunHandle,
    ConflictError,
    Cxpa,
    InternalServerError,
    InvalidArgumentTypeError,
    RunFailedError,
    RunHandle,
    RunStatus,
    WaitTimeoutError,
    as_completed,
    wait_all,
)
from cxpa_sdk import aio as cxpa_aio
from cxpa_sdk.testing import ECHO, FAIL, SLOW, LocalPlatform

GOING = (RunStatus.QUEUED, RunStatus.RUNNING)  # a run not ended: on a loaded machine it may not have started yet


def test_trigger_run_returns_a_handle_with_the_triggers_answer(api: Api) -> None:
    """The handle keeps run_id and status as TriggeredRun did, with the answer's request id and attempts."""
    handle = api.trigger_run(ECHO, {"hello": "handle"})
    assert isinstance(handle, RunHandle if api.mode == "sync" else AsyncRunHandle)
    assert handle.run_id.startswith("run_")
    assert handle.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.COMPLETED)
    assert (handle.agent_id, handle.attempts, handle.replayed) == (ECHO, 1, False)
    assert handle.request_id is not None
    run = api.done(handle.result(timeout=30))
    assert (run.run_id, run.status, run.output_data) == (handle.run_id, RunStatus.COMPLETED, {"hello": "handle"})
    assert handle.status is RunStatus.COMPLETED


def test_wait_refresh_and_cancel(api: Api) -> None:
    """refresh() reads the run, cancel() cancels it, wait() returns the terminal Run; each updates status."""
    handle = api.trigger_run(SLOW, {"seconds": 30})
    assert api.done(handle.refresh()).run_id == handle.run_id
    cancelled = api.done(handle.cancel())
    assert cancelled.status is RunStatus.CANCELLED
    assert api.done(handle.wait(timeout=10)).status is RunStatus.CANCELLED
    assert handle.status is RunStatus.CANCELLED
    with pytest.raises(ConflictError):
        api.done(handle.cancel())


def test_result_raises_for_a_failed_run(api: Api) -> None:
    """result() raises RunFailedError carrying the Run; wait() returns it."""
    handle = api.trigger_run(FAIL, {"message": "no luck"})
    with pytest.raises(RunFailedError) as failed:
        api.done(handle.result(timeout=30))
    assert failed.value.run.run_id == handle.run_id
    assert api.done(handle.wait(timeout=30)).status is RunStatus.FAILED


def test_wait_times_out_without_cancelling(api: Api) -> None:
    """A wait that runs out raises WaitTimeoutError naming the run, which goes on running."""
    handle = api.trigger_run(SLOW, {"seconds": 30})
    with pytest.raises(WaitTimeoutError) as timed_out:
        api.done(handle.wait(timeout=0.3))
    assert timed_out.value.run_id == handle.run_id
    assert api.platform.run(handle.run_id)["status"] in ("queued", "running")
    api.done(handle.cancel())


def test_a_stored_handle_is_rebuilt_in_another_process(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """to_dict() is JSON; `client.run(**reference)` in a fresh process waits for the same run."""
    handle = cxpa_client.trigger_run(ECHO, {"from": "parent"})
    reference = json.dumps(handle.to_dict())
    assert json.loads(reference) == {"agent_id": ECHO, "run_id": handle.run_id}
    code = (
        "import json, sys\n"
        "from cxpa_sdk import Cxpa\n"
        "with Cxpa(base_url=sys.argv[1], ingest_api_key=sys.argv[2]) as client:\n"
        "    run = client.run(**json.loads(sys.argv[3])).result(timeout=30)\n"
        "    print(json.dumps(run.to_dict()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, cxpa_platform.base_url, cxpa_platform.ingest_key, reference],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    run = json.loads(done.stdout)
    assert (run["run_id"], run["status"], run["output_data"]) == (handle.run_id, "completed", {"from": "parent"})


def test_client_run_checks_the_reference_and_sends_nothing(cxpa_client: Cxpa) -> None:
    """client.run() is a handle with no status yet; bad ids are refused before anything is sent."""
    handle = cxpa_client.run(ECHO, "run_not_there")
    assert (handle.status, repr(handle)) == (None, "RunHandle(agent_id=1, run_id='run_not_there', status=None)")
    assert handle == cxpa_client.run(ECHO, "run_not_there")
    with pytest.raises(ValueError, match="agent_id"):
        cxpa_client.run(0, "run_1")
    with pytest.raises(ValueError, match="run_id"):
        cxpa_client.run(ECHO, "")


def test_as_completed_yields_first_ended_first_and_wait_all_keeps_order(cxpa_client: Cxpa) -> None:
    """Runs of 1.2 s, 0.2 s and 0.6 s come out shortest first; wait_all returns them in the handles' order."""
    handles = [cxpa_client.trigger_run(SLOW, {"seconds": s}) for s in (1.2, 0.2, 0.6)]
    ended = [run.run_id for run in as_completed(handles, timeout=30)]
    assert ended == [handles[1].run_id, handles[2].run_id, handles[0].run_id]
    again = [cxpa_client.trigger_run(SLOW, {"seconds": s}) for s in (0.4, 0.1)]
    assert [run.run_id for run in wait_all(again, timeout=30)] == [h.run_id for h in again]
    assert {h.status for h in again} == {RunStatus.COMPLETED}


def test_as_completed_times_out_naming_what_is_left(cxpa_client: Cxpa) -> None:
    """At the timeout, WaitTimeoutError names the runs still going; they go on running."""
    quick = cxpa_client.trigger_run(SLOW, {"seconds": 0.1})
    slow = cxpa_client.trigger_run(SLOW, {"seconds": 30})
    ending = as_completed([quick, slow], timeout=1.5)
    assert next(ending).run_id == quick.run_id
    with pytest.raises(WaitTimeoutError, match=rf"1 run\(s\) did not end within 1.5 s: {slow.run_id}"):
        next(ending)
    assert slow.refresh().status in GOING
    slow.cancel()


def test_as_completed_on_an_older_platform_waits_run_by_run() -> None:
    """A platform without wait_for_runs (404 for the route): every run still comes out."""
    platform = LocalPlatform(batch_waits=False)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        handles = [client.trigger_run(SLOW, {"seconds": s}) for s in (0.3, 0.1)]
        assert {run.run_id for run in as_completed(handles, timeout=30)} == {h.run_id for h in handles}


def test_as_completed_refuses_what_is_not_a_handle(cxpa_client: Cxpa) -> None:
    """A TriggeredRun, a run id or an async handle in a sync as_completed is a typed error, before any request."""
    with pytest.raises(InvalidArgumentTypeError, match="expected RunHandle objects, not str"):
        list(as_completed(["run_1"]))  # type: ignore[list-item]


def test_async_as_completed_and_wait_all(cxpa_platform: LocalPlatform) -> None:
    """The async twins: first ended first, and wait_all in order; leaving early stops the waits, not the runs."""

    async def flow() -> None:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            handles = [await client.trigger_run(SLOW, {"seconds": s}) for s in (1.0, 0.1, 0.5)]
            ended = [run.run_id async for run in cxpa_aio.as_completed(handles, timeout=30)]
            assert ended == [handles[1].run_id, handles[2].run_id, handles[0].run_id]
            runs = await cxpa_aio.wait_all(handles, timeout=30)
            assert [run.run_id for run in runs] == [h.run_id for h in handles]
            slow = await client.trigger_run(SLOW, {"seconds": 30})
            with pytest.raises(WaitTimeoutError, match=slow.run_id):
                await cxpa_aio.wait_all([slow], timeout=0.5)
            assert (await slow.refresh()).status in GOING
            await slow.cancel()

    asyncio.run(flow())


@pytest.fixture(scope="module")
def short_windows() -> Iterator[LocalPlatform]:
    """A platform that holds trigger-and-wait at most 1 s, so a wait moves on to run reads quickly."""
    platform = LocalPlatform(max_wait_ms=1000)
    with platform.serve():
        yield platform


@pytest.mark.parametrize("mode", MODES)
def test_errors_of_a_wait_name_the_run(mode: str, short_windows: LocalPlatform) -> None:
    """trigger_run_and_wait whose later run reads get 503s raises with the run id of the run that exists."""
    api = Api(mode, short_windows, [])
    try:
        with short_windows.faults.fail_next(20, status=503, path="*/runs/run_*"):
            with pytest.raises(InternalServerError) as failed:
                api.trigger_run_and_wait(SLOW, {"seconds": 30}, timeout_ms=60_000)
        run_id = failed.value.run_id
        assert run_id is not None
        assert run_id in str(failed.value)
        assert short_windows.run(run_id)["status"] == "running"
        api.cancel_run(SLOW, run_id)
    finally:
        api.close()


def _interrupted_after(seconds: float, call: Callable[[], object]) -> KeyboardInterrupt:
    """What a real Ctrl-C (SIGINT to this process) `seconds` into `call` raises."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as interrupted:
            call()
    finally:
        timer.cancel()
    return interrupted.value


def test_ctrl_c_during_a_wait_notes_the_run(short_windows: LocalPlatform) -> None:
    """Ctrl-C while waiting on a known run: a note names it and how to wait again; the run goes on."""
    with Cxpa(base_url=short_windows.base_url, ingest_api_key=short_windows.ingest_key) as client:
        handle = client.trigger_run(SLOW, {"seconds": 30})
        stop = _interrupted_after(0.5, lambda: handle.wait(timeout=60))
        notes = "\n".join(getattr(stop, "__notes__", []))
        assert f"run {handle.run_id} of agent {SLOW} goes on (stopping a wait never cancels a run)" in notes
        assert f"client.run({SLOW}, {handle.run_id!r}).wait()" in notes
        assert handle.refresh().status in GOING  # not ended: queued still on a loaded machine, or running
        handle.cancel()


def test_ctrl_c_before_the_run_is_named_notes_the_key_that_gets_it_again(short_windows: LocalPlatform) -> None:
    """Ctrl-C inside trigger-and-wait's first window: the note gives the Idempotency-Key, which gets the same run."""
    with Cxpa(base_url=short_windows.base_url, ingest_api_key=short_windows.ingest_key) as client:
        stop = _interrupted_after(0.3, lambda: client.trigger_run_and_wait(SLOW, {"seconds": 30}, timeout_ms=60_000))
        notes = "\n".join(getattr(stop, "__notes__", []))
        assert "the run's id was not known yet" in notes
        key = notes.split("idempotency_key='", 1)[1].split("'", 1)[0]
        (started,) = [run["id"] for run in short_windows.runs(SLOW) if run["status"] in {"queued", "running"}]
        client.cancel_run(SLOW, started)
        again = client.trigger_run_and_wait(SLOW, {"seconds": 30}, timeout_ms=60_000, idempotency_key=key)
        assert (again.run_id, again.status) == (started, RunStatus.CANCELLED)


def test_a_cancelled_task_notes_the_run_and_leaves_it_running(cxpa_platform: LocalPlatform) -> None:
    """Cancelling the task that waits raises CancelledError with a note; the run is not cancelled."""

    async def flow() -> None:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            handle = await client.trigger_run(SLOW, {"seconds": 30})
            task = asyncio.create_task(handle.wait(timeout=60))
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as cancelled:
                await task
            assert handle.run_id in "\n".join(getattr(cancelled.value, "__notes__", []))
            assert (await handle.refresh()).status in GOING
            await handle.cancel()

    asyncio.run(flow())
