"""Run leases over real HTTP (the lease extension): a runtime that stops reporting is failed within its lease.

A host killed with a real SIGKILL mid-run has its run failed `RuntimeLost` within lease + slack; a
run that works for three leases while the host heartbeats completes; a run waiting on a token holds
no lease and completes after its resume; an older platform (refusing the lease, or a heartbeat) gets
no more heartbeats and the run completes; a cancel learnt from a heartbeat's answer stops the
function; heartbeats answered 503, dropped, late or with garbage neither crash the host nor fail the
run. The agent client's lease (`started(lease_seconds=)`, `heartbeat()`) is checked directly too.
A run still queued in the host (behind `max_concurrency`) holds the lease from the trigger's 202
(`CXPA-Lease-Seconds`): a SIGKILL fails it too, a living host's heartbeats keep it, and a runtime's
unfit header is ignored by the platform. A resumed run queued in the host before its `started`
holds the lease from the resume's 202 the same way; a run waiting on a token takes none.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pytest
from child_support import START_TIMEOUT_S, child
from runtime_support import SECRET, Gate, eventually, runtime_for, serving, settled

from cxpa_sdk import AgentClient, BadRequestError, Cxpa, InvalidArgumentError, InvalidArgumentTypeError, Run
from cxpa_sdk._errors import status_error
from cxpa_sdk.runtime import RunContext, Runtime, SyncRunContext
from cxpa_sdk.runtime._heartbeat import refused
from cxpa_sdk.testing import LocalPlatform
from cxpa_sdk.testing._faults import FaultRule
from cxpa_sdk.testing._leases import delivered_lease

LAPSE_SLACK_S = 4.0  # how much later than its lease a lapsed run may be failed on a loaded machine, in seconds


def lapsed_message(seconds: int) -> str:
    """What a person reads in the row of a run whose lease lapsed."""
    return f"the runtime stopped reporting: no callback for {seconds} s (its lease lapsed)"


def assert_lost_within(rows: list[Run], took: float, lease: int) -> None:
    """Every run failed RuntimeLost for a lease of `lease` seconds, within that lease plus LAPSE_SLACK_S."""
    for row in rows:
        assert row.status == "failed", row
        assert row.error is not None
        assert (row.error.name, row.error.message) == ("RuntimeLost", lapsed_message(lease))
    assert took < lease + LAPSE_SLACK_S, took


def callbacks_of(platform: LocalPlatform, agent_id: int) -> FaultRule:
    """A rule that delays nothing and counts the callbacks of one agent's runtime (its `hits`)."""
    return platform.faults.latency(0.0, path="/api/runs/*/callback", key=platform.agent_api_key(agent_id))


# -- the agent client's lease ---------------------------------------------------------------


def agent_client(platform: LocalPlatform, agent_id: int, run_id: str) -> AgentClient:
    """An agent client on a run of `agent_id`, as a hand-written runtime makes it."""
    return AgentClient(api_key=platform.agent_api_key(agent_id), run_id=run_id, base_url=platform.base_url)


def test_a_lease_lapses_without_callbacks_and_fails_the_run(platform: LocalPlatform, client: Cxpa) -> None:
    """A heartbeat renews the lease; silence past it fails the run RuntimeLost, which wait_for_run returns."""
    agent = platform.add_agent("lease-client", None)
    run_id = client.trigger_run(agent.id, {}).run_id
    reporter = agent_client(platform, agent.id, run_id)
    try:
        assert reporter.started(lease_seconds=2).status == "running"
        assert (reporter.lease_seconds, platform.lease(run_id)) == (2, 2)
        for _ in range(3):  # 3 s in all: past the lease, renewed each time
            time.sleep(1.0)
            assert reporter.heartbeat().status == "running"
        began = time.monotonic()
        row = client.wait_for_run(agent.id, run_id, timeout=30)
        took = time.monotonic() - began
    finally:
        reporter.close()
    assert_lost_within([row], took, 2)
    assert platform.lease(run_id) is None


