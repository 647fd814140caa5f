"""Secrets stay secret; transport rules hold; answers outside the spec become InvalidResponseError."""

import asyncio
import logging
import re
import subprocess
import sys
import traceback

import httpx2
import pytest
from sdk_support import Api

import cxpa_api
from cxpa_sdk import (
    AgentClient,
    APIStatusError,
    AsyncCxpa,
    Cxpa,
    CxpaError,
    InternalServerError,
    InvalidArgumentError,
    InvalidResponseError,
    RunStatus,
    WaitTimeoutError,
)
from cxpa_sdk.testing import ECHO, REPORT, SLOW, LocalPlatform

SENTINEL_KEY = "sentinel-ingest-key-7f3a"


def test_secrets_absent_from_reprs_logs_and_errors(
    cxpa_platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """With DEBUG logging on, no key, token or credential value appears in a log line, repr or error."""
    cxpa_platform.add_ingest_key(SENTINEL_KEY)
    caplog.set_level(logging.DEBUG, logger="cxpa_sdk")
    texts: list[str] = []
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=SENTINEL_KEY) as client:
        texts.append(repr(client))
        registered = client.register_run(ECHO, "secret-check")
        texts.append(repr(registered))
        agent_key = cxpa_platform.agent_api_key(ECHO)
        with AgentClient(
            base_url=cxpa_platform.base_url,
            api_key=agent_key,
            run_id=registered.run_id,
            credentials_token=registered.credentials_token,
        ) as agent:
            texts.append(repr(agent))
            credential = agent.resolve_credential("conn_demo")
            texts.append(repr(credential))
            with pytest.raises(CxpaError) as caught:
                agent.resolve_credential("conn_missing")
            texts += [str(caught.value), repr(caught.value)]
            agent.complete({"ok": True})
        with cxpa_platform.faults.fail_next(1, status=503), pytest.raises(CxpaError) as caught:
            client.with_options(max_retries=0).trigger_run(ECHO, {})
        texts += [str(caught.value), repr(caught.value)]
    assert len(caplog.records) >= 8
    texts += [record.getMessage() for record in caplog.records]
    everything = "\n".join(texts)
    for secret in (SENTINEL_KEY, agent_key, registered.credentials_token, "cxpa-demo-secret"):
        assert secret not in everything


def test_raw_generated_client_hides_the_key() -> None:
    """repr() and str() of client.raw (sync and async) and of a cxpa_api.AuthenticatedClient never show the key."""
    texts: list[str] = []
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key=SENTINEL_KEY) as client:
        assert client.raw.token == SENTINEL_KEY  # the key is there, only out of sight
        texts += [repr(client.raw), str(client.raw)]
    async_client = AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=SENTINEL_KEY)
    texts += [repr(async_client.raw), str(async_client.raw)]
    asyncio.run(async_client.aclose())
    direct = cxpa_api.AuthenticatedClient(base_url="http://127.0.0.1:1", token="SENTINEL")
    texts += [repr(direct), str(direct)]
    # Building its own httpx clients writes "Authorization: Bearer <token>" into its headers.
    with direct.get_httpx_client():
        assert direct.get_httpx_client().headers["Authorization"] == "Bearer SENTINEL"
        texts += [repr(direct), str(direct), repr(direct.with_headers({"X-Extra": "1"}))]
    asyncio.run(direct.get_async_httpx_client().aclose())
    texts += [repr(direct), str(direct)]
    everything = "\n".join(texts)
    assert "AuthenticatedClient(" in everything
    assert SENTINEL_KEY not in everything
    assert "SENTINEL" not in everything


def test_one_debug_line_per_request_response_and_retry(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """A retried call logs the request, the answer and the retry, with method, path, status and request id."""
    caplog.set_level(logging.DEBUG, logger="cxpa_sdk")
    with api.platform.faults.fail_next(1, status=503, path="*/runs/trigger"):
        api.trigger_run(ECHO, {})
    # The echo agent's runtime logs its callbacks in this process too: keep the trigger's lines.
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("trigger_run")]
    assert len(lines) == 5
    assert lines[0].startswith("trigger_run POST /api/agents/1/runs/trigger attempt 1")
    assert "-> 503 request req_" in lines[1]
    assert lines[2].startswith("trigger_run: retrying in ")
    assert "-> 202 request req_" in lines[4]


