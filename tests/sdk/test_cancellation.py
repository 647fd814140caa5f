"""Cancellation both ways: a runtime learns that its run was cancelled; cancelling a wait never cancels the run."""

import asyncio
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2
import pytest
from sdk_support import Api, served

from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    AsyncCxpa,
    CallbackAccepted,
    CancelPayload,
    ConflictError,
    Cxpa,
    InvalidArgumentError,
    NotFoundError,
    ResumePayload,
    RunCancelledError,
    RunStatus,
    TriggerPayload,
    WaitTimeoutError,
    parse_runtime_payload,
)
from cxpa_sdk._schema import validate
from cxpa_sdk.testing import LocalPlatform, RuntimeCall

AGENT_MODES = ["sync", "async"]
BOUND_S = 30.0  # the most any wait of these tests takes


class Held:
    """An agent whose Python runtime hands each call to the test and holds it until the run is cancelled."""

    def __init__(self, platform: LocalPlatform, name: str) -> None:
        self.calls: queue.Queue[RuntimeCall] = queue.Queue()
        self.returned = threading.Event()
        self.platform = platform

        def runtime(call: RuntimeCall) -> None:
            self.calls.put(call)
            call.cancelled.wait(BOUND_S)
            self.returned.set()

        self.agent = platform.add_agent(name, runtime, max_run_duration_ms=60_000)

    def trigger(self, client: Cxpa) -> RuntimeCall:
        """Trigger a run and return the call its runtime received."""
        client.trigger_run(self.agent.id, {})
        return self.calls.get(timeout=BOUND_S)