def test_waiting_gives_up_the_lease(platform: LocalPlatform, client: Cxpa) -> None:
    """A waiting run holds no lease: past it, the run still waits."""
    agent = platform.add_agent("lease-waits", None)
    run_id = client.trigger_run(agent.id, {}).run_id
    reporter = agent_client(platform, agent.id, run_id)
    try:
        reporter.started(lease_seconds=2)
        reporter.waiting("tok_lease_waits", "a person's approval")
        assert platform.lease(run_id) is None
        time.sleep(2.5)
        assert platform.run(run_id)["status"] == "waiting"
        assert reporter.heartbeat().status == "waiting"  # answered, changes nothing
    finally:
        reporter.close()
    client.cancel_run(agent.id, run_id)


@pytest.mark.parametrize(
    ("lease", "error"),
    [
        (1, InvalidArgumentError),
        (3601, InvalidArgumentError),
        (-5, InvalidArgumentError),
        (True, InvalidArgumentTypeError),
        (2.5, InvalidArgumentTypeError),
    ],
    ids=["one-second", "over-an-hour", "negative", "bool", "float"],
)
def test_a_lease_out_of_bounds_is_refused(lease: Any, error: type[Exception]) -> None:
    """A lease is whole seconds, 2 to 3600, for the runtime host and the agent client alike; nothing is sent."""
    with pytest.raises(error, match="lease_seconds"):
        Runtime(base_url="http://127.0.0.1:9", lease_seconds=lease)
    reporter = AgentClient(api_key="k", run_id="run_x", base_url="http://127.0.0.1:9")
    try:
        with pytest.raises(error, match="lease_seconds"):  # refused before anything is sent
            reporter.started(lease_seconds=lease)
    finally:
        reporter.close()


@pytest.mark.parametrize("lease", [None, 0], ids=["none", "zero"])
def test_a_runtime_without_a_lease_asks_for_none(platform: LocalPlatform, client: Cxpa, lease: int | None) -> None:
    """`lease_seconds=None` or 0: `started` asks for no lease, and no heartbeat is sent."""
    runtime = runtime_for(platform, lease_seconds=lease)
    gate = Gate()

    @runtime.agent("no-lease")
    async def no_lease(run: RunContext) -> None:
        await asyncio.to_thread(gate.wait)

    with serving(runtime, platform) as url:
        agent = platform.add_agent("no-lease", f"{url}/agents/no-lease")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "running")
        assert platform.lease(run_id) is None
        gate.open()
        assert settled(platform, run_id, "completed", "failed")["status"] == "completed"


@pytest.mark.parametrize(
    ("status", "code", "stops"),
    [
        (400, "invalid_body", True),
        (404, "not_found", True),
        (405, "method_not_allowed", True),
        (501, "not_implemented", True),
        (404, "run_not_found", False),
        (401, "unauthorized", False),
        (429, "rate_limited", False),
        (503, "unavailable", False),
    ],
    ids=["400", "404-no-route", "405", "501", "404-no-run", "401", "429", "503"],
)
def test_which_heartbeat_answers_say_the_platform_has_no_leases(status: int, code: str, stops: bool) -> None:
    """Only an answer that says the event or route is unknown ends the host's heartbeats; the rest are retried."""
    error = status_error(
        status,
        code=code,
        message="no",
        run_id="run_x",
        request_id=None,
        attempts=1,
        idempotency_key=None,
        retry_after=None,
    )
    assert refused(error) is stops


# -- the host killed outright ---------------------------------------------------------------

KILLED = """
import asyncio

from cxpa_sdk.runtime import RunContext, Runtime

runtime = Runtime(lease_seconds=3, max_concurrency={max_concurrency})


@runtime.agent("stuck")
async def stuck(run: RunContext) -> None:
    await asyncio.sleep(120)
"""


