"""The runtime host over real HTTP: the local platform delivers to a Runtime under uvicorn, which reports back.

An async and a sync agent function each report `started`, their outputs, a credential, and
`complete` with their return value (and `run.outputs`); an exception is `fail` with its type,
message and traceback; a return value that is no JSON fails the run; a duplicate delivery of a
running run's trigger runs nothing; `max_concurrency` holds runs back; the host needs a platform URL.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from delivery_support import signed
from runtime_support import SECRET, Gate, event_types, eventually, runtime_for, serving, settled

from cxpa_sdk import Cxpa, InvalidArgumentError, MissingConfigError
from cxpa_sdk.runtime import RunContext, Runtime, SyncRunContext
from cxpa_sdk.testing import LocalPlatform


def test_async_agent_reports_output_credential_and_completes(platform: LocalPlatform, client: Cxpa) -> None:
    """An async function's output and credential reach the platform; its return value completes the run."""
    runtime = runtime_for(platform)

    @runtime.agent("word-count")
    async def word_count(run: RunContext) -> dict[str, Any]:
        await run.output({"progress": 0.5})
        key = (await run.credential("conn_runtime")).values["apiKey"]
        run.outputs = len(run.input["text"].split())
        asked = await run.is_cancelled()  # one GET to the platform: the run is running
        return {"words": run.outputs, "key": key, "run": run.run_id, "agent": run.agent_id, "cancelled": asked}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("word-count", f"{url}/agents/word-count")
        run_id = client.trigger_run(agent.id, {"text": "to be or not to be"}).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "completed"
    assert row["output_data"] == {
        "words": 6,
        "key": "key-from-the-vault",
        "run": run_id,
        "agent": agent.id,
        "cancelled": False,
    }
    assert row["outputs"] == 6
    outputs = [event["output"] for event in platform.run_events(run_id) if event["type"] == "output"]
    assert outputs[0] == {"progress": 0.5}
    assert event_types(platform, run_id)[:2] == ["status", "status"]  # queued, then running (`started`)


def test_sync_agent_runs_on_a_pool_thread_and_completes(platform: LocalPlatform, client: Cxpa) -> None:
    """A sync function runs off the event loop, reports with the sync context, and completes with its value."""
    runtime = runtime_for(platform)
    threads: list[str] = []

    @runtime.agent("sync-count")
    def sync_count(run: SyncRunContext) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        run.output({"progress": 0.5})
        key = run.credential("conn_runtime").values["apiKey"]
        return {"words": len(run.input["text"].split()), "key": key, "cancelled": run.is_cancelled()}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("sync-count", f"{url}/agents/sync-count")
        run_id = client.trigger_run(agent.id, {"text": "a b c"}).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "completed"
    assert row["output_data"] == {"words": 3, "key": "key-from-the-vault", "cancelled": False}
    assert threads[0].startswith("cxpa-runtime")


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_exception_fails_the_run_with_type_message_and_traceback(
    platform: LocalPlatform, client: Cxpa, kind: str
) -> None:
    """An exception from the function is `fail` with its type, message and a traceback naming the function."""
    runtime = runtime_for(platform)

    def broken_sync(run: SyncRunContext) -> None:
        raise ValueError(f"no text in {sorted(run.input)}")

    async def broken_async(run: RunContext) -> None:
        await asyncio.sleep(0)
        raise ValueError(f"no text in {sorted(run.input)}")

    runtime.agent("broken")(broken_async if kind == "async" else broken_sync)
    with serving(runtime, platform) as url:
        agent = platform.add_agent(f"broken-{kind}", f"{url}/agents/broken")
        run_id = client.trigger_run(agent.id, {"topic": "Q3"}).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "failed"
    assert row["error"]["name"] == "ValueError"
    assert row["error"]["message"] == "no text in ['topic']"
    assert f"broken_{kind}" in row["error"]["stack"]


def test_return_value_that_is_no_json_fails_the_run(platform: LocalPlatform, client: Cxpa) -> None:
    """A return value the platform cannot take (not JSON) fails the run, rather than leaving it running."""
    runtime = runtime_for(platform)

    @runtime.agent("odd")
    async def odd(run: RunContext) -> object:
        return object()

    with serving(runtime, platform) as url:
        agent = platform.add_agent("odd", f"{url}/agents/odd")
        run_id = client.trigger_run(agent.id, {}).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "failed"
    assert row["error"]["name"] == "InvalidOutputError"


