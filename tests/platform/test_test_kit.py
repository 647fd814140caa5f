"""The test kit as a user meets it: faults aimed at a test's own requests, and callers that go away."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cxpa_sdk import AgentClient, APIStatusError, APITimeoutError, Cxpa, ResumePayload, parse_runtime_payload
from cxpa_sdk._schema import validate
from cxpa_sdk.testing import ECHO, SLOW, LocalPlatform, RuntimeCall

LOOPS = 20


def test_fail_next_hits_the_tests_own_request_20_of_20(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """`fail_next(1)` without `path` fails the test's next call every time, while built-in runtimes call back."""
    client = cxpa_client.with_options(max_retries=0)
    outcomes = []
    for _ in range(LOOPS):
        for _ in range(3):  # background runs whose callbacks arrive while the fault is armed
            client.trigger_run(ECHO, {})
        client.trigger_run(SLOW, {"seconds": 0.01})
        time.sleep(0.005)  # the runtimes are calling back now
        with cxpa_platform.faults.fail_next(1, status=503) as rule:
            with pytest.raises(APIStatusError) as caught:
                client.trigger_run(ECHO, {})
            outcomes.append((caught.value.status_code, rule.hits))
    assert outcomes == [(503, 1)] * LOOPS


def test_a_fault_for_one_runtime_key_hits_only_that_runtime(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """`key=` aims a fault at one agent's callbacks: the built-in agents' callbacks and callers pass."""
    seen: list[str] = []

    def runtime(call: RuntimeCall) -> None:
        with AgentClient.from_payload(call.payload, base_url=call.base_url) as agent:
            agent.complete({"done": True})
            seen.append(call.run_id)

    agent = cxpa_platform.add_agent("keyed-fault", runtime)
    with cxpa_platform.faults.fail_next(
        1, status=503, who="runtimes", key=cxpa_platform.agent_api_key(agent.id)
    ) as rule:
        for _ in range(5):
            assert cxpa_client.trigger_run_and_wait(ECHO, {}, timeout_ms=30_000).status == "completed"
        assert rule.hits == 0
        run = cxpa_client.trigger_run_and_wait(agent.id, {}, timeout_ms=30_000)
    assert run.status == "completed"  # the runtime's AgentClient retried its 503
    assert rule.hits == 1


def test_who_runtimes_leaves_callers_alone(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """`who="runtimes"` hits callbacks, never a caller's request."""
    with cxpa_platform.faults.fail_next(1000, status=503, who="runtimes", path="*/callback") as rule:
        run = cxpa_client.with_options(max_retries=0).trigger_run(ECHO, {})
        deadline = time.monotonic() + 30
        while rule.hits == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert rule.hits >= 1
    assert cxpa_platform.run(run.run_id)["status"] in ("queued", "running", "failed")


def test_bad_who_is_refused(cxpa_platform: LocalPlatform) -> None:
    """An unknown `who` is a ValueError naming the choices, not a fault that never fires."""
    with pytest.raises(ValueError, match="callers, runtimes, all"):
        cxpa_platform.faults.fail_next(1, who="everyone")  # type: ignore[arg-type]


def test_a_key_never_shows_in_the_rules_repr(cxpa_platform: LocalPlatform) -> None:
    """A fault aimed at a key does not print the key."""
    key = cxpa_platform.agent_api_key(ECHO)
    with cxpa_platform.faults.fail_next(1, key=key) as rule:
        assert key not in repr(rule)


class Records(logging.Handler):
    """Every log record of the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.gone = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record; note when it says the caller went away."""
        self.records.append(record)
        if "went away" in record.getMessage():
            self.gone.set()


@pytest.fixture
def platform_log() -> Iterator[Records]:
    """The served platform's log records: uvicorn's (where a crash is logged) and the platform's own."""
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "cxpa_sdk.testing")]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(handler)
    logging.getLogger("cxpa_sdk.testing").setLevel(logging.INFO)
    yield handler
    for each, level in zip(loggers, levels, strict=True):
        each.removeHandler(handler)
        each.setLevel(level)


def test_a_caller_that_gives_up_is_one_info_line(cxpa_platform: LocalPlatform, platform_log: Records) -> None:
    """A client timing out during a latency fault is logged as one INFO line, with no ERROR and no traceback."""
    with (
        Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, timeout=0.2, max_retries=0) as c,
        cxpa_platform.faults.latency(0.6, count=1, path="*/runs/trigger"),
        pytest.raises(APITimeoutError),
    ):
        c.trigger_run(ECHO, {})
    assert platform_log.gone.wait(10), [r.getMessage() for r in platform_log.records]
    time.sleep(0.1)  # anything the server would log after it
    assert [r.levelname for r in platform_log.records] == ["INFO"]
    (record,) = platform_log.records
    assert record.exc_info is None
    assert record.getMessage() == "the caller went away before POST /api/agents/1/runs/trigger was answered"