@contextmanager
def served_host(platform: LocalPlatform, tmp_path: Path, *, max_concurrency: int | None) -> Iterator[tuple[Any, str]]:
    """`cxpa runtime serve` of KILLED in a child process: the child, and its agent's URL."""
    (tmp_path / "killed.py").write_text(KILLED.format(max_concurrency=max_concurrency), encoding="utf-8")
    env = {**os.environ, "CXPA_API_URL": platform.base_url, "CXPA_SIGNING_SECRET": SECRET}
    command = [sys.executable, "-m", "cxpa_sdk", "runtime", "serve", "killed:runtime", "--port", "0"]
    with child(command, what="`cxpa runtime serve`", lines=True, cwd=tmp_path, env=env) as server:
        banner = server.lines.until("Ctrl-C or SIGTERM stops it.\n", START_TIMEOUT_S)
        yield server, banner[1].removeprefix("agent stuck: ").strip()


def killed(server: Any, client: Cxpa, agent_id: int, *run_ids: str) -> tuple[list[Run], float]:
    """SIGKILL the served host: each run as `wait_for_run` returns it, and the seconds from the kill to the last."""
    server.process.send_signal(signal.SIGKILL)
    at = time.monotonic()
    server.process.wait(10)
    rows = [client.wait_for_run(agent_id, run_id, timeout=60) for run_id in run_ids]
    return rows, time.monotonic() - at


def test_a_host_killed_mid_run_has_its_run_failed_within_the_lease(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """SIGKILL to a `cxpa runtime serve` child mid-run: the run is failed RuntimeLost within lease + slack."""
    with served_host(platform, tmp_path, max_concurrency=None) as (server, url):
        agent = platform.add_agent("killed", url)
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "running")
        time.sleep(4.0)  # past one lease: the heartbeats keep it
        assert platform.run(run_id)["status"] == "running"
        assert platform.lease(run_id) == 3
        rows, took = killed(server, client, agent.id, run_id)
    assert_lost_within(rows, took, 3)


# -- heartbeats keep a working run ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_run_working_for_three_leases_completes(platform: LocalPlatform, client: Cxpa, kind: str) -> None:
    """A function silent for three leases completes: the host's heartbeats renew its lease."""
    runtime = runtime_for(platform, lease_seconds=2)

    if kind == "async":

        @runtime.agent("three-leases")
        async def three_leases(run: RunContext) -> dict[str, Any]:
            await asyncio.sleep(6)
            return {"lease": platform.lease(run.run_id)}

    else:

        @runtime.agent("three-leases")
        def three_leases_sync(run: SyncRunContext) -> dict[str, Any]:
            time.sleep(6)
            return {"lease": platform.lease(run.run_id)}

    with serving(runtime, platform) as url:
        agent = platform.add_agent(f"three-leases-{kind}", f"{url}/agents/three-leases")
        with callbacks_of(platform, agent.id) as counted:
            run_id = client.trigger_run(agent.id, {}).run_id
            row = settled(platform, run_id, "completed", "failed")
    assert (row["status"], row["output_data"], row["error"]) == ("completed", {"lease": 2}, None)
    assert 6 <= counted.hits <= 12, counted.hits  # started, about 2 beats a lease (quiet runs only), complete


def test_a_run_waiting_past_its_lease_completes_after_resume(platform: LocalPlatform, client: Cxpa) -> None:
    """`wait_for_token` gives up the lease: waiting past it fails nothing; the resumed run takes it again."""
    runtime = runtime_for(platform, lease_seconds=2)

    @runtime.agent("waits-past")
    async def waits_past(run: RunContext) -> dict[str, Any]:
        approval = await run.wait_for_token(f"tok_{run.run_id}", "a person's approval")
        return {**approval, "lease": platform.lease(run.run_id)}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("waits-past", f"{url}/agents/waits-past")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "waiting")
        assert platform.lease(run_id) is None
        time.sleep(3.0)
        assert platform.run(run_id)["status"] == "waiting"
        client.resume_run(agent.id, run_id, f"tok_{run_id}", {"approved": True})
        row = settled(platform, run_id, "completed", "failed")
    assert (row["status"], row["output_data"]) == ("completed", {"approved": True, "lease": 2})