def test_duplicate_trigger_of_a_running_run_runs_once(platform: LocalPlatform, client: Cxpa) -> None:
    """The same run's trigger delivered again (a fresh webhook-id) while it runs starts nothing more."""
    runtime = runtime_for(platform)
    calls: list[str] = []
    gate = Gate()

    @runtime.agent("once")
    def once(run: SyncRunContext) -> dict[str, int]:
        calls.append(run.run_id)
        assert gate.wait()
        return {"calls": len(calls)}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("once", f"{url}/agents/once")
        run_id = client.trigger_run(agent.id, {"n": 1}).run_id
        eventually(lambda: len(calls) == 1, "the first delivery started the function")
        payload = {"runId": run_id, "agentId": agent.id, "input": {"n": 1}, "agentApiKey": agent.api_key}
        body = json.dumps(payload).encode()
        answer = httpx2.post(f"{url}/agents/once", content=body, headers=signed(body, secrets=(SECRET,)))
        assert answer.status_code == 202
        time.sleep(0.2)  # give a wrongly started second run the time to show
        gate.open()
        row = settled(platform, run_id, "completed", "failed")
    assert calls == [run_id]
    assert row["output_data"] == {"calls": 1}


def test_max_concurrency_holds_runs_back(platform: LocalPlatform, client: Cxpa) -> None:
    """With max_concurrency=1 an agent's runs go one at a time; every one completes."""
    runtime = runtime_for(platform)
    active: list[int] = [0]
    most: list[int] = [0]

    @runtime.agent("single", max_concurrency=1)
    async def single(run: RunContext) -> dict[str, int]:
        active[0] += 1
        most[0] = max(most[0], active[0])
        await asyncio.sleep(0.1)
        active[0] -= 1
        return {"n": run.input["n"]}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("single", f"{url}/agents/single")
        run_ids = [client.trigger_run(agent.id, {"n": n}).run_id for n in range(3)]
        rows = [settled(platform, run_id, "completed", "failed") for run_id in run_ids]
    assert [row["output_data"] for row in rows] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert most[0] == 1


def test_asgi_needs_a_platform_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without base_url= or CXPA_API_URL, asgi() raises MissingConfigError at startup, not at the first run."""
    monkeypatch.delenv("CXPA_API_URL", raising=False)
    with pytest.raises(MissingConfigError, match="CXPA_API_URL"):
        Runtime(secrets=SECRET).asgi()


def test_signing_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """CXPA_SIGNING_SECRET's keys are trusted when no secrets= is given; the runtime's repr never shows them."""
    monkeypatch.setenv("CXPA_SIGNING_SECRET", SECRET)
    runtime = Runtime(base_url="http://127.0.0.1:1")
    assert "deliveries=verified" in repr(runtime)
    assert SECRET not in repr(runtime)
    monkeypatch.delenv("CXPA_SIGNING_SECRET")
    assert "deliveries=unverified" in repr(Runtime(base_url="http://127.0.0.1:1"))


@pytest.fixture
def older_platform() -> Iterator[LocalPlatform]:
    """A platform without the delivery-retry extension (`delivery_attempts=1`): a runtime's 503 fails the run."""
    served = LocalPlatform(signing_secret=SECRET, builtin_agents=False, delivery_attempts=1)
    with served.serve():
        yield served


@pytest.fixture
def older_client(older_platform: LocalPlatform) -> Iterator[Cxpa]:
    """A client of the older platform."""
    with Cxpa(base_url=older_platform.base_url, ingest_api_key=older_platform.ingest_key) as made:
        yield made


def test_full_queue_answers_503_with_retry_after(older_platform: LocalPlatform, older_client: Cxpa) -> None:
    """Past max_concurrency + max_queued runs a trigger is answered 503 + Retry-After; this platform then fails it."""
    platform, client = older_platform, older_client  # test_retried_deliveries.py: a platform that retries
    runtime = runtime_for(platform, retry_after=7)
    gate = Gate()
    started: list[str] = []

    @runtime.agent("narrow", max_concurrency=1, max_queued=1)
    def narrow(run: SyncRunContext) -> dict[str, int]:
        started.append(run.run_id)
        assert gate.wait()
        return {"n": run.input["n"]}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("narrow", f"{url}/agents/narrow")
        working = client.trigger_run(agent.id, {"n": 0}).run_id
        eventually(lambda: started == [working], "the first run started")
        queued = client.trigger_run(agent.id, {"n": 1}).run_id
        eventually(lambda: runtime.agents["narrow"].in_flight == 2, "the second run was queued")
        refused = client.trigger_run(agent.id, {"n": 2}).run_id
        refused_row = settled(platform, refused, "failed")
        body = json.dumps({"runId": "run_direct", "agentId": agent.id, "input": {"n": 3}, "agentApiKey": "k"})
        headers = signed(body.encode(), secrets=(SECRET,))
        answer = httpx2.post(f"{url}/agents/narrow", content=body, headers=headers)
        gate.open()
        rows = [settled(platform, run_id, "completed", "failed") for run_id in (working, queued)]
        again = httpx2.post(f"{url}/agents/narrow", content=body, headers=headers)  # the same delivery, retried
        settled(platform, queued, "completed")
    assert refused_row["error"]["message"].endswith("answered 503")  # a platform without the extension
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "7")
    assert answer.json()["error"]["code"] == "runtime_busy"
    assert again.status_code == 202  # its webhook-id was not taken by the refusal: a retry is no replay
    assert [row["output_data"] for row in rows] == [{"n": 0}, {"n": 1}]
    assert refused not in started


