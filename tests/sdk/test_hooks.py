"""Hooks over real HTTP: every call and attempt is heard, sync and async; a hook that raises breaks nothing."""

import asyncio
import json
import logging
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sdk_support import served

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, Hook, InvalidArgumentTypeError, NotFoundError
from cxpa_sdk.hooks import AttemptEnded, AttemptStarted, CallEnded, CallInfo, RetryScheduled
from cxpa_sdk.testing import ECHO, LocalPlatform


class Recorder(Hook):
    """Records every event, and sends a header of its own with each attempt."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def call_started(self, event: CallInfo) -> None:
        """As the base class says, for the test."""
        self.events.append(("call_started", event))

    def attempt_started(self, event: AttemptStarted) -> None:
        """As the base class says, for the test."""
        self.events.append(("attempt_started", event))
        event.headers["X-Attempt"] = str(event.attempt)

    def attempt_ended(self, event: AttemptEnded) -> None:
        """As the base class says, for the test."""
        self.events.append(("attempt_ended", event))

    def retry_scheduled(self, event: RetryScheduled) -> None:
        """As the base class says, for the test."""
        self.events.append(("retry_scheduled", event))

    def call_ended(self, event: CallEnded) -> None:
        """As the base class says, for the test."""
        self.events.append(("call_ended", event))

    def kinds(self) -> list[str]:
        """As the base class says, for the test."""
        return [kind for kind, _ in self.events]


class AsyncRecorder(Recorder):
    """The same, with `async def` methods (awaited by an async client)."""

    async def call_started(self, event: CallInfo) -> None:  # type: ignore[override]
        """As the base class says, for the test."""
        await asyncio.sleep(0)
        super().call_started(event)

    async def attempt_ended(self, event: AttemptEnded) -> None:  # type: ignore[override]
        """As the base class says, for the test."""
        await asyncio.sleep(0)
        super().attempt_ended(event)


class Raising(Hook):
    """A hook whose every method raises."""

    def call_started(self, event: CallInfo) -> None:
        """As the base class says, for the test."""
        raise RuntimeError("call_started broke")

    def attempt_started(self, event: AttemptStarted) -> None:
        """As the base class says, for the test."""
        raise RuntimeError("attempt_started broke")

    def attempt_ended(self, event: AttemptEnded) -> None:
        """As the base class says, for the test."""
        raise RuntimeError("attempt_ended broke")

    def retry_scheduled(self, event: RetryScheduled) -> None:
        """As the base class says, for the test."""
        raise RuntimeError("retry_scheduled broke")

    def call_ended(self, event: CallEnded) -> None:
        """As the base class says, for the test."""
        raise RuntimeError("call_ended broke")


def _retried_trigger(platform: LocalPlatform, client_hooks: list[Hook], mode: str) -> Any:
    """A trigger_run retried once after an injected 503, on a client of `mode` with `client_hooks`."""
    options: dict[str, Any] = {
        "base_url": platform.base_url,
        "ingest_api_key": platform.ingest_key,
        "hooks": client_hooks,
    }
    with platform.faults.fail_next(1, status=503, path="*/runs/trigger"):
        if mode == "sync":
            with Cxpa(**options) as client:
                client._sleep = lambda seconds: None
                return client.trigger_run(ECHO, {"hooked": True})

        async def flow() -> Any:
            async with AsyncCxpa(**options) as client:

                async def no_sleep(seconds: float) -> None:
                    pass

                client._asleep = no_sleep
                return await client.trigger_run(ECHO, {"hooked": True})

        return asyncio.run(flow())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_attempt_is_heard_in_order(mode: str, cxpa_platform: LocalPlatform) -> None:
    """A retried call: call_started, attempt 1 (503), retry with its delay and reason, attempt 2, call_ended."""
    recorder = AsyncRecorder() if mode == "async" else Recorder()
    handle = _retried_trigger(cxpa_platform, [recorder], mode)
    assert recorder.kinds() == [
        "call_started",
        "attempt_started",
        "attempt_ended",
        "retry_scheduled",
        "attempt_started",
        "attempt_ended",
        "call_ended",
    ]
    events = [event for _, event in recorder.events]
    call = events[0]
    assert (call.operation, call.method, call.agent_id, call.run_id) == ("trigger_run", "POST", ECHO, None)
    assert call.url == f"{cxpa_platform.base_url}/api/agents/{ECHO}/runs/trigger"
    assert call.idempotency_key is not None
    assert all(event.call == call for event in events[1:])
    first, retry, second, ended = events[2], events[3], events[5], events[6]
    assert (first.attempt, first.status_code, type(first.error).__name__) == (1, 503, "InternalServerError")
    assert retry.attempt == 1
    assert retry.delay >= 0
    assert retry.reason.startswith("InternalServerError: ")
    assert (second.attempt, second.status_code, second.error) == (2, 202, None)
    assert second.request_id is not None
    assert (ended.outcome, ended.attempts, ended.applied, ended.status_code, ended.error) == ("ok", 2, True, 202, None)
    assert ended.elapsed >= first.elapsed
    assert handle.attempts == 2
    assert ended.run_id == handle.run_id  # the run the trigger created, from its answer


def test_a_hook_adds_headers_to_each_attempt_and_cannot_replace_the_sdks(caplog: pytest.LogCaptureFixture) -> None:
    """Headers set in attempt_started reach the server with that attempt; Authorization is refused (logged)."""
    received: list[dict[str, str]] = []

    class Platform(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(dict(self.headers))
            body = json.dumps({"runId": "run_1", "status": "queued"}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    class Tenant(Hook):
        def attempt_started(self, event: AttemptStarted) -> None:
            event.headers["X-Tenant"] = f"acme-{event.attempt}"
            event.headers["Authorization"] = "Bearer stolen"

    with caplog.at_level(logging.WARNING, logger="cxpa_sdk"), served(Platform) as base_url:
        with Cxpa(base_url=base_url, ingest_api_key="sk-hook-key", hooks=[Tenant()]) as client:
            client.trigger_run(ECHO, {})
    assert received[0]["X-Tenant"] == "acme-1"
    assert received[0]["Authorization"] == "Bearer sk-hook-key"
    assert "a hook may not set Authorization: the SDK sets it" in caplog.text
    assert "sk-hook-key" not in caplog.text


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_hook_that_raises_breaks_nothing(
    mode: str, cxpa_platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """Every method raising: the call still retries and succeeds, once; each failure is one WARNING line."""
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="cxpa_sdk"):
        handle = _retried_trigger(cxpa_platform, [Raising(), recorder], mode)
    assert handle.attempts == 2
    assert len([run for run in cxpa_platform.runs(ECHO) if run["id"] == handle.run_id]) == 1
    assert recorder.kinds()[-1] == "call_ended"  # the hook after the raising one still heard everything
    warnings = [r.getMessage() for r in caplog.records if r.name == "cxpa_sdk" and r.levelno == logging.WARNING]
    assert len(warnings) == 7
    assert all("hook Raising." in text and "(the call goes on)" in text for text in warnings)
    assert cxpa_platform.ingest_key not in caplog.text


def test_an_error_call_is_heard_with_its_outcome(cxpa_platform: LocalPlatform) -> None:
    """A call that fails (404, not retried) ends with outcome `error`, the error, and applied False."""
    recorder = Recorder()
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, hooks=[recorder]) as client:
        with pytest.raises(NotFoundError):
            client.get_run(ECHO, "run_not_there")
    call, ended = recorder.events[0][1], recorder.events[-1][1]
    assert (call.operation, call.run_id) == ("get_run", "run_not_there")
    assert (ended.outcome, ended.attempts, ended.applied, ended.status_code) == ("error", 1, False, 404)
    assert ended.run_id == "run_not_there"
    assert isinstance(ended.error, NotFoundError)


def test_agent_clients_have_hooks_too(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """AgentClient and AsyncAgentClient hear their callbacks: post_callback calls naming the run."""
    agent = cxpa_platform.add_agent("hooked-runtime")
    run_ids = [cxpa_client.register_run(agent.id, f"hooked-{n}").run_id for n in range(2)]
    options = {"base_url": cxpa_platform.base_url, "api_key": cxpa_platform.agent_api_key(agent.id)}
    sync_recorder, async_recorder = Recorder(), AsyncRecorder()
    with AgentClient(run_id=run_ids[0], hooks=[sync_recorder], **options) as runtime:
        runtime.complete({"ok": True})

    async def flow() -> None:
        async with AsyncAgentClient(run_id=run_ids[1], hooks=[async_recorder], **options) as runtime:
            await runtime.complete({"ok": True})

    asyncio.run(flow())
    for recorder, run_id in ((sync_recorder, run_ids[0]), (async_recorder, run_ids[1])):
        calls = [event for kind, event in recorder.events if kind == "call_started"]
        assert [(c.operation, c.run_id) for c in calls] == [("post_callback", run_id)] * 2  # started, complete
        assert all(kind != "retry_scheduled" for kind, _ in recorder.events)


def test_an_async_hook_on_a_sync_client_is_refused_and_logged(
    cxpa_platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """A sync client can't await: an `async def` hook method is logged as an error of the hook, never awaited."""
    with (
        caplog.at_level(logging.WARNING, logger="cxpa_sdk"),
        Cxpa(
            base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, hooks=[AsyncRecorder()]
        ) as client,
    ):
        client.trigger_run(ECHO, {})
    assert "an async hook needs an async client" in caplog.text


def test_hooks_must_be_hook_objects() -> None:
    """A function, or a single Hook not in a list, is an InvalidArgumentTypeError naming what to pass."""
    with pytest.raises(InvalidArgumentTypeError, match="hooks must be Hook objects"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", hooks=[print])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentTypeError, match="hooks must be a list of Hook objects"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", hooks=Recorder())  # type: ignore[arg-type]
