"""Error types: error statuses without the envelope are typed and retried; nothing but a CxpaError leaves a call.

Whatever bytes come back (bad Retry-After values, lying codings, garbage status lines and headers,
HTTP/2, impossible statuses and framings, closed or reset connections), each call returns a
result or raises a `CxpaError`.
"""

import itertools
import json
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
from hostile.hostile_server import (
    CALLS,
    FILE_HEADERS,
    HTML_502,
    LONG,
    MODES,
    RETRY_DEADLINE,
    TRIGGERED,
    Handler,
    HostileServer,
    Outcome,
    both,
    envelope,
    in_a_row,
    json_response,
    perform,
    reset,
    response,
    save_download,
    send,
    sequence,
    shut,
    success_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from cxpa_sdk import (
    APIStatusError,
    AsyncCxpa,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CxpaError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

TYPED = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: APIStatusError,
    409: ConflictError,
    413: PayloadTooLargeError,
    418: APIStatusError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    500: InternalServerError,
    502: InternalServerError,
    503: InternalServerError,
    504: InternalServerError,
}
TRANSIENT = [408, 429, 500, 502, 503, 504]


def bare(status: int) -> bytes:
    """An error answer as a proxy or a load balancer sends it: a little HTML, no Error envelope."""
    return response(status, f"<html><body><h1>{status}</h1></body></html>", {"Content-Type": "text/html"})


def only_cxpa_errors(outcome: Outcome) -> None:
    """Assert the call gave a result or a CxpaError (with the traceback of anything else)."""
    error = outcome.error
    if error is not None and not isinstance(error, CxpaError):
        shown = "".join(traceback.format_exception(error))
        raise AssertionError(f"a {type(error).__module__}.{type(error).__name__} left the call:\n{shown}")


@both
@pytest.mark.parametrize("status", sorted(TYPED))
def test_an_error_status_without_envelope_is_its_typed_error(mode: str, status: int) -> None:
    """Error type: an error status without the Error envelope raises its status's typed error, code no_envelope."""
    with HostileServer(send(bare(status))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action)
    error = outcome.raised(TYPED[status])
    assert error.status_code == status
    assert error.code == "no_envelope", f"code is {error.code!r}"


@both
@pytest.mark.parametrize("status", TRANSIENT)
def test_a_transient_status_without_envelope_is_retried(mode: str, status: int) -> None:
    """Error type: 408, 429 and 5xx without envelope are retried (3 requests, one Idempotency-Key); a 202 ends it."""
    with HostileServer(sequence(bare(status), bare(status), TRIGGERED)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, deadline=RETRY_DEADLINE)
    assert server.count == 3, f"{server.count} requests, expected 3; the call ended with {outcome.describe()}"
    keys = server.header("idempotency-key")
    assert keys[0], "the trigger carried no Idempotency-Key"
    assert len(set(keys)) == 1, f"the retries did not carry one Idempotency-Key: {keys}"
    assert outcome.error is None, f"the last attempt's 202 did not end the call: {outcome.describe()}"
    assert outcome.value.run_id == "run_1"


@both
def test_a_transient_status_without_envelope_is_raised_when_retries_run_out(mode: str) -> None:
    """Error type: an nginx 502 page on every attempt is retried, then raised as InternalServerError no_envelope."""
    with HostileServer(send(HTML_502, keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, deadline=RETRY_DEADLINE)
    error = outcome.raised(InternalServerError)
    assert (error.status_code, error.code) == (502, "no_envelope")
    assert server.count == 3


@both
def test_an_error_status_keeps_its_page_and_every_header(mode: str) -> None:
    """A proxy's 502 page is the error's body, byte for byte; a repeated header's values are joined in order."""
    page = b"<html><body><h1>502 Bad Gateway</h1> \xff not even UTF-8</body></html>"
    answer = response(502, page, [("Content-Type", "text/html"), ("Via", "1.1 edge-a"), ("via", "1.1 edge-b")])
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=0)
    error = outcome.raised(InternalServerError)
    assert error.body == page
    assert error.headers["via"] == "1.1 edge-a, 1.1 edge-b"
    assert error.headers["content-type"] == "text/html"


@both
def test_a_permanent_status_without_envelope_is_not_retried(mode: str) -> None:
    """Error type: a 404 HTML page is a NotFoundError at once, not retried."""
    with HostileServer(send(bare(404), keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2, deadline=RETRY_DEADLINE)
    outcome.raised(NotFoundError)
    assert server.count == 1


def unavailable(headers: dict[str, str]) -> bytes:
    """A 503 in the envelope with extra headers."""
    return json_response(503, envelope("unavailable", "later"), headers)


OK_JSON = json.dumps({"runId": "run_1", "status": "queued"}).encode()
SETTINGS_FRAME = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
ANSWERS = {
    "retry_after_superscript_two": unavailable({"Retry-After": "²"}),
    "retry_after_year_9999": unavailable({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}),
    "retry_after_5000_digits": unavailable({"Retry-After": "9" * 5000}),
    "retry_after_negative": unavailable({"Retry-After": "-5"}),
    "retry_after_fraction": unavailable({"Retry-After": "0.5e999"}),
    "gzip_that_is_not_gzip": response(202, OK_JSON, {"Content-Encoding": "gzip"}),
    "deflate_that_is_not_deflate": response(202, OK_JSON, {"Content-Encoding": "deflate"}),
    "br_garbage": response(202, b"\x8b\x02\x80garbage\xff\xfe", {"Content-Encoding": "br"}),
    "unknown_coding": response(202, OK_JSON, {"Content-Encoding": "x-hostile"}),
    "zstd_garbage": response(202, b"\x28\xb5\x2f\xfd garbage", {"Content-Encoding": "zstd"}),
    "garbage_status_code": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "not_http_at_all": b"SSH-2.0-OpenSSH_9.6\r\n",
    "binary_noise": bytes(range(256)) * 4,
    "header_without_colon": b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nthis is no header\r\n\r\n{}",
    "nul_in_header": b"HTTP/1.1 202 Accepted\r\nX-Bad: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
    "obsolete_line_folding": b"HTTP/1.1 202 Accepted\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
    "http2_preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SETTINGS_FRAME,
    "http2_settings_frame": SETTINGS_FRAME + b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + bytes(8),
    "status_999": response(999, OK_JSON, reason="Whatever"),
    "status_600": response(600, OK_JSON, reason="Beyond"),
    "status_101_switching": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "content_length_and_chunked": response(
        202, b"2\r\n{}\r\n0\r\n\r\n", {"Content-Length": "5", "Transfer-Encoding": "chunked"}
    ),
    "negative_content_length": response(202, OK_JSON, {"Content-Length": "-1"}),
    "non_numeric_content_length": response(202, OK_JSON, {"Content-Length": "lots"}),
    "two_content_lengths": response(202, OK_JSON, [("Content-Length", "2"), ("Content-Length", str(len(OK_JSON)))]),
    "huge_content_length": response(202, OK_JSON, {"Content-Length": "9" * 40}),
    "bad_chunk_size": response(202, b"zz\r\n{}\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"}),
    "huge_chunk_size": response(202, b"f" * 40 + b"\r\n{}\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"}),
    "chunked_without_end": response(202, b"2\r\n{}\r\n", {"Transfer-Encoding": "chunked"}),
    "unknown_transfer_encoding": response(202, OK_JSON, {"Transfer-Encoding": "hostile"}),
    "extremely_long_header_line": response(202, OK_JSON, {"X-Long": "a" * 300_000}),
    "many_headers": response(202, OK_JSON, [(f"X-H{n}", "v") for n in range(20_000)]),
    "body_longer_than_content_length": response(202, OK_JSON + b"trailing junk", {"Content-Length": "10"}),
    "body_shorter_than_content_length": response(202, OK_JSON, {"Content-Length": "500"}),
    "invalid_utf8_json": response(202, b'{"runId": "\xff\xfe", "status": "queued"}'),
    "deeply_nested_json": response(202, b"[" * 200_000 + b"]" * 200_000),
    "5000_digit_number": response(202, b'{"runId": "run_1", "status": "queued", "n": ' + b"9" * 5000 + b"}"),
    "http_1_0_until_close": b"HTTP/1.0 202 Accepted\r\n\r\n" + OK_JSON,
    "redirect_elsewhere": response(307, b"", {"Location": "http://203.0.113.1/api/agents/1/runs/trigger"}),
    "early_hints_then_end": b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n",
}


