"""Deadlines: every call ends by its deadline plus the 1 s grace, whatever the server does.

The deadline of a plain call is the client's `deadline=`; a waiting call or a download adds its
wait. Each misbehaviour lasts a little longer than that bound, so a call that ignores its deadline
ends late (and fails) instead of hanging.
"""

from pathlib import Path

import pytest
from hostile.hostile_server import (
    CALLS,
    DEADLINE,
    FILE_HEADERS,
    GRACE,
    WAIT,
    HostileServer,
    Outcome,
    both,
    delayed,
    drip,
    drip_head,
    early_hints,
    envelope,
    json_response,
    perform,
    response,
    save_download,
    send,
    sequence,
    stall,
)

from cxpa_sdk import APIStatusError, APITimeoutError, IncompleteDownloadError, WaitTimeoutError

# How long each misbehaviour goes on past a call's bound (deadline + grace) before the server gives up.
PAST = 0.4
DRIP_HEAD = response(202, headers={"Content-Type": "application/json", "Content-Length": "100000"})
CHUNKED_HEAD = response(202, headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})


def within(outcome: Outcome, deadline: float) -> None:
    """Assert the call ended by `deadline` plus the grace."""
    assert outcome.elapsed <= deadline + GRACE, (
        f"the call took {outcome.elapsed:.2f} s, past its {deadline:.2f} s deadline and the {GRACE:g} s grace "
        f"(it ended with {outcome.describe()})"
    )


def longer(deadline: float) -> float:
    """How long a misbehaviour lasts against a call with this deadline."""
    return deadline + GRACE + PAST


BEHAVIOURS = {
    "drip_body": lambda seconds: HostileServer(drip(DRIP_HEAD, seconds)),
    "drip_chunks": lambda seconds: HostileServer(drip(CHUNKED_HEAD, seconds, piece=b"1\r\n \r\n")),
    "drip_head": lambda seconds: HostileServer(drip_head(seconds)),
    "early_hints_forever": lambda seconds: HostileServer(early_hints(seconds)),
    "stall": lambda seconds: HostileServer(stall(seconds)),
    "continue_then_nothing": lambda seconds: HostileServer(stall(seconds, b"HTTP/1.1 100 Continue\r\n\r\n")),
    "body_never_read": lambda seconds: HostileServer(stall(seconds), read="head", rcvbuf=4096),
}
"""Servers that never give a whole answer in time, by name; each gives up after the seconds it is given."""


@both
@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_trigger_run_ends_by_its_deadline(mode: str, behaviour: str) -> None:
    """Deadline: trigger_run raises APITimeoutError by deadline + grace against a dripping, stalling or 1xx server."""
    # The server that reads nothing of the body gets one near the 1 MiB limit (on loopback the socket
    # buffers may take it all: then the call waits for an answer that never comes).
    payload = {"blob": "x" * 1_000_000} if behaviour == "body_never_read" else {}
    with BEHAVIOURS[behaviour](longer(DEADLINE)) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run(1, payload))
    within(outcome, DEADLINE)
    outcome.raised(APITimeoutError)


WAITS = {"run_events", "wait_all", "wait_for_run"}
"""The CALLS that wait on their own clock."""


@both
@pytest.mark.parametrize("name", sorted(set(CALLS) - {"trigger_run"}))
def test_every_call_ends_by_its_deadline_when_the_body_drips(mode: str, name: str) -> None:
    """Deadline: each JSON call ends by deadline (+ its wait) + grace when its answer drips.

    A call raises APITimeoutError; a wait (on its own clock) raises WaitTimeoutError.
    """
    call = CALLS[name]
    with HostileServer(drip(DRIP_HEAD.replace(b"202 Accepted", b"200 OK"), longer(DEADLINE + call.wait))) as server:
        outcome = perform(mode, server, call.action, agent=call.agent)
    within(outcome, DEADLINE + call.wait)
    outcome.raised(WaitTimeoutError if name in WAITS else APITimeoutError)


