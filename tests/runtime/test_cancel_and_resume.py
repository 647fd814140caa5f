"""Cancel and resume deliveries reach the agent's code: over real HTTP, the local platform delivering to a Runtime.

A cancel stops an async function at its next await and marks a sync one `cancelled` (its next call
raises RunCancelledError); nothing is reported after it. `wait_for_token` reports `waiting` and
returns the resumer's output in place; a resume that reaches a restarted process goes to the
agent's `on_resume` handler, or fails the run when there is none.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from runtime_support import Gate, event_types, eventually, runtime_for, serving, settled

from cxpa_sdk import Cxpa, ResumePayload, RunCancelledError
from cxpa_sdk.runtime import RunContext, SyncRunContext
from cxpa_sdk.testing import LocalPlatform


def test_cancel_stops_an_async_function_at_its_next_await(platform: LocalPlatform, client: Cxpa) -> None:
    """The function's pending await raises CancelledError; the run stays cancelled with no fail after it."""
    runtime = runtime_for(platform)
    seen: list[str] = []

    @runtime.agent("sleeper")
    async def sleeper(run: RunContext) -> dict[str, str]:
        seen.append("started")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return {"slept": "yes"}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("sleeper", f"{url}/agents/sleeper")
        run_id = client.trigger_run(agent.id, {}).run_id
        eventually(lambda: seen == ["started"], "the function started")
        client.cancel_run(agent.id, run_id)
        eventually(lambda: seen == ["started", "cancelled"], "the function was cancelled")
        eventually(lambda: not runtime._runs, "the runtime forgot the run")
    row = platform.run(run_id)
    assert row["status"] == "cancelled"
    assert row["error"] is None
    assert "output" not in event_types(platform, run_id)


def test_cancel_reaches_a_sync_function_as_a_flag_and_an_error(platform: LocalPlatform, client: Cxpa) -> None:
    """A sync function sees `run.cancelled`, and its next call to the platform raises RunCancelledError."""
    runtime = runtime_for(platform)
    seen: list[str] = []
    gate = Gate()

    @runtime.agent("worker")
    def worker(run: SyncRunContext) -> dict[str, str]:
        seen.append("started")
        assert gate.wait()
        seen.append(f"cancelled={run.cancelled} is_cancelled()={run.is_cancelled()}")
        try:
            run.output({"late": True})
        except RunCancelledError as exc:
            seen.append(f"RunCancelledError {exc.run_id}")
            raise
        return {"done": "yes"}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("worker", f"{url}/agents/worker")
        run_id = client.trigger_run(agent.id, {}).run_id
        eventually(lambda: seen == ["started"], "the function started")
        client.cancel_run(agent.id, run_id)
        eventually(lambda: any(runtime._runs[r].was_cancelled() for r in runtime._runs), "the cancel arrived")
        gate.open()
        eventually(lambda: not runtime._runs, "the function ended")
    assert seen == ["started", "cancelled=True is_cancelled()=True", f"RunCancelledError {run_id}"]
    row = platform.run(run_id)
    assert row["status"] == "cancelled"
    assert "output" not in event_types(platform, run_id)


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_wait_for_token_resumes_in_place(platform: LocalPlatform, client: Cxpa, kind: str) -> None:
    """`wait_for_token` reports waiting; the resume delivery returns the resumer's output into the same call."""
    runtime = runtime_for(platform)

    async def approve_async(run: RunContext) -> dict[str, Any]:
        approval = await run.wait_for_token(f"tok_{run.run_id}", "waiting for a manager")
        await run.output({"approved": True})
        return {"approval": approval, "text": run.input["text"]}

    def approve_sync(run: SyncRunContext) -> dict[str, Any]:
        approval = run.wait_for_token(f"tok_{run.run_id}", "waiting for a manager")
        run.output({"approved": True})
        return {"approval": approval, "text": run.input["text"]}

    runtime.agent("approve")(approve_async if kind == "async" else approve_sync)
    with serving(runtime, platform) as url:
        agent = platform.add_agent(f"approve-{kind}", f"{url}/agents/approve")
        run_id = client.trigger_run(agent.id, {"text": "ship it"}).run_id
        waiting = settled(platform, run_id, "waiting", "failed")
        assert waiting["waiting"]["description"] == "waiting for a manager"
        platform.resume(f"tok_{run_id}", {"approvedBy": "dana"})
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "completed"
    assert row["output_data"] == {"approval": {"approvedBy": "dana"}, "text": "ship it"}