# -- an older platform ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def older_platform() -> Iterator[LocalPlatform]:
    """A platform without the lease extension: a `started` with `leaseSeconds` and a `heartbeat` are 400."""
    served = LocalPlatform(signing_secret=SECRET, leases=False)
    with served.serve():
        yield served


def test_an_older_platform_refusing_the_lease_gets_no_heartbeats(older_platform: LocalPlatform) -> None:
    """The lease refused (400): `started` again without it, no heartbeat ever, and the run completes."""
    runtime = runtime_for(older_platform, lease_seconds=2)

    @runtime.agent("older")
    async def older(run: RunContext) -> dict[str, bool]:
        await asyncio.sleep(3)
        return {"done": True}

    with (
        serving(runtime, older_platform) as url,
        Cxpa(base_url=older_platform.base_url, ingest_api_key=older_platform.ingest_key) as caller,
    ):
        agent = older_platform.add_agent("older", f"{url}/agents/older")
        with callbacks_of(older_platform, agent.id) as counted:
            run_id = caller.trigger_run(agent.id, {}).run_id
            row = settled(older_platform, run_id, "completed", "failed")
            second_id = caller.trigger_run(agent.id, {}).run_id  # the host knows now: no lease asked
            second = settled(older_platform, second_id, "completed", "failed")
    assert (row["status"], row["output_data"]) == ("completed", {"done": True})
    assert second["status"] == "completed"
    assert counted.hits == 3 + 2  # lease refused, started, complete; then started, complete


def test_the_agent_client_falls_back_on_an_older_platform(older_platform: LocalPlatform) -> None:
    """`started(lease_seconds=)` refused (400) is sent again without the lease; a heartbeat there is a 400."""
    agent = older_platform.add_agent("older-client", None)
    with Cxpa(base_url=older_platform.base_url, ingest_api_key=older_platform.ingest_key) as caller:
        run_id = caller.trigger_run(agent.id, {}).run_id
    reporter = AgentClient(
        api_key=older_platform.agent_api_key(agent.id), run_id=run_id, base_url=older_platform.base_url
    )
    try:
        assert reporter.started(lease_seconds=5).status == "running"
        assert reporter.lease_seconds is None
        with pytest.raises(BadRequestError, match="type"):
            reporter.heartbeat()
        reporter.complete({"done": True})
    finally:
        reporter.close()
    assert older_platform.run(run_id)["status"] == "completed"


def test_a_refused_heartbeat_stops_the_hosts_heartbeats(platform: LocalPlatform, client: Cxpa) -> None:
    """A heartbeat answered 400 (a platform that ignored the lease but knows no heartbeat): no lease, no beat after."""
    runtime = runtime_for(platform, lease_seconds=4)
    gate = Gate()

    @runtime.agent("refused-beat")
    async def refused_beat(run: RunContext) -> dict[str, bool]:
        if run.input.get("first"):
            await asyncio.to_thread(gate.wait)  # until its heartbeat was refused, within its lease
        else:
            await asyncio.sleep(5)  # past the lease: the host asked for none
        return {"done": True}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("refused-beat", f"{url}/agents/refused-beat")
        first = client.trigger_run(agent.id, {"first": True}).run_id
        settled(platform, first, "running")
        with platform.faults.fail_next(status=400, path=f"/api/runs/{first}/callback", who="runtimes") as fault:
            eventually(lambda: fault.hits == 1, "the first heartbeat refused")
        gate.open()
        assert settled(platform, first, "completed", "failed")["status"] == "completed"
        with callbacks_of(platform, agent.id) as counted:
            second = client.trigger_run(agent.id, {}).run_id
            settled(platform, second, "running")
            assert platform.lease(second) is None
            row = settled(platform, second, "completed", "failed")
    assert (row["status"], row["output_data"]) == ("completed", {"done": True})
    assert counted.hits == 2  # started (no lease asked), complete: no heartbeat