def test_info_tells_each_retry_and_nothing_of_a_call_that_went_well(
    api: Api, slept: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """At INFO a retried call is one line: the operation, the wait, the retry's number and what failed."""
    caplog.set_level(logging.INFO, logger="cxpa_sdk")
    api.trigger_run(ECHO, {})
    assert [r for r in caplog.records if r.getMessage().startswith("trigger_run")] == []
    with api.platform.faults.fail_next(2, status=503, path="*/runs/trigger"):
        api.trigger_run(ECHO, {})
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("trigger_run")]
    assert [level for level, _ in lines] == [logging.INFO, logging.INFO]
    first, second = (text for _, text in lines)
    assert re.fullmatch(
        r"trigger_run: retrying in \d+\.\d\d s \(retry 1 of 2\) after InternalServerError 503 unavailable: .+", first
    )
    assert "(retry 2 of 2)" in second
    assert [f"{delay:.2f}" for delay in slept] == re.findall(r"retrying in (\S+) s", first + second)


def test_info_tells_a_wait_that_gives_up(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """A wait that runs out of time is one INFO line naming the run and its last status."""
    caplog.set_level(logging.INFO, logger="cxpa_sdk")
    run_id = api.trigger_run(SLOW, {"seconds": 30}).run_id
    with pytest.raises(WaitTimeoutError):
        api.wait_for_run(SLOW, run_id, timeout=0.2)
    told = [r.getMessage() for r in caplog.records if r.getMessage().startswith("gave up waiting")]
    assert len(told) == 1
    assert re.fullmatch(rf"gave up waiting: run {run_id} did not end within 0\.2 s \(it is (queued|running)\)", told[0])


def stderr_of_a_trigger(platform: LocalPlatform, cxpa_log: str) -> str:
    """What a child process that triggers one run with CXPA_LOG=`cxpa_log` (and no code) prints on stderr."""
    code = (
        "from cxpa_sdk import Cxpa;"
        f"c = Cxpa(base_url={platform.base_url!r}, ingest_api_key={platform.ingest_key!r});"
        "c.trigger_run(1, {}); c.close()"
    )
    env = {"CXPA_LOG": cxpa_log, "PATH": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env)
    assert platform.ingest_key not in done.stderr
    return done.stderr


def test_cxpa_log_env_turns_logging_on(cxpa_platform: LocalPlatform) -> None:
    """CXPA_LOG=debug prints the SDK's debug lines on stderr with no code, and no key."""
    assert "trigger_run POST /api/agents/1/runs/trigger attempt 1" in stderr_of_a_trigger(cxpa_platform, "debug")


def test_cxpa_log_info_prints_a_retry(cxpa_platform: LocalPlatform) -> None:
    """CXPA_LOG=info prints the retry of a 503 on stderr (and no DEBUG line, and no key)."""
    with cxpa_platform.faults.fail_next(1, status=503, path="*/runs/trigger"):
        stderr = stderr_of_a_trigger(cxpa_platform, "info")
    assert "cxpa_sdk INFO trigger_run: retrying in " in stderr
    assert "(retry 1 of 2) after InternalServerError 503 unavailable: " in stderr
    assert "DEBUG" not in stderr


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8787", True),
        ("http://localhost:8787", True),
        ("http://[::1]:8787", True),
        ("https://cxpa.invalid", True),
        ("http://cxpa.invalid", False),
        ("http://10.0.0.1", False),
    ],
    ids=["loopback", "localhost", "ipv6-loopback", "https", "http-remote", "http-private"],
)
def test_plain_http_only_to_this_machine(url: str, allowed: bool) -> None:
    """Plain http:// to another host is refused unless allow_insecure=True."""
    if allowed:
        Cxpa(base_url=url, ingest_api_key="k").close()
    else:
        with pytest.raises(InvalidArgumentError, match="allow_insecure"):
            Cxpa(base_url=url, ingest_api_key="k")
        Cxpa(base_url=url, ingest_api_key="k", allow_insecure=True).close()


def mock_client(handler: object) -> Cxpa:
    """A client whose httpx client answers from `handler` (for answers no real platform gives)."""
    http = httpx2.Client(transport=httpx2.MockTransport(handler))  # type: ignore[arg-type]
    client = Cxpa(base_url="http://127.0.0.1:1", ingest_api_key=SENTINEL_KEY, http_client=http, max_retries=0)
    return client