def as_download(raw: bytes) -> bytes:
    """The same answer as a trigger-and-download's 200 (status 200 and the file headers), where it is a 202."""
    headers = "".join(f"{name}: {value}\r\n" for name, value in FILE_HEADERS.items()).encode()
    return raw.replace(b"HTTP/1.1 202 Accepted\r\n", b"HTTP/1.1 200 OK\r\n" + headers, 1)


@both
@pytest.mark.parametrize("target", ["trigger_run", "download"])
@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_any_answer_gives_a_result_or_a_cxpa_error(mode: str, target: str, answer: str, tmp_path: Path) -> None:
    """Error type: a hostile answer (headers, codings, framing, statuses, HTTP/2) gives a result or a CxpaError."""
    raw = ANSWERS[answer]
    if target == "download":
        raw, action = as_download(raw), save_download(tmp_path)
    else:
        action = CALLS["trigger_run"].action
    with HostileServer(send(raw)) as server:
        outcome = perform(mode, server, action, max_retries=1, deadline=1.0)
    only_cxpa_errors(outcome)


def close_at_once(conn, request, stop) -> None:
    """Close the connection as soon as it is accepted."""
    shut(conn)


def reset_at_once(conn, request, stop) -> None:
    """Reset the connection as soon as it is accepted."""
    reset(conn)
    conn.close()