# -- a heartbeat's answer --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_a_cancel_seen_in_a_heartbeats_answer_stops_the_function(
    platform: LocalPlatform, client: Cxpa, kind: str
) -> None:
    """A cancel whose delivery the host refused is learnt from the next heartbeat (409): the function stops."""
    runtime = runtime_for(platform, lease_seconds=2)
    stopped = threading.Event()

    if kind == "async":

        @runtime.agent("cancelled-beat")
        async def cancelled_beat(run: RunContext) -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                stopped.set()
                raise

    else:

        @runtime.agent("cancelled-beat")
        def cancelled_beat_sync(run: SyncRunContext) -> None:
            deadline = time.monotonic() + 30
            while not run.cancelled and time.monotonic() < deadline:
                time.sleep(0.02)
            if run.cancelled:
                stopped.set()

    with serving(runtime, platform) as url:
        agent = platform.add_agent(f"cancelled-beat-{kind}", f"{url}/agents/cancelled-beat")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "running")
        platform.set_signing_secret("whsec_" + "QUJD" * 8, agent_id=agent.id)  # the cancel delivery is refused (401)
        client.cancel_run(agent.id, run_id)
        eventually(stopped.is_set, "the function stopped by a heartbeat's answer")
    assert platform.run(run_id)["status"] == "cancelled"


@pytest.mark.parametrize(
    "fault",
    ["503", "dropped", "late", "garbage"],
)
def test_heartbeats_without_a_usable_answer_neither_crash_the_host_nor_fail_the_run(
    platform: LocalPlatform, client: Cxpa, fault: str
) -> None:
    """Heartbeats answered 503, dropped, answered late or with garbage: the next beat renews the lease; it completes."""
    runtime = runtime_for(platform, lease_seconds=3)

    @runtime.agent("hostile-beat")
    async def hostile_beat(run: RunContext) -> dict[str, bool]:
        await asyncio.sleep(5)
        return {"done": True}

    with serving(runtime, platform) as url:
        agent = platform.add_agent(f"hostile-beat-{fault}", f"{url}/agents/hostile-beat")
        run_id = client.trigger_run(agent.id, {}).run_id
        settled(platform, run_id, "running")
        path, faults = f"/api/runs/{run_id}/callback", platform.faults
        rule = {
            "503": lambda: faults.fail_next(2, status=503, path=path, who="runtimes"),  # the beat and its retry
            "dropped": lambda: faults.drop_next(1, path=path, who="runtimes"),
            "late": lambda: faults.latency(1.5, count=1, path=path, who="runtimes"),  # past its 1 s deadline
            "garbage": lambda: faults.fail_next(1, status=200, path=path, who="runtimes"),  # 200, no CallbackAccepted
        }[fault]()
        with rule:
            row = settled(platform, run_id, "completed", "failed")
    assert (row["status"], row["output_data"], row["error"]) == ("completed", {"done": True}, None)
    assert rule.hits >= 1


# -- a run queued in the host holds the lease from its trigger's answer ------------------------