@both
def test_wait_ends_by_its_deadline_when_the_polls_drip(mode: str) -> None:
    """Deadline: trigger_run_and_wait answers WaitTimedOut by wait + deadline + grace when its run reads drip."""
    timed_out = json_response(202, {"timedOut": True, "runId": "run_1", "status": "running"})
    dripping = drip(DRIP_HEAD.replace(b"202 Accepted", b"200 OK"), longer(DEADLINE + WAIT))

    def handler(conn, request, stop):
        if request.method == "POST":
            conn.sendall(timed_out)
            return True
        return dripping(conn, request, stop)

    with HostileServer(handler) as server:
        outcome = perform(mode, server, CALLS["trigger_run_and_wait"].action)
    within(outcome, DEADLINE + WAIT)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.timed_out is True
    assert outcome.value.run_id == "run_1"


@both
@pytest.mark.parametrize("framing", ["content_length", "chunked"])
def test_download_ends_by_its_deadline_when_the_file_drips(mode: str, framing: str, tmp_path: Path) -> None:
    """Deadline: a download whose file drips raises IncompleteDownloadError by wait + deadline + grace, no file left."""
    if framing == "chunked":
        head, piece = response(200, headers={**FILE_HEADERS, "Transfer-Encoding": "chunked"}), b"1\r\nx\r\n"
    else:
        head, piece = response(200, headers={**FILE_HEADERS, "Content-Length": "1000000"}), b"%PDF"
    with HostileServer(drip(head, longer(DEADLINE + WAIT), piece=piece)) as server:
        outcome = perform(mode, server, save_download(tmp_path, timeout_ms=int(WAIT * 1000)))
    within(outcome, DEADLINE + WAIT)
    outcome.raised(IncompleteDownloadError)
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "a file or a .part file was left behind"


@both
@pytest.mark.parametrize("behaviour", ["drip_head", "early_hints_forever"])
def test_download_ends_by_its_deadline_before_its_headers(mode: str, behaviour: str, tmp_path: Path) -> None:
    """Deadline: a download whose headers never end raises APITimeoutError by wait + deadline + grace, no file."""
    with BEHAVIOURS[behaviour](longer(DEADLINE + WAIT)) as server:
        outcome = perform(mode, server, save_download(tmp_path, timeout_ms=int(WAIT * 1000)))
    within(outcome, DEADLINE + WAIT)
    outcome.raised(APITimeoutError)
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "a file or a .part file was left behind"


@both
def test_retries_never_pass_the_deadline(mode: str) -> None:
    """Deadline: with retries on, a 503 then dripping answers still end with APITimeoutError by deadline + grace."""
    unavailable = json_response(503, envelope("unavailable", "try again"))
    with HostileServer(sequence(unavailable, drip(DRIP_HEAD, longer(DEADLINE)))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=3)
    within(outcome, DEADLINE)
    outcome.raised(APITimeoutError)
    assert server.count >= 2, "the 503 was not retried"


@both
def test_retries_with_real_backoff_stop_at_the_deadline(mode: str) -> None:
    """Deadline: many retries of slow 503s, with real backoff sleeps, end by deadline + grace."""
    unavailable = json_response(503, envelope("unavailable", "try again"), {"Retry-After": "0"})
    with HostileServer(delayed(0.15, unavailable)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=50, nosleep=False, deadline=1.0)
    within(outcome, 1.0)
    assert outcome.error is not None, f"the call returned {outcome.value!r}"
    assert server.count >= 2, "the 503 was not retried"


@both
@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_past_the_deadline_is_not_waited_for(mode: str, status: int) -> None:
    """Deadline: a Retry-After of 30 s, with retries on and real sleeps, is not waited for: the error comes at once."""
    answer = json_response(status, envelope("rate_limited", "slow down"), {"Retry-After": "30"})
    with HostileServer(send(answer, keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, nosleep=False)
    within(outcome, DEADLINE)
    outcome.raised(APIStatusError)
    assert server.count == 1


@both
def test_a_brought_http_client_still_ends_a_dripping_body_by_the_deadline(mode: str) -> None:
    """Deadline: with http_client= brought, a dripping JSON body still ends with APITimeoutError by deadline + grace."""
    with HostileServer(drip(DRIP_HEAD, longer(DEADLINE))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, brought=True)
    within(outcome, DEADLINE)
    outcome.raised(APITimeoutError)