class UrlRuntime:
    """A URL runtime on loopback that waits on `tok_<runId>` and records every body it is sent."""

    def __init__(self, platform: LocalPlatform, answer_resume: int = 202) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415

        self.bodies: list[dict[str, object]] = []
        self.waiting = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.bodies.append(body)
                resume = body.get("type") == "resumed"
                self.send_response(answer_resume if resume else 202)
                self.end_headers()
                if not resume or answer_resume == 202:
                    threading.Thread(target=owner.act, args=(body, resume), daemon=True).start()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.platform = platform
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/run"

    def act(self, body: dict[str, Any], resume: bool) -> None:
        """On the trigger: report waiting; on the resume payload: started, then complete with what it carried."""
        payload = parse_runtime_payload(body)
        assert isinstance(payload, ResumePayload) is resume
        with AgentClient.from_payload(payload, base_url=self.platform.base_url) as agent:
            if isinstance(payload, ResumePayload):
                agent.complete({"resumed": payload.output, "token": payload.token_id})
            else:
                agent.waiting(f"tok_{payload.run_id}", "waiting for approval")
                self.waiting.set()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def test_a_url_runtime_is_told_its_run_was_resumed(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """`platform.resume()` POSTs the ResumePayload to a URL runtime, which then finishes the run."""
    runtime = UrlRuntime(cxpa_platform)
    try:
        agent = cxpa_platform.add_agent("url-approval", runtime.url, max_run_duration_ms=60_000)
        run_id = cxpa_client.trigger_run(agent.id, {"doc": 1}).run_id
        assert runtime.waiting.wait(30)
        cxpa_platform.resume(f"tok_{run_id}", {"approvedBy": "dana"})
        run = cxpa_client.wait_for_run(agent.id, run_id, timeout=30)
    finally:
        runtime.close()
    assert (run.status, run.output_data) == ("completed", {"resumed": {"approvedBy": "dana"}, "token": f"tok_{run_id}"})
    resume = runtime.bodies[1]
    validate(resume, "ResumePayload")
    assert resume["type"] == "resumed"
    assert resume["agentApiKey"] == cxpa_platform.agent_api_key(agent.id)


def test_a_url_runtime_that_refuses_the_resume_fails_the_run(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """A runtime answering the resume payload with an error ends the run failed, saying so, at once."""
    runtime = UrlRuntime(cxpa_platform, answer_resume=404)
    try:
        agent = cxpa_platform.add_agent("url-refuses", runtime.url, max_run_duration_ms=60_000)
        run_id = cxpa_client.trigger_run(agent.id, {}).run_id
        assert runtime.waiting.wait(30)
        cxpa_platform.resume(f"tok_{run_id}")
        run = cxpa_client.wait_for_run(agent.id, run_id, timeout=30)
    finally:
        runtime.close()
    assert run.status == "failed"
    assert run.error is not None
    assert "answered 404 to the resume notification" in run.error.message


INNER_SESSION_TIMEOUT_S = 300.0


def test_users_async_test_gets_an_async_client(pytester: pytest.Pytester) -> None:
    """A user's async tests (anyio's plugin) get `cxpa_async_client` on their loop, closed with no leaked socket."""
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    pytester.makepyfile(
        """
        import gc
        import pytest
        from cxpa_sdk import AsyncCxpa

        @pytest.mark.anyio
        async def test_wait(cxpa_async_client):
            assert isinstance(cxpa_async_client, AsyncCxpa)
            run = await cxpa_async_client.trigger_run_and_wait(1, {"hello": "async"}, timeout_ms=30_000)
            assert run.output_data == {"hello": "async"}

        @pytest.mark.anyio
        async def test_fault_hits_my_call(cxpa_async_client, cxpa_platform):
            with cxpa_platform.faults.fail_next(1, status=503) as rule:
                await cxpa_async_client.trigger_run(1, {})
            assert rule.hits == 1

        def test_nothing_leaked():
            gc.collect()
        """
    )
    # As installed: the `testing` extra's entry point loads the plugin; -W error turns a leaked socket into a failure.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", timeout=INNER_SESSION_TIMEOUT_S)
    result.assert_outcomes(passed=3)


def test_async_client_on_trio_says_to_pin_asyncio(pytester: pytest.Pytester) -> None:
    """Under anyio's trio backend the fixture fails with one line saying how to pin asyncio."""
    pytest.importorskip("trio")
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "trio"

        @pytest.mark.anyio
        async def test_on_trio(cxpa_async_client):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=INNER_SESSION_TIMEOUT_S)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cxpa_async_client needs an asyncio event loop*anyio_backend*asyncio*"])
