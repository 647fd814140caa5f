"""Inline agents: runs that end inside the platform, at scale, with no thread and no callback per run."""

import threading
import time
from collections.abc import Iterator

import pytest

from cxpa_sdk import Cxpa, wait_all
from cxpa_sdk.testing import ECHO, LocalPlatform

RUNS = 5_000


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """A platform of its own (the shared one's agent count stays as tests expect), with two inline agents."""
    platform = LocalPlatform()
    platform.add_agent("fast", inline=True)
    platform.add_agent("later", inline=True, inline_delay_s=0.2, max_run_duration_ms=1_000)
    with platform.serve():
        yield platform


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[Cxpa]:
    """A client on that platform."""
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        yield client


def agent_named(platform: LocalPlatform, name: str) -> int:
    """An agent's id by its name."""
    return next(agent.id for agent in platform.agents if agent.name == name)


def test_thousands_of_inline_runs_batch_triggered_and_batch_awaited_start_no_thread(
    platform: LocalPlatform, client: Cxpa
) -> None:
    """5,000 runs by trigger-batch and wait_for_runs: every one completes with its input, and no thread is started."""
    fast = agent_named(platform, "fast")
    before = len(platform.runs(fast))
    client.trigger_run(ECHO, {"warm": True}).result(timeout=30)  # the built-in runtime pool exists already
    threads = threading.active_count()
    finished = list(client.run_many(fast, ({"n": n} for n in range(RUNS)), max_pending=RUNS))
    assert threading.active_count() <= threads, "an inline run started a thread"
    assert len(finished) == RUNS
    assert all(item.run is not None and item.run.status == "completed" for item in finished)
    assert sorted(item.run.output_data["n"] for item in finished if item.run is not None) == list(range(RUNS))
    assert len(platform.runs(fast)) == before + RUNS


def test_an_inline_run_reports_its_progress_as_a_runtime_would(platform: LocalPlatform, client: Cxpa) -> None:
    """Queued, running, its output, ended: the events and timestamps a runtime's callbacks would leave."""
    run = client.trigger_run(agent_named(platform, "fast"), {"a": 1}).result(timeout=10)
    assert (run.status, run.output_data) == ("completed", {"a": 1})
    assert run.started_at is not None
    assert run.finished_at is not None
    kinds = [event["type"] for event in platform.run_events(run.run_id)]
    assert kinds == ["status", "status", "output", "ended"]


def test_a_delayed_inline_run_wakes_its_waiters_when_it_ends(platform: LocalPlatform, client: Cxpa) -> None:
    """A 0.2 s run: queued when triggered, its waiters (single and batched) woken by its end, not by polling."""
    later = agent_named(platform, "later")
    started = time.monotonic()
    handles = [client.trigger_run(later, {"n": n}) for n in range(3)]
    assert platform.run(handles[0].run_id)["status"] == "queued"
    single = client.wait_for_run(later, handles[0].run_id, timeout=10)
    rest = wait_all(handles[1:], timeout=10)
    assert [r.status for r in [single, *rest]] == ["completed"] * 3
    assert 0.15 <= time.monotonic() - started < 5


def test_an_inline_run_takes_its_length_from_its_input_and_fails_past_its_bound(
    platform: LocalPlatform, client: Cxpa
) -> None:
    """`input.seconds` sets one run's length; past maxRunDurationMs it fails there; a bad one fails at once."""
    later = agent_named(platform, "later")
    quick = client.trigger_run(later, {"seconds": 0}).result(timeout=10)
    assert quick.status == "completed"
    too_long = client.trigger_run(later, {"seconds": 5}).wait(timeout=10)
    assert too_long.status == "failed"
    assert too_long.error is not None
    assert "maxRunDurationMs" in too_long.error.message
    bad = client.trigger_run(later, {"seconds": "soon"}).wait(timeout=10)
    assert bad.status == "failed"
    assert bad.error is not None
    assert bad.error.name == "ValueError"


def test_a_cancelled_inline_run_stays_cancelled(platform: LocalPlatform, client: Cxpa) -> None:
    """Cancelled before its timer fires: it ends cancelled, and the timer changes nothing."""
    handle = client.trigger_run(agent_named(platform, "later"), {"seconds": 0.3})
    handle.cancel()
    time.sleep(0.5)
    assert platform.run(handle.run_id)["status"] == "cancelled"


def test_an_inline_agent_has_no_runtime_and_outputs_json() -> None:
    """A runtime, a standalone agent, a file agent or a negative delay is refused for an inline agent."""
    platform = LocalPlatform(builtin_agents=False)
    with pytest.raises(ValueError, match="inline"):
        platform.add_agent("x", lambda call: None, inline=True)
    with pytest.raises(ValueError, match="inline"):
        platform.add_agent("x", inline=True, output_kind="file_download")
    with pytest.raises(ValueError, match="inline_delay_s"):
        platform.add_agent("x", inline=True, inline_delay_s=-1)
    assert platform.add_agent("x", inline=True).inline