def answer_before_reading(conn, request, stop) -> None:
    """Answer before the request has been read, then close (what a broken proxy does)."""
    conn.sendall(TRIGGERED)
    stop.wait(0.2)


def reset_after_reading(conn, request, stop) -> None:
    """Read the request, then reset the connection."""
    reset(conn)
    conn.close()


def half_answer_then_reset(conn, request, stop) -> None:
    """Send half of a 202, then reset the connection."""
    conn.sendall(TRIGGERED[: len(TRIGGERED) // 2])
    stop.wait(0.05)
    reset(conn)
    conn.close()


CONNECTIONS = {
    "close_on_accept": (close_at_once, "nothing"),
    "reset_on_accept": (reset_at_once, "nothing"),
    "answer_before_reading": (answer_before_reading, "nothing"),
    "reset_after_reading": (reset_after_reading, "request"),
    "half_answer_then_reset": (half_answer_then_reset, "request"),
}


@both
@pytest.mark.parametrize("target", ["trigger_run", "download"])
@pytest.mark.parametrize("behaviour", sorted(CONNECTIONS))
def test_a_broken_connection_gives_a_result_or_a_cxpa_error(
    mode: str, target: str, behaviour: str, tmp_path: Path
) -> None:
    """Error type: a server that closes or resets at accept, or answers before reading, gives only CxpaErrors."""
    handler, read = CONNECTIONS[behaviour]
    action = save_download(tmp_path) if target == "download" else CALLS["trigger_run"].action
    with HostileServer(handler, read=read) as server:
        outcome = perform(mode, server, action, max_retries=1, deadline=1.0)
    only_cxpa_errors(outcome)


def keep_then_close() -> Handler:
    """Answer keep-alive, except every second request, whose answer says `Connection: close` and closes."""
    counter = itertools.count(1)

    def handler(conn, request, stop) -> bool:
        if next(counter) % 2:
            conn.sendall(TRIGGERED)
            return True
        conn.sendall(json_response(202, {"runId": "run_1", "status": "queued"}, {"Connection": "close"}))
        return False

    return handler


def silently_closed() -> Handler:
    """Answer keep-alive, then close the idle connection without a word."""
    return send(TRIGGERED)


@both
@pytest.mark.parametrize("handler", [keep_then_close, silently_closed], ids=["connection_close", "silent_close"])
def test_a_closed_keep_alive_connection_is_not_reused(mode: str, handler) -> None:
    """Error type: after `Connection: close`, or a keep-alive connection closed silently, the next calls succeed."""
    with HostileServer(handler()) as server:
        outcome = perform(mode, server, in_a_row(*[{}] * 5), max_retries=2, deadline=RETRY_DEADLINE)
    assert outcome.value == ["run_1"] * 5, f"a call failed: {outcome.describe()}"


def own_answer(request) -> bytes:
    """A trigger's own answer: the run id named after the request's input `n`."""
    return json_response(202, {"runId": f"run_{json.loads(request.body)['input']['n']}", "status": "queued"})


FORGED = json_response(202, {"runId": "run_FORGED", "status": "queued"})


def chunked(answer: bytes) -> bytes:
    """`answer` (a Content-Length answer) sent chunked instead, in two chunks and the terminator."""
    head, body = answer.split(b"\r\n\r\n", 1)
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length"))
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return head + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


# How the first answer of the server ends, and what rides behind it: (first answer, bytes behind, later).
SMUGGLED = {
    "content_length": (own_answer, FORGED, b""),
    "chunked_terminator": (lambda request: chunked(own_answer(request)), FORGED, b""),
    "no_content_204": (lambda request: response(204, b"", length=False), FORGED, b""),
    "empty_503_retried": (lambda request: response(503, b""), FORGED, b""),
    "split_across_reads": (own_answer, FORGED[:20], FORGED[20:]),
    "interim_after_final": (own_answer, b"HTTP/1.1 100 Continue\r\n\r\n" + FORGED, b""),
}


def smuggler(case: str) -> Handler:
    """Answer each trigger with its own run id; the server's first answer has bytes of a forged one behind it."""
    first, behind, later = SMUGGLED[case]
    counter = itertools.count(1)

    def handler(conn, request, stop) -> bool:
        if next(counter) > 1:
            conn.sendall(own_answer(request))
            return True
        conn.sendall(first(request) + behind)
        if later:
            stop.wait(0.05)
            try:
                conn.sendall(later)
            except OSError:  # the client closed the connection instead of reusing it
                return False
        return True

    return handler


@both
@pytest.mark.parametrize("case", list(SMUGGLED))
def test_an_answer_is_never_taken_from_a_previous_exchange(mode: str, case: str) -> None:
    """Error type: bytes past a complete answer never become a later request's answer (its own, or a CxpaError)."""
    with HostileServer(smuggler(case)) as server:
        outcome = perform(mode, server, in_a_row({"n": 1}, {"n": 2}, {"n": 3}), max_retries=1, deadline=5.0)
    only_cxpa_errors(outcome)
    for n, got in enumerate(outcome.value, start=1):
        assert isinstance(got, CxpaError) or got == f"run_{n}", f"call {n} got another's answer: {outcome.value}"
    assert outcome.value[1:] == ["run_2", "run_3"], f"a call after the first failed: {outcome.value}"


@both
def test_an_answer_through_a_proxy_is_never_taken_from_a_previous_exchange(mode: str) -> None:
    """Error type: through an HTTP proxy too, bytes past an answer never become the next request's answer."""
    with HostileServer(smuggler("content_length")) as proxy:
        outcome = perform(mode, "http://127.0.0.1:9", in_a_row({"n": 1}, {"n": 2}, {"n": 3}), proxy=proxy.base_url)
    only_cxpa_errors(outcome)
    assert outcome.value == ["run_1", "run_2", "run_3"], f"a call got another's answer: {outcome.value}"
    assert all(request.target.startswith("http://127.0.0.1:9/") for request in proxy.requests), "not proxied"


STATUS_LINES = st.sampled_from(
    [b"HTTP/1.1 202 Accepted", b"HTTP/1.1 200 OK", b"HTTP/1.0 503 x", b"HTTP/1.1 999 Z", b"HTTP/2 200", b""]
)
HEADER_LINES = st.sampled_from(
    [
        b"Content-Length: 0",
        b"Content-Length: 36",
        b"Content-Length: -1",
        b"Transfer-Encoding: chunked",
        b"Content-Encoding: gzip",
        b"Content-Encoding: br, gzip",
        b"Retry-After: \xc2\xb2",
        b"X-Run-Id: run_1",
        b"Content-Type: application/json",
        b"Connection: close",
        b"no colon",
        b"X-Nul: \x00",
        b"Content-Disposition: attachment; filename*=UTF-8''%ff%2e%2e",
    ]
)
BODIES = st.one_of(st.binary(max_size=64), st.sampled_from([OK_JSON, b"0\r\n\r\n", b"2\r\n{}\r\n0\r\n\r\n", b"{"]))
RAW_ANSWERS = st.one_of(
    st.builds(
        lambda status, headers, body: status + b"\r\n" + b"".join(line + b"\r\n" for line in headers) + b"\r\n" + body,
        STATUS_LINES,
        st.lists(HEADER_LINES, max_size=5),
        BODIES,
    ),
    st.binary(max_size=100),
)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=300 if LONG else 30, deadline=None, database=None, derandomize=not LONG)
@given(raw=RAW_ANSWERS, target=st.sampled_from(["trigger_run", "download"]))
def test_fuzzed_answers_give_a_result_or_a_cxpa_error(mode: str, raw: bytes, target: str) -> None:
    """Error type: random status lines, headers and bodies give a result or a CxpaError."""
    with tempfile.TemporaryDirectory() as folder, HostileServer(send(raw)) as server:
        action = save_download(Path(folder)) if target == "download" else CALLS["trigger_run"].action
        outcome = perform(mode, server, action, max_retries=0, deadline=1.0)
    only_cxpa_errors(outcome)


@both
def test_well_behaved_answers_give_results(mode: str) -> None:
    """Error type (a check of the harness): the valid answers the other tests build on give results."""
    with HostileServer(send(success_for, keep_alive=True)) as server:
        for name, call in CALLS.items():
            outcome = perform(mode, server, call.action, agent=call.agent)
            assert outcome.error is None, f"{name}: {outcome.describe()}"


@both
def test_repeated_answer_headers_read_the_same_on_every_backend(mode: str) -> None:
    """X-Request-Id and Idempotent-Replayed each twice: every backend reads them as one would.

    A repeated X-Request-Id is not one request id: `request_id` is None (on the aiohttp backend too,
    whose own headers would give only the first value), and a doubled `Idempotent-Replayed: true`
    proves no replay (the value is not `true`).
    """
    body = json.dumps({"runId": "run_1", "status": "queued"})
    doubled = [
        ("Content-Type", "application/json"),
        ("X-Request-Id", "req-a"),
        ("X-Request-Id", "req-b"),
        ("Idempotent-Replayed", "true"),
        ("Idempotent-Replayed", "true"),
    ]
    with HostileServer(send(response(202, body, doubled), keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=0)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.run_id == "run_1"
    assert outcome.value.request_id is None
    assert outcome.value.replayed is False


UNFIT_REQUEST_IDS = {
    "repeated": [("X-Request-Id", "req-a"), ("X-Request-Id", "req-b")],
    "two in one": [("X-Request-Id", "req-a, req-b")],
    "huge": [("X-Request-Id", "r" * 201)],
    "control character": [("X-Request-Id", "req-\x1b[2J")],
    "not ASCII": [("X-Request-Id", "req-\u00e9")],
    "empty": [("X-Request-Id", "")],
}


@both
@pytest.mark.parametrize("case", UNFIT_REQUEST_IDS)
def test_an_unfit_request_id_is_no_request_id_and_stays_in_the_headers(mode: str, case: str) -> None:
    """An X-Request-Id that is not one id of 1 to 200 printable ASCII characters: `request_id` is None.

    On an error, str(error) names no request; the header's value as it came (repeated ones joined) is
    still in `error.headers`. A fitting one of exactly 200 characters is kept whole.
    """
    headers = [("Content-Type", "application/json"), *UNFIT_REQUEST_IDS[case]]
    body = json.dumps({"error": {"code": "run_finished", "message": "the run has ended"}})
    with HostileServer(send(response(409, body, headers), keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=0)
    error = outcome.raised(ConflictError)
    assert error.request_id is None
    assert ", request " not in str(error)
    sent = [value for name, value in UNFIT_REQUEST_IDS[case] if name == "X-Request-Id"]
    if case not in ("not ASCII", "control character"):  # the backends read such bytes each their own way
        assert error.headers.get("x-request-id", "") == ", ".join(sent)
    fitting = [("Content-Type", "application/json"), ("X-Request-Id", "r" * 200)]
    with HostileServer(send(response(409, body, fitting), keep_alive=True)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=0)
    assert outcome.raised(ConflictError).request_id == "r" * 200


@both
def test_a_download_answer_with_a_repeated_request_id_has_no_request_id(mode: str) -> None:
    """The download's headers pass the same rule: a repeated X-Request-Id gives `download.request_id` None."""
    headers = [*FILE_HEADERS.items(), ("X-Request-Id", "req-a"), ("X-Request-Id", "req-b")]

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def read() -> tuple[str | None, bytes]:
                async with client.trigger_run_and_download(4, {}) as download:
                    return download.request_id, await download.read()

            return read()
        with client.trigger_run_and_download(4, {}) as download:
            return download.request_id, download.read()

    with HostileServer(send(response(200, b"%PDF-1.7 x", headers))) as server:
        outcome = perform(mode, server, action)
    assert outcome.error is None, outcome.describe()
    assert outcome.value == (None, b"%PDF-1.7 x")
