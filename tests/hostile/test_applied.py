"""The applied flag: every error says whether its request was applied (True), not (False), or unknown (None).

`error.applied` follows what the answer proves; `may_have_been_applied` is `applied is not False`,
and the error's text says "the request was applied", "was not applied" or "may have been applied".
"""

from pathlib import Path

import pytest
from hostile.hostile_server import (
    CALLS,
    FILE_HEADERS,
    HTML_502,
    RETRY_DEADLINE,
    TRIGGERED,
    HostileServer,
    assert_applied,
    both,
    envelope,
    json_response,
    perform,
    refused_url,
    response,
    save_download,
    send,
    sequence,
    shut,
)

from cxpa_sdk import (
    APIConnectionError,
    APIStatusError,
    CxpaError,
    IncompleteDownloadError,
    InvalidResponseError,
    RateLimitError,
)


def close_after_reading(conn, request, stop) -> None:
    """A handler that reads the request and closes without a word."""
    shut(conn)


TRIGGER_ANSWERS = {
    # A 2xx proves the platform took the request, whatever its body says.
    "202_not_json": (response(202, "<html>ok</html>", {"Content-Type": "text/html"}), InvalidResponseError, True),
    "202_without_run_id": (json_response(202, {"status": "queued"}), InvalidResponseError, True),
    "202_wrong_types": (json_response(202, {"runId": 5, "status": ["queued"]}), InvalidResponseError, True),
    "200_undocumented": (json_response(200, {"runId": "run_1", "status": "queued"}), InvalidResponseError, True),
    "204_undocumented": (response(204, length=False), InvalidResponseError, True),
    # A 4xx in the platform's envelope proves it refused.
    "400_envelope": (json_response(400, envelope("invalid_body", "input must be an object")), APIStatusError, False),
    "404_envelope": (json_response(404, envelope("agent_not_found", "no agent 1")), APIStatusError, False),
    "409_envelope": (json_response(409, envelope("not_a_file_agent", "no")), APIStatusError, False),
    "429_envelope": (json_response(429, envelope("rate_limited", "slow down")), RateLimitError, False),
    # A 5xx, or anything without the envelope, proves nothing.
    "500_envelope": (json_response(500, envelope("internal", "boom")), APIStatusError, None),
    "500_empty": (response(500), APIStatusError, None),
    "502_nginx_html": (HTML_502, APIStatusError, None),
    "503_html": (response(503, "<h1>Service Unavailable</h1>", {"Content-Type": "text/html"}), APIStatusError, None),
    "504_html": (response(504, "<h1>Gateway Time-out</h1>", {"Content-Type": "text/html"}), APIStatusError, None),
    "404_html_page": (response(404, "<h1>Not Found</h1>", {"Content-Type": "text/html"}), APIStatusError, None),
    "401_plain_text": (response(401, "Unauthorized", {"Content-Type": "text/plain"}), APIStatusError, None),
    "307_redirect": (response(307, headers={"Location": "/elsewhere"}), APIStatusError, None),
}


@both
@pytest.mark.parametrize("answer", sorted(TRIGGER_ANSWERS))
def test_an_answer_says_whether_the_trigger_was_applied(mode: str, answer: str) -> None:
    """Applied flag: a bad 2xx is applied (True), an enveloped 4xx is not (False), a 5xx or no envelope is None."""
    raw, cls, expected = TRIGGER_ANSWERS[answer]
    with HostileServer(send(raw)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action)
    outcome.raised(cls)
    assert_applied(outcome.error, expected)


@both
def test_a_refused_connection_was_not_applied(mode: str) -> None:
    """Applied flag: connection refused is an APIConnectionError with applied False."""
    outcome = perform(mode, refused_url(), CALLS["trigger_run"].action)
    outcome.raised(APIConnectionError)
    assert_applied(outcome.error, False)


@both
def test_no_answer_after_the_request_is_unknown(mode: str) -> None:
    """Applied flag: a server that reads the request and closes gives an APIConnectionError with applied None."""
    with HostileServer(close_after_reading) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action)
    outcome.raised(APIConnectionError)
    assert_applied(outcome.error, None)
    assert server.count == 1


CUT_202 = response(202, b'{"runId": "ru', {"Content-Type": "application/json", "Content-Length": "36"})


@both
def test_a_2xx_cut_short_was_applied_and_is_retried(mode: str) -> None:
    """Applied flag: a 2xx status line whose body is cut short is applied True, retried with the same key."""
    with HostileServer(send(CUT_202)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, deadline=RETRY_DEADLINE)
    assert_applied(outcome.error, True)
    assert server.count == 3, f"{server.count} requests, expected 3 (the cut answer is retried)"
    keys = server.header("idempotency-key")
    assert keys[0], "the trigger carried no Idempotency-Key"
    assert len(set(keys)) == 1, f"the retries did not all carry one Idempotency-Key: {keys}"


@both
def test_a_2xx_cut_short_then_a_whole_answer_succeeds(mode: str) -> None:
    """Applied flag: after a 2xx cut short, the retry's whole 202 is the call's result."""
    with HostileServer(sequence(CUT_202, TRIGGERED, keep_alive=False)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=1, deadline=RETRY_DEADLINE)
    assert outcome.error is None, f"the retry did not succeed: {outcome.describe()}"
    assert outcome.value.run_id == "run_1"
    assert server.count == 2