def test_max_queued_needs_max_concurrency(platform: LocalPlatform) -> None:
    """max_queued alone is refused: it bounds the runs waiting for a max_concurrency slot."""
    with pytest.raises(InvalidArgumentError, match="set both"):
        runtime_for(platform).agent("unbounded", max_queued=3)


def test_runtime_wide_limit_spans_agents(older_platform: LocalPlatform, older_client: Cxpa) -> None:
    """Runtime(max_concurrency=1, max_queued=1) holds runs of two agents to one at a time, and refuses a third."""
    platform, client = older_platform, older_client
    runtime = runtime_for(platform, max_concurrency=1, max_queued=1)
    gate = Gate()
    started: list[str] = []

    def gated(run: SyncRunContext) -> dict[str, str]:
        started.append(run.run_id)
        assert gate.wait()
        return {"run": run.run_id}

    runtime.agent("first")(gated)
    runtime.agent("second")(gated)
    with serving(runtime, platform) as url:
        first = platform.add_agent("wide-first", f"{url}/agents/first")
        second = platform.add_agent("wide-second", f"{url}/agents/second")
        working = client.trigger_run(first.id, {}).run_id
        eventually(lambda: started == [working], "the first run started")
        queued = client.trigger_run(second.id, {}).run_id
        eventually(lambda: runtime.limit.in_flight == 2, "the second agent's run was queued")
        refused = client.trigger_run(second.id, {}).run_id
        refused_row = settled(platform, refused, "failed")
        assert started == [working]  # the queued run of the other agent has not started
        gate.open()
        rows = [settled(platform, run_id, "completed", "failed") for run_id in (working, queued)]
    assert refused_row["error"]["message"].endswith("answered 503")
    assert [row["status"] for row in rows] == ["completed", "completed"]
    assert started == [working, queued]


@pytest.mark.parametrize("kind", ["async", "sync", "aiohttp"])
def test_runs_report_on_one_kept_alive_pool_each_with_its_own_key(
    platform: LocalPlatform, client: Cxpa, kind: str
) -> None:
    """Twenty runs of two agents (each its own key) report over a few connections, not one pool per run."""
    from connection_counter import counting_relay  # noqa: PLC0415 - the benchmarks' relay, found in the checkout

    port = int(platform.base_url.rsplit(":", 1)[1])
    with counting_relay(port) as counts:
        runtime = Runtime(
            base_url=counts.url, secrets=SECRET, http_backend="aiohttp" if kind == "aiohttp" else "httpx2"
        )
        if kind != "sync":

            @runtime.agent("keyed-a")
            async def keyed_a(run: RunContext) -> dict[str, Any]:
                await run.output({"step": 1})
                return {"agent": run.agent_id}

        else:

            @runtime.agent("keyed-a")
            def keyed_a_sync(run: SyncRunContext) -> dict[str, Any]:
                run.output({"step": 1})
                return {"agent": run.agent_id}

        @runtime.agent("keyed-b")
        async def keyed_b(run: RunContext) -> dict[str, Any]:
            return {"agent": run.agent_id}

        with serving(runtime, platform) as url:
            first = platform.add_agent("keyed-a", f"{url}/agents/keyed-a")
            second = platform.add_agent("keyed-b", f"{url}/agents/keyed-b")
            rows = []
            for index in range(10):  # one after the other: a pool per run would open a connection each
                for agent in (first, second):
                    run_id = client.trigger_run(agent.id, {"n": index}).run_id
                    rows.append((agent.id, settled(platform, run_id, "completed", "failed")))
    assert [row["output_data"] for _, row in rows] == [{"agent": agent_id} for agent_id, _ in rows]
    assert counts.opened <= 4, f"{counts.opened} connections for 20 runs"
