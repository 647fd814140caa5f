"""Poll pacing: a wait against a server that answers every long poll at once still makes few requests.

A server that ignores `waitMs` and answers each run read immediately with a running run must not
turn a 2 s wait into a busy loop: at most 20 requests in those 2 s, with real pacing sleeps.
"""

import time

from hostile.hostile_server import (
    DEADLINE,
    GRACE,
    HostileServer,
    Request,
    both,
    json_response,
    perform,
    run_row,
)

from cxpa_sdk import WaitTimeoutError

MAX_REQUESTS = 20
TIMED_OUT = json_response(202, {"timedOut": True, "runId": "run_1", "status": "running"})
RUNNING = json_response(200, run_row("running"))


def impatient(conn, request: Request, stop) -> bool:
    """Answer the trigger-and-wait with 202 timedOut, and every run read at once with a running run."""
    conn.sendall(TIMED_OUT if request.method == "POST" else RUNNING)
    return True


def check_polls(server: HostileServer, wait_s: float) -> None:
    """Assert the polls were paced, read the one run, and never asked to be held past the wait."""
    assert server.count <= MAX_REQUESTS, f"{server.count} requests in a {wait_s:g} s wait (at most {MAX_REQUESTS})"
    reads = [request for request in server.requests if request.method == "GET"]
    assert reads, "the run was never read"
    assert {request.path for request in reads} == {"/api/agents/1/runs/run_1"}
    for request in reads:
        assert 0 < int(request.query["waitMs"]) <= wait_s * 1000, f"a poll asked for waitMs={request.query['waitMs']}"


@both
def test_trigger_and_wait_paces_its_polls(mode: str) -> None:
    """Pacing: trigger_run_and_wait(timeout_ms=2000) against instant answers makes at most 20 requests, WaitTimedOut."""
    with HostileServer(impatient) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=2000), nosleep=False)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.timed_out is True, outcome.describe()
    assert outcome.value.run_id == "run_1"
    assert outcome.elapsed <= 2 + DEADLINE + GRACE
    check_polls(server, 2)
    assert [request.method for request in server.requests].count("POST") == 1, "the run was triggered twice"


@both
def test_wait_for_run_paces_its_polls(mode: str) -> None:
    """Pacing: wait_for_run(timeout=2) against instant answers makes at most 20 requests, then WaitTimeoutError."""
    with HostileServer(impatient) as server:
        outcome = perform(mode, server, lambda c: c.wait_for_run(1, "run_1", timeout=2), nosleep=False)
    error = outcome.raised(WaitTimeoutError)
    assert error.run_id == "run_1"
    assert outcome.elapsed <= 2 + DEADLINE + GRACE
    check_polls(server, 2)


def ends_after(seconds: float):
    """A handler that never holds a read: the run is running until `seconds` after the trigger, then completed."""
    ends: list[float] = []

    def handler(conn, request: Request, stop) -> bool:
        if request.method == "POST":
            ends.append(time.monotonic() + seconds)
            conn.sendall(TIMED_OUT)
        else:
            done = time.monotonic() >= ends[0]
            conn.sendall(json_response(200, run_row("completed" if done else "running")))
        return True

    return handler


@both
def test_pacing_notices_a_run_that_ends(mode: str) -> None:
    """Pacing: against instant answers, a run that ends 1 s in is returned within the 2 s pacing cap (+ grace)."""
    with HostileServer(ends_after(1.0)) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=6000), nosleep=False)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.status == "completed", outcome.describe()
    assert outcome.elapsed <= 1.0 + 2.0 + GRACE, f"the end was noticed {outcome.elapsed - 1.0:.2f} s late"
    assert server.count <= MAX_REQUESTS, f"{server.count} requests (at most {MAX_REQUESTS})"