@both
def test_an_applied_attempt_makes_the_call_applied(mode: str) -> None:
    """Applied flag: a 2xx cut short then an enveloped 400 on the retry leaves applied True (the first was taken)."""
    second = json_response(400, envelope("invalid_body", "no"))
    with HostileServer(sequence(CUT_202, second, keep_alive=False)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=1, deadline=RETRY_DEADLINE)
    outcome.raised(CxpaError)
    assert_applied(outcome.error, True)


@both
def test_idempotency_in_progress_is_unknown_and_retried(mode: str) -> None:
    """Applied flag: 409 idempotency_in_progress on every attempt is retried, then raised with applied None."""
    busy = json_response(409, envelope("idempotency_in_progress", "the first attempt is still running"))
    with HostileServer(send(busy, keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, deadline=RETRY_DEADLINE)
    outcome.raised(APIStatusError)
    assert_applied(outcome.error, None)
    assert server.count == 3


@both
def test_an_unknown_attempt_keeps_the_call_unknown(mode: str) -> None:
    """Applied flag: a 500 then an enveloped 400 on the retry leaves applied None (the first may have acted)."""
    first = json_response(500, envelope("internal", "boom"))
    second = json_response(400, envelope("invalid_body", "no"))
    with HostileServer(sequence(first, second)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=1, deadline=RETRY_DEADLINE)
    outcome.raised(APIStatusError)
    assert_applied(outcome.error, None)


DOWNLOAD_ANSWERS = {
    "502_run_failed": (json_response(502, envelope("run_failed", "the run failed", "run_1")), True),
    "504_wait_timeout": (json_response(504, envelope("wait_timeout", "no bytes in time", "run_1")), True),
    "502_nginx_html": (HTML_502, None),
    "409_envelope": (json_response(409, envelope("not_a_file_agent", "agent 4 makes JSON")), False),
    "409_download_not_replayable": (json_response(409, envelope("download_not_replayable", "streamed once")), True),
}


@both
@pytest.mark.parametrize("answer", sorted(DOWNLOAD_ANSWERS))
def test_a_download_answer_says_whether_the_run_exists(mode: str, answer: str, tmp_path: Path) -> None:
    """Applied flag: 502 run_failed and 504 wait_timeout in the envelope are applied True; no envelope is None."""
    raw, expected = DOWNLOAD_ANSWERS[answer]
    with HostileServer(send(raw)) as server:
        outcome = perform(mode, server, save_download(tmp_path))
    outcome.raised(APIStatusError)
    assert_applied(outcome.error, expected)
    assert server.count == 1, "an answer about the run itself is never retried"


@both
def test_a_download_cut_short_was_applied(mode: str, tmp_path: Path) -> None:
    """Applied flag: a download whose body ends early is an IncompleteDownloadError with applied True, no file."""
    cut = response(200, b"%PDF-1.7", {**FILE_HEADERS, "Content-Length": "1000"})
    with HostileServer(send(cut)) as server:
        outcome = perform(mode, server, save_download(tmp_path))
    outcome.raised(IncompleteDownloadError)
    assert_applied(outcome.error, True)
    assert list(tmp_path.iterdir()) == []


@both
def test_a_download_without_its_run_id_header_was_applied(mode: str, tmp_path: Path) -> None:
    """Applied flag: a 200 download answer without X-Run-Id is an InvalidResponseError with applied True."""
    headers = {name: value for name, value in FILE_HEADERS.items() if name != "X-Run-Id"}
    with HostileServer(send(response(200, b"%PDF", headers))) as server:
        outcome = perform(mode, server, save_download(tmp_path))
    outcome.raised(InvalidResponseError)
    assert_applied(outcome.error, True)


OTHER_CALLS = {
    "get_run_bad_row": ("get_run", json_response(200, {"id": "run_1"}), InvalidResponseError, True),
    "cancel_run_409": ("cancel_run", json_response(409, envelope("run_finished", "it ended")), APIStatusError, False),
    "register_run_202": ("register_run", json_response(202, {"runId": "run_1"}), InvalidResponseError, True),
    "ingest_run_500_empty": ("ingest_run", response(500), APIStatusError, None),
    "agent_complete_not_json": ("agent_complete", response(200, "ok"), InvalidResponseError, True),
    "resolve_credential_403": (
        "resolve_credential",
        json_response(403, envelope("forbidden", "another agent's run")),
        APIStatusError,
        False,
    ),
    "resolve_credential_404_html": ("resolve_credential", response(404, "<h1>404</h1>"), APIStatusError, None),
}


@both
@pytest.mark.parametrize("case", sorted(OTHER_CALLS))
def test_every_call_says_whether_it_was_applied(mode: str, case: str) -> None:
    """Applied flag: the same rules hold for the other calls and the agent runtime's calls."""
    name, raw, cls, expected = OTHER_CALLS[case]
    call = CALLS[name]
    with HostileServer(send(raw)) as server:
        outcome = perform(mode, server, call.action, agent=call.agent)
    outcome.raised(cls)
    assert_applied(outcome.error, expected)