def test_cancel_ends_a_wait_for_token(platform: LocalPlatform, client: Cxpa) -> None:
    """A sync function blocked in `wait_for_token` gets RunCancelledError when the run is cancelled."""
    runtime = runtime_for(platform)
    seen: list[str] = []

    @runtime.agent("patient")
    def patient(run: SyncRunContext) -> None:
        try:
            run.wait_for_token(f"tok_{run.run_id}", "waiting forever")
        except RunCancelledError:
            seen.append("cancelled")
            raise

    with serving(runtime, platform) as url:
        agent = platform.add_agent("patient", f"{url}/agents/patient")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "waiting")
        client.cancel_run(agent.id, run_id)
        eventually(lambda: seen == ["cancelled"], "the wait ended")
        eventually(lambda: not runtime._runs, "the function ended")
    assert platform.run(run_id)["status"] == "cancelled"


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_resume_after_a_restart_goes_to_the_resume_handler(platform: LocalPlatform, client: Cxpa, kind: str) -> None:
    """A resume reaching a restarted runtime (same URL, no run held) calls `on_resume` with the payload and input."""
    first = runtime_for(platform)

    @first.agent("review")
    async def review(run: RunContext) -> None:
        await run.wait_for_token(f"tok_{run.run_id}", "waiting for review")

    restarted = runtime_for(platform)

    @restarted.agent("review")
    async def review_again(run: RunContext) -> None:
        raise AssertionError("a resume must not start the agent function")

    async def resumed_async(run: RunContext, payload: ResumePayload) -> dict[str, Any]:
        return {"input": run.input, "output": payload.output, "token": payload.token_id}

    def resumed_sync(run: SyncRunContext, payload: ResumePayload) -> dict[str, Any]:
        return {"input": run.input, "output": payload.output, "token": payload.token_id}

    review_again.on_resume(resumed_async if kind == "async" else resumed_sync)
    with serving(first, platform) as url:
        agent = platform.add_agent(f"review-{kind}", f"{url}/agents/review")
        run_id = client.trigger_run(agent.id, {"doc": "Q3"}).run_id
        settled(platform, run_id, "waiting")
    port = int(url.rsplit(":", 1)[1])
    with serving(restarted, platform, port=port):
        platform.resume(f"tok_{run_id}", {"ok": True})
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "completed"
    assert row["output_data"] == {"input": {"doc": "Q3"}, "output": {"ok": True}, "token": f"tok_{run_id}"}


def test_resume_with_no_wait_and_no_handler_fails_the_run(platform: LocalPlatform, client: Cxpa) -> None:
    """A resume that no wait here expects, for an agent without `on_resume`, fails the run saying why."""
    first = runtime_for(platform)

    @first.agent("orphan")
    async def orphan(run: RunContext) -> None:
        await run.wait_for_token(f"tok_{run.run_id}", "waiting")

    restarted = runtime_for(platform)
    restarted.agent("orphan")(orphan.function)
    with serving(first, platform) as url:
        agent = platform.add_agent("orphan", f"{url}/agents/orphan")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "waiting")
    with serving(restarted, platform, port=int(url.rsplit(":", 1)[1])):
        platform.resume(f"tok_{run_id}", {})
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "failed"
    assert row["error"]["name"] == "ResumeNotHandledError"
    assert "no on_resume handler" in row["error"]["message"]