class Recorder:
    """The requests an agent client sends, through a brought httpx2 client: (method, path, JSON body or None)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def record(self, request: httpx2.Request) -> None:
        """Keep one request."""
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))

    async def arecord(self, request: httpx2.Request) -> None:
        """Keep one request (the async client's hook)."""
        self.record(request)

    def events(self) -> list[str]:
        """The callback events sent, as `type` (and `failed` for a fail)."""
        return [
            "failed" if body.get("failed") else body["type"]
            for method, path, body in self.sent
            if path.endswith("/callback")
        ]


def drive_agent(mode: str, call: RuntimeCall, steps: Callable[[Any], Any], recorder: Recorder | None = None) -> Any:
    """Run `steps(agent)` with an AgentClient (sync) or an AsyncAgentClient (async) of `call`; its result.

    In async mode `steps` returns a coroutine. With a recorder the client's requests are recorded.
    """
    if mode == "sync":
        http = httpx2.Client(event_hooks={"request": [recorder.record]}) if recorder else None
        try:
            return steps(AgentClient.from_payload(call.payload, base_url=call.base_url, http_client=http))
        finally:
            if http is not None:
                http.close()

    async def flow() -> Any:
        http = httpx2.AsyncClient(event_hooks={"request": [recorder.arecord]}) if recorder else None
        try:
            return await steps(AsyncAgentClient.from_payload(call.payload, base_url=call.base_url, http_client=http))
        finally:
            if http is not None:
                await http.aclose()

    return asyncio.run(flow())


def report_started(call: RuntimeCall) -> None:
    """Move the call's run to running, as its runtime would."""
    agent = AgentClient.from_payload(call.payload, base_url=call.base_url)
    try:
        agent.started()
    finally:
        agent.close()


def ask_is_cancelled(mode: str, options: dict[str, Any]) -> bool:
    """One is_cancelled() of a new AgentClient (sync) or AsyncAgentClient (async), closed after."""
    if mode == "sync":
        agent = AgentClient(**options)
        try:
            return agent.is_cancelled()
        finally:
            agent.close()

    async def flow() -> bool:
        async_agent = AsyncAgentClient(**options)
        try:
            return await async_agent.is_cancelled()
        finally:
            await async_agent.aclose()

    return asyncio.run(flow())


def until(check: Callable[[], bool]) -> bool:
    """Whether `check()` becomes true within BOUND_S seconds (polled every 10 ms)."""
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


# -- a Python runtime ---------------------------------------------------------------------------


def test_a_python_runtime_that_watches_call_cancelled_stops(api: Api) -> None:
    """A runtime that works until `call.cancelled` stops once the caller cancels, and the run stays cancelled."""
    working, stopped = threading.Event(), threading.Event()

    def runtime(call: RuntimeCall) -> None:
        with AgentClient.from_payload(call.payload, base_url=call.base_url):
            working.set()
            deadline = time.monotonic() + BOUND_S
            while not call.cancelled.wait(0.01) and time.monotonic() < deadline:
                pass  # one unit of work
            stopped.set()

    agent = api.platform.add_agent(f"loops-{api.mode}", runtime, max_run_duration_ms=60_000)
    run_id = api.trigger_run(agent.id, {}).run_id
    assert working.wait(BOUND_S)
    assert api.cancel_run(agent.id, run_id).status == "cancelled"
    assert stopped.wait(BOUND_S)
    assert until(lambda: api.platform.run(run_id)["status"] == "cancelled")
    assert api.get_run(agent.id, run_id).status == "cancelled"


# -- every callback answer says so ----------------------------------------------------------------


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_a_callback_after_the_cancel_raises_run_cancelled(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """The next output() after a cancel raises RunCancelledError: a ConflictError naming the run, saying to stop."""
    held = Held(cxpa_platform, f"held-output-{mode}")
    call = held.trigger(cxpa_client)
    caught: dict[str, Any] = {}

    def steps(agent: Any) -> Any:
        def sync() -> None:
            assert agent.started().cancelled is False
            cxpa_client.cancel_run(held.agent.id, call.run_id)
            with pytest.raises(RunCancelledError) as raised:
                agent.output({"page": 2})
            caught["error"] = raised.value
            agent.close()

        async def asynchronous() -> None:
            assert (await agent.started()).cancelled is False
            cxpa_client.cancel_run(held.agent.id, call.run_id)
            with pytest.raises(RunCancelledError) as raised:
                await agent.output({"page": 2})
            caught["error"] = raised.value
            await agent.aclose()

        return sync() if mode == "sync" else asynchronous()

    drive_agent(mode, call, steps)
    error = caught["error"]
    assert isinstance(error, ConflictError)
    assert (error.status_code, error.code, error.run_id, error.applied) == (409, "run_cancelled", call.run_id, False)
    assert "the run was cancelled, so its runtime should stop its work" in str(error)
    assert call.payload["agentApiKey"] not in str(error)
    assert held.returned.wait(BOUND_S)


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_is_cancelled_is_false_then_true(mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """is_cancelled() is one GET of the run's status: False while it runs, True once cancelled, then free."""
    held = Held(cxpa_platform, f"held-check-{mode}")
    call = held.trigger(cxpa_client)
    recorder = Recorder()
    seen: list[bool] = []

    def steps(agent: Any) -> Any:
        def sync() -> None:
            agent.started()
            seen.append(agent.is_cancelled())
            cxpa_client.cancel_run(held.agent.id, call.run_id)
            seen.extend([agent.is_cancelled(), agent.is_cancelled()])

        async def asynchronous() -> None:
            await agent.started()
            seen.append(await agent.is_cancelled())
            cxpa_client.cancel_run(held.agent.id, call.run_id)
            seen.extend([await agent.is_cancelled(), await agent.is_cancelled()])

        return sync() if mode == "sync" else asynchronous()

    drive_agent(mode, call, steps, recorder)
    assert seen == [False, True, True]
    status_path = f"/api/runs/{call.run_id}/status"
    # One read each for the first two checks; the third knows already (a cancelled run stays cancelled).
    assert [(m, p) for m, p, _ in recorder.sent] == [
        ("POST", f"/api/runs/{call.run_id}/callback"),
        ("GET", status_path),
        ("GET", status_path),
    ]


def test_callback_accepted_says_cancelled() -> None:
    """CallbackAccepted.cancelled is True for status cancelled only (a platform may answer 200 with it)."""
    assert CallbackAccepted("run_1", RunStatus.CANCELLED).cancelled
    assert not CallbackAccepted("run_1", RunStatus.RUNNING).cancelled
    assert not CallbackAccepted("run_1", RunStatus("paused")).cancelled


# -- the with block -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_a_block_left_by_run_cancelled_sends_no_fail(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """RunCancelledError leaves the `with` block re-raised, and the block sends no fail (the run has ended)."""
    held = Held(cxpa_platform, f"held-block-{mode}")
    call = held.trigger(cxpa_client)
    recorder = Recorder()

    def steps(agent: Any) -> Any:
        def sync() -> None:
            with agent:
                cxpa_client.cancel_run(held.agent.id, call.run_id)
                agent.output({"page": 2})

        async def asynchronous() -> None:
            async with agent:
                cxpa_client.cancel_run(held.agent.id, call.run_id)
                await agent.output({"page": 2})

        return sync() if mode == "sync" else asynchronous()

    with pytest.raises(RunCancelledError):
        drive_agent(mode, call, steps, recorder)
    assert recorder.events() == ["started", "output"]
    assert cxpa_platform.run(call.run_id)["status"] == "cancelled"


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_a_block_that_stops_after_is_cancelled_sends_nothing_more(
    mode: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """A block that raises its own error after is_cancelled() said True re-raises it and sends no fail."""
    held = Held(cxpa_platform, f"held-stop-{mode}")
    call = held.trigger(cxpa_client)
    recorder = Recorder()

    class Stop(Exception):
        """The runtime's own way out."""

    def steps(agent: Any) -> Any:
        def sync() -> None:
            with agent:
                cxpa_client.cancel_run(held.agent.id, call.run_id)
                if agent.is_cancelled():
                    raise Stop

        async def asynchronous() -> None:
            async with agent:
                cxpa_client.cancel_run(held.agent.id, call.run_id)
                if await agent.is_cancelled():
                    raise Stop

        return sync() if mode == "sync" else asynchronous()

    with pytest.raises(Stop):
        drive_agent(mode, call, steps, recorder)
    assert recorder.events() == ["started"]
    assert [m for m, _, _ in recorder.sent] == ["POST", "GET"]


# -- a URL runtime --------------------------------------------------------------------------------


class StoppableUrlRuntime:
    """A URL runtime on loopback that works until its run's CancelPayload arrives (a threading.Event per run)."""

    def __init__(self, platform: LocalPlatform, answer_cancel: int) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.working = threading.Event()
        self.stopped = threading.Event()
        self.stops: dict[str, threading.Event] = {}
        self.platform = platform
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append(body)
                payload = parse_runtime_payload(body)
                if isinstance(payload, CancelPayload):
                    owner.stops[payload.run_id].set()
                    self.send_response(answer_cancel)
                else:
                    assert isinstance(payload, TriggerPayload)
                    owner.stops[payload.run_id] = threading.Event()
                    threading.Thread(target=owner.work, args=(payload,), daemon=True).start()
                    self.send_response(202)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.handler = Handler

    def work(self, payload: TriggerPayload) -> None:
        """Report started, then work in small steps until the run's stop event is set (bounded)."""
        stop = self.stops[payload.run_id]
        with AgentClient.from_payload(payload, base_url=self.platform.base_url) as agent:
            self.working.set()
            deadline = time.monotonic() + BOUND_S
            while not stop.wait(0.01) and time.monotonic() < deadline:
                pass  # one unit of work
            self.stopped.set()
            if stop.is_set() and agent.is_cancelled():
                return  # the client knows: the block's end sends nothing


@pytest.mark.parametrize("answer", [202, 500], ids=["accepted", "refused"])
def test_a_url_runtime_is_sent_the_cancel_payload_and_stops(
    answer: int, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """Cancelling POSTs a CancelPayload (no key) to the runtime's URL; it stops; its answer changes nothing."""
    runtime = StoppableUrlRuntime(cxpa_platform, answer)
    with served(runtime.handler) as url:
        agent = cxpa_platform.add_agent(f"url-stops-{answer}", f"{url}/run", max_run_duration_ms=60_000)
        run_id = cxpa_client.trigger_run(agent.id, {}).run_id
        assert runtime.working.wait(BOUND_S)
        started = time.monotonic()
        assert cxpa_client.cancel_run(agent.id, run_id).status == "cancelled"
        assert runtime.stopped.wait(BOUND_S)
        assert time.monotonic() - started < 5
        assert until(lambda: len(runtime.bodies) == 2)
    cancel = runtime.bodies[1]
    validate(cancel, "CancelPayload")
    assert cancel == {"type": "cancelled", "runId": run_id, "agentId": agent.id}
    assert cxpa_client.get_run(agent.id, run_id).status == "cancelled"


def test_parse_runtime_payload_reads_a_cancel_payload() -> None:
    """`type: cancelled` makes a CancelPayload; a bad one names the field; from_payload refuses it (no key)."""
    payload = parse_runtime_payload(b'{"type": "cancelled", "runId": "run_1", "agentId": 7}')
    assert (
        payload
        == CancelPayload("run_1", 7)
        == CancelPayload.parse({"type": "cancelled", "runId": "run_1", "agentId": 7})
    )
    assert not isinstance(payload, TriggerPayload | ResumePayload)
    with pytest.raises(InvalidArgumentError, match="agentId"):
        parse_runtime_payload({"type": "cancelled", "runId": "run_1"})
    for client in (AgentClient, AsyncAgentClient):
        with pytest.raises(InvalidArgumentError, match="a cancel payload carries no agent key"):
            client.from_payload(b'{"type": "cancelled", "runId": "run_1", "agentId": 7}')
        with pytest.raises(InvalidArgumentError, match="a cancel payload carries no agent key"):
            client.from_payload({"type": "cancelled", "runId": "run_1", "agentId": 7}, base_url="http://127.0.0.1:1")


# -- an older platform ----------------------------------------------------------------------------


@pytest.fixture
def no_status_endpoint() -> Iterator[str]:
    """A platform that knows nothing of the status read: 404 `not_found` for it, 404 `run_not_found` for `run_gone`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            code = "run_not_found" if "/run_gone/" in self.path else "not_found"
            body = json.dumps({"error": {"code": code, "message": f"no {self.path}"}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    with served(Handler) as url:
        yield url


@pytest.mark.parametrize("mode", AGENT_MODES)
def test_is_cancelled_on_a_platform_without_the_endpoint_says_so(mode: str, no_status_endpoint: str) -> None:
    """An older platform's 404 becomes a NotFoundError saying the platform lacks the endpoint; a run's 404 stays one."""
    key = "cxpa_agent_secret_0123456789"

    def check(run_id: str) -> NotFoundError:
        options: dict[str, Any] = {"api_key": key, "run_id": run_id, "base_url": no_status_endpoint}
        with pytest.raises(NotFoundError) as raised:
            ask_is_cancelled(mode, options)
        return raised.value

    missing = check("run_1")
    assert missing.code == "not_found"
    assert "this platform has no GET /api/runs/{runId}/status" in str(missing)
    assert "older platforms lack" in str(missing)
    assert key not in str(missing)
    gone = check("run_gone")
    assert gone.code == "run_not_found"
    assert "this platform has no" not in str(gone)


# -- the platform's side --------------------------------------------------------------------------


def test_the_status_read_needs_the_runs_own_agent_key(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """GET /api/runs/{runId}/status: 200 with the agent key, 401 without, 403 for another agent, 404 unknown run."""
    held = Held(cxpa_platform, "held-status")
    other = cxpa_platform.add_agent("other-status")
    call = held.trigger(cxpa_client)
    url = f"{cxpa_platform.base_url}/api/runs/{call.run_id}/status"

    def get(key: str | None, target: str = url) -> httpx2.Response:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return httpx2.get(target, headers=headers, timeout=10)

    ok = get(call.payload["agentApiKey"])
    assert (ok.status_code, ok.json()) == (200, {"runId": call.run_id, "status": "queued"})
    validate(ok.json(), "CallbackAccepted")
    assert get(None).status_code == 401
    assert get(cxpa_platform.agent_api_key(other.id)).status_code == 403
    unknown = get(call.payload["agentApiKey"], f"{cxpa_platform.base_url}/api/runs/run_nope/status")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "run_not_found")
    cxpa_client.cancel_run(held.agent.id, call.run_id)
    assert get(call.payload["agentApiKey"]).json()["status"] == "cancelled"


# -- cancelling a wait never cancels the run --------------------------------------------------------


def test_a_timed_out_wait_leaves_the_run_running(api: Api, cxpa_client: Cxpa) -> None:
    """wait_for_run giving up (WaitTimeoutError) sends no cancel: the run goes on running."""
    held = Held(api.platform, f"held-wait-{api.mode}")
    call = held.trigger(cxpa_client)
    report_started(call)
    with pytest.raises(WaitTimeoutError) as raised:
        api.wait_for_run(held.agent.id, call.run_id, timeout=0.3)
    assert raised.value.run_id == call.run_id
    assert api.get_run(held.agent.id, call.run_id).status == "running"
    assert not call.cancelled.is_set()
    cxpa_client.cancel_run(held.agent.id, call.run_id)


@pytest.mark.parametrize("backend", ["httpx2", "aiohttp"])
def test_a_cancelled_wait_task_leaves_the_run_running(
    backend: str, cxpa_platform: LocalPlatform, cxpa_client: Cxpa
) -> None:
    """Cancelling an asyncio task that waits for a run cancels the wait only: the run goes on running."""
    held = Held(cxpa_platform, f"held-task-{backend}")
    call = held.trigger(cxpa_client)
    report_started(call)

    async def flow() -> str:
        async with AsyncCxpa(
            base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, http_backend=backend
        ) as client:
            task = asyncio.create_task(client.wait_for_run(held.agent.id, call.run_id, timeout=BOUND_S))
            await asyncio.sleep(0.3)  # the wait's long poll is held by the platform now
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, BOUND_S)
            return (await client.get_run(held.agent.id, call.run_id)).status

    assert asyncio.run(flow()) == "running"
    assert not call.cancelled.is_set()
    cxpa_client.cancel_run(held.agent.id, call.run_id)
