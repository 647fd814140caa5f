"""How a `with AgentClient` block ends: a forgotten complete() fails the run; waiting is left waiting."""

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from cxpa_sdk import AgentClient, AsyncAgentClient, Cxpa
from cxpa_sdk.testing import LocalPlatform, RuntimeCall

Body = Callable[[Any], Any]


def sync_runtime(body: Body) -> Callable[[RuntimeCall], None]:
    """A Python runtime whose `with AgentClient` block runs `body(agent)`."""

    def runtime(call: RuntimeCall) -> None:
        with AgentClient.from_payload(call.payload, base_url=call.base_url) as agent:
            body(agent)

    return runtime


def async_runtime(body: Body) -> Callable[[RuntimeCall], None]:
    """The same with `async with AsyncAgentClient`; `body(agent)` returns an awaitable or None."""

    def runtime(call: RuntimeCall) -> None:
        async def flow() -> None:
            async with AsyncAgentClient.from_payload(call.payload, base_url=call.base_url) as agent:
                step = body(agent)
                if step is not None:
                    await step

        asyncio.run(flow())

    return runtime


MAKERS = {"sync": sync_runtime, "async": async_runtime}


@pytest.mark.parametrize("mode", sorted(MAKERS))
def test_a_block_that_ends_without_complete_fails_the_run(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """A block that only sent started and an output ends the run failed, saying complete() was missing."""
    agent = cxpa_platform.add_agent(f"forgetful-{mode}", MAKERS[mode](lambda a: a.output({"half": True})))
    run = cxpa_client.trigger_run_and_wait(agent.id, {}, timeout_ms=30_000)
    assert run.status == "failed"
    assert run.output_data == {"half": True}
    assert run.error is not None
    assert run.error.name == "IncompleteRunError"
    assert "ended without complete() or fail()" in run.error.message
    assert "still running" in run.error.message


@pytest.mark.parametrize("mode", sorted(MAKERS))
def test_a_completed_block_is_left_alone(mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """complete() inside the block is the outcome: nothing else is sent at its end."""
    agent = cxpa_platform.add_agent(f"complete-{mode}", MAKERS[mode](lambda a: a.complete({"pages": 3})))
    run = cxpa_client.trigger_run_and_wait(agent.id, {}, timeout_ms=30_000)
    assert (run.status, run.output_data, run.error) == ("completed", {"pages": 3}, None)


@pytest.mark.parametrize("mode", sorted(MAKERS))
def test_a_block_that_ends_waiting_leaves_the_run_waiting(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """A block that reported waiting (a URL runtime resumed later by notification) keeps the run waiting."""
    ended = threading.Event()

    def runtime(call: RuntimeCall) -> None:
        MAKERS[mode](lambda agent: agent.waiting("tok_block", "waiting for a person"))(call)
        ended.set()  # the block has ended, and with it anything it sends at its end
        call.cancelled.wait(30)

    agent = cxpa_platform.add_agent(f"waiter-{mode}", runtime)
    run_id = cxpa_client.trigger_run(agent.id, {}).run_id
    assert ended.wait(30)
    run = cxpa_client.get_run(agent.id, run_id)
    assert (run.status, run.error) == ("waiting", None)
    cxpa_client.cancel_run(agent.id, run_id)


@pytest.mark.parametrize("mode", sorted(MAKERS))
def test_a_cancelled_run_ending_its_block_logs_no_warning(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa, caplog: pytest.LogCaptureFixture
) -> None:
    """When the run was cancelled under the block, its end tries fail, gets run_cancelled, and warns of nothing."""
    started = threading.Event()
    ended = threading.Event()

    def runtime(call: RuntimeCall) -> None:
        def body(agent: Any) -> None:
            started.set()
            call.cancelled.wait(30)

        try:
            MAKERS[mode](body)(call)
        finally:
            ended.set()

    agent = cxpa_platform.add_agent(f"cancelled-{mode}", runtime)
    run_id = cxpa_client.trigger_run(agent.id, {}).run_id
    assert started.wait(30)
    with caplog.at_level(logging.DEBUG, logger="cxpa_sdk"):
        cxpa_client.cancel_run(agent.id, run_id)
        assert ended.wait(30)
    assert cxpa_platform.run(run_id)["status"] == "cancelled"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
