"""Typed errors from real platform answers, and retries that never act twice."""

import json
import time

import pytest
from sdk_support import Api

from cxpa_sdk import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Cxpa,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from cxpa_sdk.testing import ECHO, SLOW, LocalPlatform


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(400, BadRequestError), (413, PayloadTooLargeError), (500, InternalServerError), (503, InternalServerError)],
    ids=["400", "413", "500", "503"],
)
def test_status_classes(cxpa_platform: LocalPlatform, status: int, error_class: type) -> None:
    """Each error status becomes its class, with code, message and request id."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, max_retries=0) as client:
        with cxpa_platform.faults.fail_next(1, status=status), pytest.raises(error_class) as caught:
            client.trigger_run(ECHO, {})
    assert caught.value.status_code == status
    assert caught.value.request_id.startswith("req_")
    assert caught.value.attempts == 1


def test_authentication_error(cxpa_platform: LocalPlatform) -> None:
    """A wrong key is AuthenticationError, and the key is in no part of it."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key="sentinel-wrong-key") as client:
        with pytest.raises(AuthenticationError) as caught:
            client.trigger_run(ECHO, {})
    assert "sentinel-wrong-key" not in str(caught.value)
    assert "sentinel-wrong-key" not in repr(caught.value)


def test_permission_denied(cxpa_platform: LocalPlatform) -> None:
    """A key limited to other agents is PermissionDeniedError."""
    cxpa_platform.add_ingest_key("limited-sdk-key", agent_ids=[SLOW])
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key="limited-sdk-key") as client:
        with pytest.raises(PermissionDeniedError):
            client.trigger_run(ECHO, {})


def test_not_found_agent(api: Api) -> None:
    """An unknown agent is NotFoundError."""
    with pytest.raises(NotFoundError, match="agent_not_found"):
        api.trigger_run(999_999, {})


def test_unprocessable_key_reuse(api: Api) -> None:
    """The same idempotency key with another input is UnprocessableEntityError, not a second run."""
    api.trigger_run(ECHO, {"a": 1}, idempotency_key=f"reuse-{api.mode}")
    with pytest.raises(UnprocessableEntityError) as caught:
        api.trigger_run(ECHO, {"a": 2}, idempotency_key=f"reuse-{api.mode}")
    assert caught.value.idempotency_key == f"reuse-{api.mode}"


def test_conflict(api: Api) -> None:
    """Triggering a standalone agent is ConflictError agent_not_platform_managed."""
    with pytest.raises(ConflictError, match="agent_not_platform_managed"):
        api.trigger_run(5, {})


def test_an_error_carries_the_answers_headers_and_body(api: Api) -> None:
    """A 409 over real HTTP: `headers` (lower-case names) and `body` are the answer's, its envelope readable."""
    with pytest.raises(ConflictError) as caught:
        api.trigger_run(5, {})
    error = caught.value
    assert error.headers["content-type"] == "application/json"
    assert error.headers["x-request-id"] == error.request_id
    assert int(error.headers["content-length"]) == len(error.body)
    assert json.loads(error.body)["error"]["code"] == "agent_not_platform_managed"
    assert api.platform.ingest_key not in repr(error.headers) + error.body.decode()


def test_503_twice_then_success_is_one_run(api: Api, slept: list[float]) -> None:
    """Two 503s then success: the call returns, after two backoffs, and the platform has one run."""
    before = len(api.platform.runs(ECHO))
    with api.platform.faults.fail_next(2, status=503, path="*/runs/trigger") as fault:
        triggered = api.trigger_run(ECHO, {"retry": api.mode})
    assert fault.hits == 2
    assert len(slept) == 2
    assert len(api.platform.runs(ECHO)) == before + 1
    assert api.platform.run(triggered.run_id)["input_data"] == {"retry": api.mode}


def test_dropped_answer_is_still_one_run(api: Api) -> None:
    """The trigger was applied but its answer dropped: the retry replays it, one run in all."""
    before = len(api.platform.runs(ECHO))
    with api.platform.faults.drop_next(1, path="*/runs/trigger"):
        triggered = api.trigger_run(ECHO, {"dropped": api.mode})
    runs = api.platform.runs(ECHO)
    assert len(runs) == before + 1
    assert runs[-1]["id"] == triggered.run_id


def test_retry_after_is_honoured(api: Api, slept: list[float]) -> None:
    """A 429 with Retry-After 3 waits exactly 3 s before the retry."""
    with api.platform.faults.fail_next(1, status=429, retry_after=3, path="*/runs/trigger"):
        api.trigger_run(ECHO, {})
    assert slept == [3.0]


def test_retry_after_over_the_cap_raises(api: Api, slept: list[float]) -> None:
    """A Retry-After past the cap is not waited for: RateLimitError carries it."""
    with (
        api.platform.faults.fail_next(1, status=429, retry_after=600, path="*/runs/trigger"),
        pytest.raises(RateLimitError) as caught,
    ):
        api.trigger_run(ECHO, {})
    assert caught.value.retry_after == 600
    assert slept == []


def test_retries_exhausted_say_how_many_attempts(api: Api, slept: list[float]) -> None:
    """After 1 + max_retries attempts the last error is raised, saying 3 attempts and maybe applied."""
    with (
        api.platform.faults.fail_next(5, status=503, path="*/runs/trigger"),
        pytest.raises(InternalServerError) as caught,
    ):
        api.trigger_run(ECHO, {})
    assert caught.value.attempts == 3
    assert caught.value.may_have_been_applied is True
    assert "3 attempts" in str(caught.value)
    assert len(slept) == 2


def test_semantic_answers_are_never_retried(api: Api, slept: list[float]) -> None:
    """409 run_finished is raised at once, with one attempt."""
    run_id = api.trigger_run(SLOW, {"seconds": 5}).run_id
    api.cancel_run(SLOW, run_id)
    with pytest.raises(ConflictError) as caught:
        api.cancel_run(SLOW, run_id)
    assert caught.value.attempts == 1
    assert slept == []


def test_deadline_bounds_everything(cxpa_platform: LocalPlatform) -> None:
    """With a slow platform, the deadline ends the call on time: APITimeoutError, not a hang."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, deadline=0.5) as client:
        started = time.monotonic()
        with cxpa_platform.faults.latency(2.0, path="*/runs/trigger"), pytest.raises(APITimeoutError) as caught:
            client.trigger_run(ECHO, {})
    assert time.monotonic() - started < 1.5
    assert caught.value.may_have_been_applied is True


def test_connection_refused_was_not_applied() -> None:
    """Nobody listening: APIConnectionError that says the request was certainly not applied."""
    with Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", max_retries=1) as client:
        client._sleep = lambda seconds: None
        with pytest.raises(APIConnectionError) as caught:
            client.trigger_run(ECHO, {})
    assert caught.value.may_have_been_applied is False
    assert caught.value.attempts == 2
    assert "was not applied" in str(caught.value)


def test_long_wait_survives_in_short_segments(slept: list[float]) -> None:
    """A 3-minute timeout_ms wait on a platform with 200 ms windows returns the run, triggered once."""
    platform = LocalPlatform(max_wait_ms=200, max_poll_wait_ms=200)
    with platform.serve() as base_url, Cxpa(base_url=base_url, ingest_api_key=platform.ingest_key) as client:
        started = time.monotonic()
        result = client.trigger_run_and_wait(SLOW, {"seconds": 1.5}, timeout_ms=180_000)
        elapsed = time.monotonic() - started
        assert result.status == "completed"
        assert len(platform.runs(SLOW)) == 1
        assert 1.4 < elapsed < 10