def test_a_host_killed_with_a_run_queued_has_both_runs_failed_within_the_lease(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """SIGKILL to a host with one run working and one queued behind max_concurrency=1: both fail RuntimeLost."""
    with served_host(platform, tmp_path, max_concurrency=1) as (server, url):
        agent = platform.add_agent("killed", url)
        working = client.trigger_run(agent.id, {}).run_id
        settled(platform, working, "running")
        queued = client.trigger_run(agent.id, {}).run_id
        eventually(lambda: platform.lease(queued) == 3, "the queued run's lease from the trigger's answer")
        time.sleep(4.0)  # past one lease: the heartbeats keep both
        assert (platform.run(working)["status"], platform.run(queued)["status"]) == ("running", "queued")
        rows, took = killed(server, client, agent.id, working, queued)
    assert_lost_within(rows, took, 3)
    assert rows[1].started_at is None  # failed while queued: it never began


def test_a_run_queued_past_its_lease_in_a_living_host_is_kept(platform: LocalPlatform, client: Cxpa) -> None:
    """A run queued behind max_concurrency=1 for past its lease holds it, renewed by heartbeats; both complete."""
    runtime = runtime_for(platform, lease_seconds=2)
    gate = Gate()

    @runtime.agent("queued-kept", max_concurrency=1)
    async def queued_kept(run: RunContext) -> dict[str, bool]:
        if run.input.get("first"):
            await asyncio.to_thread(gate.wait)
        return {"done": True}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("queued-kept", f"{url}/agents/queued-kept")
        first = client.trigger_run(agent.id, {"first": True}).run_id
        settled(platform, first, "running")
        second = client.trigger_run(agent.id, {}).run_id
        eventually(lambda: platform.lease(second) == 2, "the queued run's lease from the trigger's answer")
        time.sleep(3.0)  # past its lease, queued all along
        assert (platform.run(second)["status"], platform.lease(second)) == ("queued", 2)
        gate.open()
        rows = [settled(platform, run_id, "completed", "failed") for run_id in (first, second)]
    assert [(row["status"], row["error"]) for row in rows] == [("completed", None)] * 2


@pytest.mark.parametrize(
    ("values", "lease"),
    [
        (["60"], 60),
        ([" 2 "], 2),
        (["3600", "3600"], 3600),
        (["banana"], None),
        (["0"], None),
        (["1"], None),
        (["3601"], None),
        (["999999"], None),
        (["9" * 5000], None),
        (["-5"], None),
        (["2.5"], None),
        (["+60"], None),
        (["٣٠"], None),
        ([""], None),
        (["30", "40"], None),
        (["30, 40"], None),
        ([], None),
    ],
    ids=[
        "sixty",
        "spaces",
        "repeated",
        "banana",
        "zero",
        "one",
        "over-an-hour",
        "huge",
        "5000-digits",
        "negative",
        "fraction",
        "plus",
        "arabic-digits",
        "empty",
        "two-values",
        "comma-list",
        "absent",
    ],
)
def test_a_delivered_lease_is_one_integer_of_2_to_3600(values: list[str], lease: int | None) -> None:
    """The platform reads a runtime's CXPA-Lease-Seconds as one whole number of 2 to 3600 seconds, else none."""
    assert delivered_lease(values) == lease


H = TypeVar("H", bound=BaseHTTPRequestHandler)


@contextmanager
def on_loopback(handler: type[H]) -> Iterator[tuple[str, type[H]]]:
    """A threading HTTP server of `handler` on 127.0.0.1 for the block: (its URL, the handler class)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/agent", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class StubRuntime(BaseHTTPRequestHandler):
    """A URL runtime that takes every delivery 202 with its `lease` header value and never reports."""

    lease = ""
    hits = 0

    def do_POST(self) -> None:
        """Read the delivery, answer 202 with the header."""
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).hits += 1
        self.send_response(202)
        self.send_header("CXPA-Lease-Seconds", self.lease)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@pytest.fixture
def stub_runtime(request: pytest.FixtureRequest) -> Iterator[tuple[str, type[StubRuntime]]]:
    """A stub runtime on loopback answering with the parametrized header value: (its URL, its handler class)."""
    handler: type[StubRuntime] = type("Stub", (StubRuntime,), {"lease": request.param, "hits": 0})
    with on_loopback(handler) as served:
        yield served


@pytest.mark.parametrize(
    "stub_runtime", ["banana", "0", "999999", "-1", "2.5", ""], ids=lambda v: v or "empty", indirect=True
)
def test_a_runtimes_unfit_lease_header_is_ignored(
    platform: LocalPlatform, client: Cxpa, stub_runtime: tuple[str, type[StubRuntime]], caplog: pytest.LogCaptureFixture
) -> None:
    """A 202 with an unfit CXPA-Lease-Seconds: no lease, logged at DEBUG, the run stays queued, the platform goes on."""
    url, stub = stub_runtime
    agent = platform.add_agent(f"unfit-lease-{stub.lease or 'empty'}", url)
    with caplog.at_level(logging.DEBUG, logger="cxpa_sdk.testing"):
        run_id = client.trigger_run(agent.id, {}).run_id
        eventually(lambda: stub.hits == 1, "the delivery taken")
        eventually(lambda: "CXPA-Lease-Seconds" in caplog.text, "the unfit header logged")
    assert platform.lease(run_id) is None
    assert platform.run(run_id)["status"] == "queued"
    assert client.cancel_run(agent.id, run_id).status == "cancelled"


@pytest.mark.parametrize("stub_runtime", ["2"], indirect=True)
def test_a_queued_run_whose_delivered_lease_lapses_is_failed(
    platform: LocalPlatform, client: Cxpa, stub_runtime: tuple[str, type[StubRuntime]]
) -> None:
    """A 202 with `CXPA-Lease-Seconds: 2` and no callback after: the queued run is failed RuntimeLost within it."""
    url, _ = stub_runtime
    agent = platform.add_agent("fit-lease", url)
    began = time.monotonic()
    run_id = client.trigger_run(agent.id, {}).run_id
    row = client.wait_for_run(agent.id, run_id, timeout=30)
    took = time.monotonic() - began
    assert_lost_within([row], took, 2)
    assert row.started_at is None


def test_an_older_platform_ignores_a_delivered_lease(older_platform: LocalPlatform) -> None:
    """`LocalPlatform(leases=False)` takes no lease from a trigger's answer: a queued run holds none."""
    runtime = runtime_for(older_platform, lease_seconds=2)
    gate = Gate()

    @runtime.agent("older-queued", max_concurrency=1)
    async def older_queued(run: RunContext) -> None:
        if run.input.get("first"):
            await asyncio.to_thread(gate.wait)

    with (
        serving(runtime, older_platform) as url,
        Cxpa(base_url=older_platform.base_url, ingest_api_key=older_platform.ingest_key) as caller,
    ):
        agent = older_platform.add_agent("older-queued", f"{url}/agents/older-queued")
        first = caller.trigger_run(agent.id, {"first": True}).run_id
        settled(older_platform, first, "running")
        second = caller.trigger_run(agent.id, {}).run_id
        time.sleep(1.0)
        assert (older_platform.run(second)["status"], older_platform.lease(second)) == ("queued", None)
        gate.open()
        rows = [settled(older_platform, run_id, "completed", "failed") for run_id in (first, second)]
    assert [row["status"] for row in rows] == ["completed"] * 2


# -- a resumed run queued in the host holds the lease from its resume's answer -------------------


class Front(BaseHTTPRequestHandler):
    """An agent's URL that takes deliveries 202 and never reports until `target` is set, then passes them on.

    Passed on: the body, the signature and content headers, and back the runtime's status and lease
    header: so a run can be made waiting by hand before the runtime behind it is reachable.
    """

    target: str | None = None
    hits = 0

    def do_POST(self) -> None:
        """Take the delivery, or hand it to `target` and answer as it answered."""
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).hits += 1
        status, headers = 202, {}
        if self.target is not None:
            passed = {
                name: value
                for name, value in self.headers.items()
                if name.lower().startswith(("webhook-", "content-type"))
            }
            answer = httpx2.post(self.target, content=body, headers=passed, timeout=10)
            status, headers = (
                answer.status_code,
                {n: v for n, v in answer.headers.items() if n.lower() == "cxpa-lease-seconds"},
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


@contextmanager
def front() -> Iterator[tuple[str, type[Front]]]:
    """A Front on loopback: (its URL, its handler class, whose `target` the test sets)."""
    handler: type[Front] = type("FrontOf", (Front,), {"target": None, "hits": 0})
    with on_loopback(handler) as served:
        yield served


def waiting_by_hand(platform: LocalPlatform, client: Cxpa, agent_id: int, token_id: str) -> str:
    """A run of `agent_id` that reported `started` (no lease) and `waiting` on `token_id` by hand: its id."""
    run_id = client.trigger_run(agent_id, {}).run_id
    reporter = agent_client(platform, agent_id, run_id)
    reporter.started()
    reporter.waiting(token_id, "a person's approval")
    reporter.close()
    assert (platform.run(run_id)["status"], platform.lease(run_id)) == ("waiting", None)
    return run_id


def test_a_host_killed_with_a_resumed_run_queued_has_both_runs_failed_within_the_lease(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """A resume reaching a host whose max_concurrency=1 is taken: the queued resumed run holds the lease of the 202.

    Its heartbeats keep it past the lease (still `waiting`, its token taken); a SIGKILL then fails
    it RuntimeLost within the lease, as the working run, instead of leaving it to maxRunDurationMs.
    """
    with front() as (url, passing), served_host(platform, tmp_path, max_concurrency=1) as (server, host_url):
        agent = platform.add_agent("resumed-killed", url)
        resumed = waiting_by_hand(platform, client, agent.id, "tok_resumed")
        passing.target = host_url
        working = client.trigger_run(agent.id, {}).run_id
        settled(platform, working, "running")
        client.resume_run(agent.id, resumed, "tok_resumed", {"approved": True})
        eventually(lambda: platform.lease(resumed) == 3, "the resumed run's lease from the resume's answer")
        time.sleep(4.0)  # past one lease: the heartbeats keep both
        assert platform.run(resumed)["status"] == "waiting"
        assert platform.run(resumed)["waiting"] is None
        assert (platform.run(working)["status"], platform.lease(resumed)) == ("running", 3)
        rows, took = killed(server, client, agent.id, working, resumed)
    assert_lost_within(rows, took, 3)


@pytest.mark.parametrize("stub_runtime", [""], ids=["no-lease-for-the-trigger"], indirect=True)
def test_a_resumed_run_whose_delivered_lease_lapses_is_failed(
    platform: LocalPlatform, client: Cxpa, stub_runtime: tuple[str, type[StubRuntime]]
) -> None:
    """A resume's 202 with `CXPA-Lease-Seconds: 2` and no `started` after: the run is failed RuntimeLost within it.

    The trigger's answer gave no lease, and the run waiting on its token held none; the resume's
    answer gives one while the run awaits its `started`.
    """
    url, stub = stub_runtime
    agent = platform.add_agent("resumed-lease", url)
    run_id = waiting_by_hand(platform, client, agent.id, "tok_lapse")
    stub.lease = "2"
    began = time.monotonic()
    client.resume_run(agent.id, run_id, "tok_lapse", {})
    row = client.wait_for_run(agent.id, run_id, timeout=30)
    took = time.monotonic() - began
    assert_lost_within([row], took, 2)


@pytest.mark.parametrize("stub_runtime", ["2"], indirect=True)
def test_a_delivered_lease_is_not_taken_for_a_run_waiting_on_a_token(
    platform: LocalPlatform, client: Cxpa, stub_runtime: tuple[str, type[StubRuntime]]
) -> None:
    """A run that reported `waiting` holds no lease, whatever a delivery's answer says, until it is resumed."""
    url, _ = stub_runtime
    agent = platform.add_agent("waiting-no-lease", url)
    run_id = waiting_by_hand(platform, client, agent.id, "tok_held")
    time.sleep(2 + 1.0)  # past the trigger's lease of 2, which `started` without a lease gave up
    assert (platform.run(run_id)["status"], platform.lease(run_id)) == ("waiting", None)
    assert client.cancel_run(agent.id, run_id).status == "cancelled"
