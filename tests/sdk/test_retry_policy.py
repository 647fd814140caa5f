"""The retry policy as pure functions: what is retried, backoff, Retry-After, deadlines. No sleeping."""

import math
import random

import pytest

from cxpa_sdk._core._retry import RetryPolicy, backoff, decide, is_retryable_status, parse_retry_after


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (408, "request_timeout", True),
        (429, "rate_limited", True),
        (500, "internal_error", True),
        (502, "bad_gateway", True),
        (503, "unavailable", True),
        (504, "gateway_timeout", True),
        (409, "idempotency_in_progress", True),
        (502, "run_failed", False),
        (504, "wait_timeout", False),
        (409, "run_finished", False),
        (409, "invalid_transition", False),
        (400, "invalid_body", False),
        (401, "unauthorized", False),
        (403, "forbidden", False),
        (404, "run_not_found", False),
        (413, "payload_too_large", False),
        (422, "idempotency_key_reused", False),
    ],
    ids=str,
)
def test_what_is_retried(status: int, code: str, retryable: bool) -> None:
    """Transient statuses are retried; the contract's semantic answers never are."""
    assert is_retryable_status(status, code) is retryable


def test_backoff_is_full_jitter_under_a_doubling_cap() -> None:
    """Each backoff lies in [0, min(cap, base * 2**(n-1))] and they spread over that range."""
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=4.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [backoff(attempt, policy, rng) for _ in range(500)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9
        assert min(delays) < ceiling * 0.1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("Sat, 28 Nov 2026 10:00:10 GMT", 10.0),
        ("soon", None),
        (None, None),
        ("-1", None),
        ("Sat, 28 Nov 2026 09:00:00 GMT", 0.0),
        ("1.5", 1.5),
        ("\u00b2", None),
        ("\u0661\u0662", None),
        ("9" * 5000, math.inf),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799.0 - 1795860000.0),
    ],
    ids=[
        "delta",
        "zero",
        "http-date",
        "garbage",
        "absent",
        "negative",
        "date-in-the-past",
        "fraction",
        "superscript-two",
        "arabic-indic-digits",
        "5000-digits",
        "year-99999-unreadable",
        "year-9999",
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    """Retry-After as delta-seconds or an HTTP date; garbage is ignored."""
    now = 1795860000.0  # 2026-11-28 10:00:00 UTC
    assert parse_retry_after(header, now=now) == seconds


def test_an_endless_retry_after_is_not_waited_for() -> None:
    """A Retry-After too long to represent is over every cap: the call gives up instead of sleeping."""
    verdict = decide(attempt=1, policy=RetryPolicy(), retryable=True, retry_after=math.inf, time_left=60)
    assert not verdict.retry
    assert "over the 60 s cap" in verdict.why


def test_decide_retries_within_budget() -> None:
    """A retryable failure with retries and time left is retried after the backoff."""
    verdict = decide(
        attempt=1, policy=RetryPolicy(), retryable=True, retry_after=None, time_left=60, rng=random.Random(1)
    )
    assert verdict.retry
    assert 0 <= verdict.delay <= 0.5


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"retryable": False}, "not retryable"),
        ({"attempt": 3}, "no retries left"),
        ({"retry_after": 61.0}, "over the 60 s cap"),
        ({"retry_after": 5.0, "time_left": 4.0}, "deadline would pass"),
    ],
    ids=["not-retryable", "retries-spent", "retry-after-over-cap", "deadline"],
)
def test_decide_gives_up(kwargs: dict, why: str) -> None:
    """No retry when not retryable, out of retries, asked to wait past the cap, or past the deadline."""
    args = {
        "attempt": 1,
        "policy": RetryPolicy(max_retries=2),
        "retryable": True,
        "retry_after": None,
        "time_left": 60.0,
        **kwargs,
    }
    verdict = decide(**args)
    assert not verdict.retry
    assert why in verdict.why


def test_retry_after_is_honoured_exactly() -> None:
    """A Retry-After within the cap is the delay, not the backoff."""
    verdict = decide(attempt=1, policy=RetryPolicy(), retryable=True, retry_after=2.0, time_left=60)
    assert verdict.delay == 2.0


def test_zero_retries_disables_retrying() -> None:
    """max_retries=0 never retries."""
    assert not decide(
        attempt=1, policy=RetryPolicy(max_retries=0), retryable=True, retry_after=None, time_left=60
    ).retry