def test_redirects_are_not_followed() -> None:
    """A redirect to another host is never followed, so the key never goes there."""
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(307, headers={"Location": "https://elsewhere.invalid/steal"})

    with mock_client(handler) as client, pytest.raises(APIStatusError, match="307") as caught:
        client.trigger_run(ECHO, {})
    assert [r.url.host for r in seen] == ["127.0.0.1"]
    assert (caught.value.code, caught.value.applied) == ("no_envelope", None)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (202, b"{not json", "not a valid TriggeredRun"),
        (202, b'{"runId": 5, "status": "queued"}', "runId: must be string"),
        (202, b'{"status": "queued"}', "runId: is required"),
        (418, b'{"error": {"code": "teapot", "message": "short and stout"}}', None),
    ],
    ids=["bad-json", "wrong-type", "missing-field", "undocumented-status"],
)
def test_answers_outside_the_spec(status: int, body: bytes, message: str | None) -> None:
    """Bad JSON, wrong types and missing fields in a 2xx are InvalidResponseError, and the request was applied."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"X-Request-Id": "req_mock"})

    with mock_client(handler) as client, pytest.raises(CxpaError) as caught:
        client.trigger_run(ECHO, {})
    if message is None:
        assert caught.value.status_code == 418
        assert caught.value.code == "teapot"
    else:
        assert isinstance(caught.value, InvalidResponseError)
        assert message in str(caught.value)
        assert caught.value.request_id == "req_mock"
        assert caught.value.applied is True
        assert "the request was applied" in str(caught.value)


def test_a_foreign_error_page_is_the_status_error_and_may_have_been_applied() -> None:
    """A 500 HTML page (not the Error envelope) is InternalServerError `no_envelope`, outcome unknown."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(500, content=b"<html>oops</html>", headers={"Content-Type": "text/html"})

    with mock_client(handler) as client, pytest.raises(InternalServerError) as caught:
        client.with_options(max_retries=0).trigger_run(ECHO, {})
    assert (caught.value.status_code, caught.value.code, caught.value.applied) == (500, "no_envelope", None)
    assert "not in the platform's Error envelope (text/html, 17 bytes)" in str(caught.value)


def test_unknown_status_from_a_newer_platform_does_not_crash() -> None:
    """A run status this SDK does not know is kept, neither terminal nor known."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(202, json={"runId": "run_1", "status": "paused"})

    with mock_client(handler) as client:
        triggered = client.trigger_run(ECHO, {})
    assert triggered.status == "paused"
    assert isinstance(triggered.status, RunStatus)
    assert not triggered.status.known
    assert not triggered.status.terminal


def test_huge_answer_is_refused_in_bounded_memory() -> None:
    """An answer over max_answer_bytes is InvalidResponseError, read no further than the limit."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(202, stream=httpx2.ByteStream(b"[" + b"1," * (5 << 20) + b"1]"))

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http, max_answer_bytes=1 << 20) as client:
        with pytest.raises(InvalidResponseError, match="over 1048576 bytes"):
            client.trigger_run(ECHO, {})


def test_download_answer_without_run_id_is_invalid() -> None:
    """A 200 download without X-Run-Id is InvalidResponseError."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, stream=httpx2.ByteStream(b"x"))

    with mock_client(handler) as client, pytest.raises(InvalidResponseError, match="X-Run-Id"):
        client.trigger_run_and_download(REPORT, {}).__enter__()


@pytest.mark.parametrize(
    "answer",
    [
        {"connectionId": "conn_1", "type": "api_key", "values": {"token": "CRED-SENTINEL"}, "expiresAt": "never"},
        {"connectionId": "conn_1", "type": "api_key", "values": {"token": "CRED-SENTINEL", "n": 5}},
    ],
    ids=["bad-date", "bad-value"],
)
def test_tracebacks_with_locals_show_no_secret(answer: dict[str, object]) -> None:
    """A failed credential read, formatted with every frame's locals, shows no key, token or credential value."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=answer)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    agent = AgentClient(
        api_key=SENTINEL_KEY,
        run_id="run_1",
        base_url="http://127.0.0.1:1",
        credentials_token="TOKEN-SENTINEL",
        http_client=http,
        max_retries=0,
    )
    with pytest.raises(InvalidResponseError) as caught:
        agent.resolve_credential("conn_1")
    error = caught.value
    frames = traceback.TracebackException.from_exception(error, capture_locals=True).stack
    sdk = [frame for frame in frames if "cxpa_sdk" in frame.filename]  # not this test's own frame
    text = "".join(traceback.StackSummary.from_list(sdk).format()) + "".join(traceback.format_exception(error))
    assert "resolve_credential" in text  # the SDK's frames are there, with their locals
    assert all(frame.locals for frame in sdk)
    for secret in (SENTINEL_KEY, "TOKEN-SENTINEL", "CRED-SENTINEL"):
        assert secret not in text
