"""Long checks (CXPA_LONG=1): long waits split into requests under 60 s, and slow drips under default timeouts.

These take minutes, so the default run skips them.
"""

import json

from hostile.hostile_server import (
    GRACE,
    HostileServer,
    Request,
    both,
    drip,
    json_response,
    long_only,
    perform,
    response,
    run_row,
)

from cxpa_sdk import APITimeoutError

WINDOW_MS = 50_000  # the most any one request asks the server to hold it
TIMED_OUT = json_response(202, {"timedOut": True, "runId": "run_1", "status": "running"})
RUNNING = json_response(200, run_row("running"))


def window_ms(request: Request) -> int:
    """The window a request asks the server to hold it for, in milliseconds."""
    return json.loads(request.body)["timeoutMs"] if request.method == "POST" else int(request.query["waitMs"])


def patient(held: list[float]):
    """A handler that holds each request for its window (at most 60 s, noted in `held`), then says: running."""

    def handler(conn, request: Request, stop) -> bool:
        seconds = min(window_ms(request) / 1000, 60.0)
        if stop.wait(seconds):
            return False
        held.append(seconds)
        conn.sendall(TIMED_OUT if request.method == "POST" else RUNNING)
        return True

    return handler


@long_only
@both
def test_a_long_wait_is_split_into_requests_under_a_minute(mode: str) -> None:
    """Deadline: a 65 s trigger_run_and_wait holds no request over 50 s and returns WaitTimedOut by 65 s + deadline."""
    held: list[float] = []
    with HostileServer(patient(held), conn_timeout=70.0) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=65_000), cap=120, deadline=5)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.timed_out is True
    assert outcome.elapsed <= 65 + 5 + GRACE, f"the wait took {outcome.elapsed:.1f} s"
    assert server.count >= 2, "the wait was not split"
    windows = [window_ms(request) for request in server.requests]
    assert max(windows) <= WINDOW_MS, f"a request asked to be held {max(windows)} ms"
    assert max(held) < 60


@long_only
@both
def test_a_slow_drip_under_default_timeouts_ends_by_the_deadline(mode: str) -> None:
    """Deadline: with default per-phase timeouts and deadline=5, a body dripping a byte every 2 s ends by 6 s."""
    head = response(202, headers={"Content-Type": "application/json", "Content-Length": "100000"})
    with HostileServer(drip(head, 5 + GRACE + 4, every=2.0)) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run(1, {}), deadline=5)
    assert outcome.elapsed <= 5 + GRACE, f"the call took {outcome.elapsed:.2f} s and ended with {outcome.describe()}"
    outcome.raised(APITimeoutError)
