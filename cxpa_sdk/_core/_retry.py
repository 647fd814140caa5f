"""The retry policy: what is retried, how long to wait, and Retry-After. Pure: no sleeping, no I/O."""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from typing import NamedTuple

# Answers worth another attempt: the platform could not handle the request now.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Codes that are the contract's answer about the run itself, never a transient failure.
SEMANTIC_CODES = frozenset({"run_failed", "wait_timeout"})


class RetryPolicy(NamedTuple):
    """How a call retries.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        backoff_base: The first backoff's upper bound, in seconds; it doubles each retry.
        backoff_cap: The most any one backoff may be, in seconds.
        retry_after_cap: The longest Retry-After honoured, in seconds; a longer one is not waited for.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 60.0


def is_retryable_status(status: int, code: str | None) -> bool:
    """Whether an error answer may succeed on another attempt.

    408, 429, 500, 502, 503 and 504 are; so is 409 `idempotency_in_progress` (the first attempt
    is still being handled). The contract's answers about the run (502 `run_failed`, 504
    `wait_timeout`) and every other 409 are not.
    """
    if code in SEMANTIC_CODES:
        return False
    if status == 409:
        return code == "idempotency_in_progress"
    return status in RETRYABLE_STATUSES


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry): exponential with full jitter."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


_DELTA_SECONDS = r"[0-9]+(\.[0-9]+)?"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable.

    Only ASCII digits count (`str.isdigit` also takes `²` and other scripts' digits); a delay too
    long to represent (a date in the year 9999) comes back as infinity, which no cap honours.
    """
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(_DELTA_SECONDS, value):
        return float(value)  # thousands of digits come back as infinity
    try:
        moment = email.utils.parsedate_to_datetime(value)
        if moment.tzinfo is None:
            return None
        return max(0.0, moment.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError):
        return None
    except OverflowError:
        return math.inf


class Verdict(NamedTuple):
    """What to do after a failed attempt: `retry` after `delay` seconds, or give up (`why` says why)."""

    retry: bool
    delay: float = 0.0
    why: str = ""


def decide(
    *,
    attempt: int,
    policy: RetryPolicy,
    retryable: bool,
    retry_after: float | None,
    time_left: float,
    rng: random.Random | None = None,
) -> Verdict:
    """Whether to retry after attempt number `attempt` failed, and after how long.

    Args:
        attempt: The attempts made so far (1 after the first).
        policy: The retry policy.
        retryable: Whether the failure is worth another attempt at all.
        retry_after: The server's Retry-After in seconds, if it sent one.
        time_left: Seconds left before the call's overall deadline.
        rng: The random source for jitter (tests pass a seeded one).
    """
    if not retryable:
        return Verdict(retry=False, why="not retryable")
    if attempt > policy.max_retries:
        return Verdict(retry=False, why="no retries left")
    if retry_after is not None and retry_after > policy.retry_after_cap:
        return Verdict(retry=False, why=f"Retry-After {retry_after:g} s is over the {policy.retry_after_cap:g} s cap")
    delay = retry_after if retry_after is not None else backoff(attempt, policy, rng)
    if delay >= time_left:
        return Verdict(retry=False, why="the deadline would pass before the retry")
    return Verdict(retry=True, delay=delay)
