"""Idempotency-Key: replay, conflict, in-progress, and the dropped answer it exists for."""

import threading

import httpx2
import pytest

from cxpa_sdk.testing import ECHO, SLOW, LocalPlatform


def trigger(http: httpx2.Client, key: str, body: dict | None = None, agent: int = ECHO) -> httpx2.Response:
    """POST trigger with an Idempotency-Key."""
    return http.post(f"/api/agents/{agent}/runs/trigger", json=body or {"input": {}}, headers={"Idempotency-Key": key})


def test_same_key_and_body_replays(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """The second request gets the first answer, marked Idempotent-Replayed, and no second run."""
    before = len(cxpa_platform.runs(ECHO))
    first = trigger(http, "replay-1")
    second = trigger(http, "replay-1")
    assert second.status_code == first.status_code == 202
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(cxpa_platform.runs(ECHO)) == before + 1


def test_same_key_other_body_is_422(http: httpx2.Client) -> None:
    """Reusing a key with another body is 422 idempotency_key_reused."""
    trigger(http, "reuse-1", {"input": {"a": 1}})
    response = trigger(http, "reuse-1", {"input": {"a": 2}})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_key_in_progress_is_409(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """While the first request with a key is held, the same key gets 409 idempotency_in_progress."""
    body = {"input": {"seconds": 0.5}, "timeoutMs": 3000}
    results: list[httpx2.Response] = []
    url = f"/api/agents/{SLOW}/runs/trigger-and-wait"
    first = threading.Thread(
        target=lambda: results.append(http.post(url, json=body, headers={"Idempotency-Key": "held"})), daemon=True
    )
    first.start()
    try:
        for _ in range(200):
            if any(r["input_data"] == {"seconds": 0.5} and r["status"] == "running" for r in cxpa_platform.runs(SLOW)):
                break
            threading.Event().wait(0.01)
        second = http.post(url, json=body, headers={"Idempotency-Key": "held"})
    finally:
        first.join(10)
    assert not first.is_alive(), "the first request with the key did not finish within 10 s"
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_in_progress"
    assert results[0].status_code == 200
    replay = http.post(url, json=body, headers={"Idempotency-Key": "held"})
    assert replay.json()["id"] == results[0].json()["id"]


def test_dropped_answer_then_retry_is_one_run(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A trigger applied but whose answer is dropped, retried with its key, makes exactly one run."""
    before = len(cxpa_platform.runs(ECHO))
    with cxpa_platform.faults.drop_next(1, path="*/runs/trigger"), pytest.raises(httpx2.RemoteProtocolError):
        trigger(http, "dropped-1", {"input": {"n": 1}})
    retried = trigger(http, "dropped-1", {"input": {"n": 1}})
    assert retried.status_code == 202
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(cxpa_platform.runs(ECHO)) == before + 1


def test_retryable_errors_are_not_replayed(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A 503 before the request was applied frees the key: the retry acts."""
    with cxpa_platform.faults.fail_next(1, status=503):
        assert trigger(http, "after-503").status_code == 503
    retried = trigger(http, "after-503")
    assert retried.status_code == 202
    assert "idempotent-replayed" not in retried.headers


def test_keys_are_scoped_to_the_caller(cxpa_platform: LocalPlatform, http: httpx2.Client) -> None:
    """The same key from another API key is another request."""
    cxpa_platform.add_ingest_key("second-caller")
    first = trigger(http, "shared-key")
    other = httpx2.post(
        f"{cxpa_platform.base_url}/api/agents/{ECHO}/runs/trigger",
        json={"input": {}},
        headers={"Authorization": "Bearer second-caller", "Idempotency-Key": "shared-key"},
    )
    assert other.status_code == 202
    assert other.json()["runId"] != first.json()["runId"]
