"""Fault injection: failures, latency, rate limits, cut downloads, each scoped and reset."""

import time

import httpx2
import pytest

from cxpa_sdk.testing import ECHO, REPORT, LocalPlatform


def test_fail_next_counts_and_filters_by_path(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """fail_next(2) fails two matching requests with the status and Retry-After, then stops."""
    rule = cxpa_platform.faults.fail_next(2, status=503, retry_after=3, path="*/runs/trigger")
    other = http.post(f"/api/agents/{ECHO}/runs/trigger-and-wait", json={"input": {}})
    answers = [http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}) for _ in range(3)]
    assert other.status_code == 200
    assert [a.status_code for a in answers] == [503, 503, 202]
    assert answers[0].headers["retry-after"] == "3"
    assert answers[0].json()["error"]["code"] == "unavailable"
    assert answers[0].headers["x-request-id"]
    assert rule.hits == 2


def test_with_block_scopes_a_fault(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A fault used as a context manager ends with the block."""
    with cxpa_platform.faults.fail_next(100, status=500):
        assert http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}).status_code == 500
    assert http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}).status_code == 202


def test_latency(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """latency() delays the answer by at least the given seconds."""
    with cxpa_platform.faults.latency(0.2, count=1):
        started = time.monotonic()
        http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}})
        assert time.monotonic() - started >= 0.2


def test_rate_limit_answers_429_with_retry_after(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """Past the limit, 429 rate_limited with a Retry-After in whole seconds."""
    with cxpa_platform.faults.rate_limit(2, per_seconds=30, path="*/runs/trigger"):
        codes = [http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}) for _ in range(3)]
    assert [c.status_code for c in codes] == [202, 202, 429]
    assert 1 <= int(codes[2].headers["retry-after"]) <= 30
    assert codes[2].json()["error"]["code"] == "rate_limited"


def test_cut_download_breaks_the_body(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """cut_next_download(K) sends K bytes then drops the connection; the run ends failed."""
    cxpa_platform.faults.cut_next_download(1000)
    received = bytearray()
    run_id = ""
    url = f"/api/agents/{REPORT}/runs/trigger-and-download"
    with (  # noqa: PT012 - the cut comes while streaming
        pytest.raises(httpx2.RemoteProtocolError),
        http.stream("POST", url, json={"input": {"sizeBytes": 100_000}}) as response,
    ):
        run_id = response.headers["x-run-id"]
        for chunk in response.iter_raw():
            received += chunk
    assert len(received) == 1000
    row = http.get(f"/api/agents/{REPORT}/runs/{run_id}", params={"waitMs": 5000}).json()
    assert row["status"] == "failed"
    assert "cut after 1000 bytes" in row["error"]["message"]


def test_reset_removes_every_fault(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """reset_faults() removes all faults at once."""
    cxpa_platform.faults.fail_next(10)
    cxpa_platform.faults.rate_limit(0)
    cxpa_platform.reset_faults()
    assert http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {}}).status_code == 202
