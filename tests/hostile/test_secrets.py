"""Secrets: a server that echoes the key and the credentials token back never makes the SDK show them.

The servers here reflect the request's Authorization and X-Credentials-Token values into the status
line, headers, the Error envelope, JSON bodies, Content-Disposition and HTML pages. No exception
(str, repr, args, its causes and contexts, its formatted traceback) and no record of the
`cxpa_sdk` logger at DEBUG, and so at INFO (a retried 5xx is told at INFO with its message), may
hold them; neither may the repr of `client.raw` or of a half-built client.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from hostile.hostile_server import (
    ANSWERED_DEADLINE,
    CALLS,
    KEY,
    SENTINEL,
    HostileServer,
    Outcome,
    Request,
    backend,
    both,
    envelope,
    json_response,
    perform,
    response,
    save_download,
    send,
    texts_of,
)

from cxpa_sdk import AgentClient, APIStatusError, AsyncAgentClient, AsyncCxpa, Cxpa, CxpaError


def echoed(request: Request) -> str:
    """The secrets a request carried, as a server would echo them."""
    return f"{request.headers.get('authorization', '')} {request.headers.get('x-credentials-token', '')}".strip()


def assert_no_secret(outcome: Outcome, caplog: pytest.LogCaptureFixture) -> None:
    """Assert the call failed with a CxpaError, and no text of it nor any cxpa_sdk log record holds a secret."""
    error = outcome.raised(CxpaError)
    for text in texts_of(error):
        assert SENTINEL not in text, f"the error shows a secret: {text}"
    if isinstance(error, APIStatusError):  # the answer it carries, masked too
        assert SENTINEL.encode() not in error.body, f"the error's body shows a secret: {error.body!r}"
        assert SENTINEL not in repr(error.headers), f"the error's headers show a secret: {error.headers}"
    formatter = logging.Formatter("%(message)s %(exc_text)s")
    for record in caplog.records:
        if record.name.startswith("cxpa_sdk"):
            line = formatter.format(record)
            assert SENTINEL not in line, f"a {record.levelname} record of {record.name} shows a secret: {line}"


Echo = Callable[[str, int], bytes]
ECHOES: dict[str, Echo] = {
    "status_reason": lambda secret, ok: response(500, reason=f"key {secret} rejected"),
    "status_reason_of_a_4xx": lambda secret, ok: json_response(401, envelope("unauthorized"), reason=secret),
    "request_id_header": lambda secret, ok: json_response(500, envelope("internal", "boom"), {"X-Request-Id": secret}),
    "request_id_of_a_bad_2xx": lambda secret, ok: json_response(ok, {"runId": 5}, {"X-Request-Id": secret}),
    "retry_after_header": lambda secret, ok: json_response(503, envelope("unavailable"), {"Retry-After": secret}),
    "www_authenticate_header": lambda secret, ok: json_response(
        401, envelope("unauthorized"), {"WWW-Authenticate": f'Bearer realm="{secret}"'}
    ),
    "envelope_message": lambda secret, ok: json_response(401, envelope("unauthorized", f"the key {secret} is wrong")),
    "envelope_run_id": lambda secret, ok: json_response(409, envelope("run_finished", "ended", run_id=secret)),
    "envelope_code": lambda secret, ok: json_response(400, {"error": {"code": secret, "message": "bad"}}),
    "envelope_of_a_5xx": lambda secret, ok: json_response(
        500, envelope("internal", f"could not check {secret}", run_id=secret)
    ),
    "json_field_name_and_value": lambda secret, ok: json_response(ok, {secret: secret, "runId": [secret], "id": 7}),
    "json_value_of_a_wrong_type": lambda secret, ok: json_response(
        ok, {"runId": "run_1", "status": {"is": secret}, "connectionId": [secret], "type": secret, "values": secret}
    ),
    "json_value_too_long": lambda secret, ok: json_response(ok, {"runId": secret * 50, "status": 7}),
    "not_json": lambda secret, ok: response(ok, f"your key is {secret}", {"Content-Type": "text/plain"}),
    "html_error_page": lambda secret, ok: response(
        502,
        f"<html><body><h1>Bad Gateway</h1><pre>Authorization: {secret}</pre></body></html>",
        {"Content-Type": "text/html"},
    ),
    "html_404_page": lambda secret, ok: response(404, f"<p>no page for {secret}</p>", {"Content-Type": "text/html"}),
    "location_header": lambda secret, ok: response(307, headers={"Location": f"http://127.0.0.1:1/{quote(secret)}"}),
    "content_type_header": lambda secret, ok: response(ok, b"{}", {"Content-Type": f"application/{quote(secret)}"}),
    # Protocol errors that may quote the bytes they choke on.
    "header_line_without_colon": lambda secret, ok: f"HTTP/1.1 {ok} OK\r\n{secret}\r\n\r\n".encode(),
    "bad_status_line": lambda secret, ok: f"HTTP/1.1 2x2 {secret}\r\n\r\n".encode(),
    "nul_in_header": lambda secret, ok: f"HTTP/1.1 {ok} OK\r\nX-Echo: {secret}\x00\r\n\r\n".encode(),
    "bad_content_length": lambda secret, ok: f"HTTP/1.1 {ok} OK\r\nContent-Length: {secret}\r\n\r\n".encode(),
    "bad_chunk_size": lambda secret, ok: response(
        ok, f"{secret}\r\n{{}}\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"}
    ),
    "not_http": lambda secret, ok: f"SSH-2.0-{secret}\r\n".encode(),
}
TARGETS = {"trigger_run": 202, "resolve_credential": 200}


@both
@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_an_echoed_secret_never_shows(mode: str, target: str, echo: str, caplog: pytest.LogCaptureFixture) -> None:
    """No secret: a key or token echoed in a status line, header, envelope, body or page is in no error nor log."""
    caplog.set_level(logging.DEBUG, logger="cxpa_sdk")
    call = CALLS[target]
    make = ECHOES[echo]
    with HostileServer(send(lambda request: make(echoed(request), TARGETS[target]))) as server:
        outcome = perform(mode, server, call.action, agent=call.agent, deadline=ANSWERED_DEADLINE)
    assert SENTINEL in echoed(server.requests[0]), "the harness did not see the secret it should echo"
    assert_no_secret(outcome, caplog)


FILE_ECHOES: dict[str, Callable[[str], bytes]] = {
    # Each is a 200 that ends early, so that the download fails after reading its headers.
    "content_disposition_filename": lambda secret: response(
        200,
        b"%PDF",
        {
            "X-Run-Id": "run_1",
            "Content-Length": "100",
            "Content-Disposition": f"attachment; filename=\"{secret}.pdf\"; filename*=UTF-8''{quote(secret)}.pdf",
        },
    ),
    "run_id_header": lambda secret: response(
        200, b"%PDF", {"X-Run-Id": secret, "Content-Length": "100", "Content-Disposition": 'attachment; filename="a"'}
    ),
    "bad_content_length": lambda secret: response(
        200, b"%PDF", {"X-Run-Id": "run_1", "Content-Length": f"1{secret}"}, length=False
    ),
    "run_failed_envelope": lambda secret: json_response(502, envelope("run_failed", f"died: {secret}", run_id=secret)),
}


@both
@pytest.mark.parametrize("echo", sorted(FILE_ECHOES))
def test_an_echoed_secret_in_a_download_never_shows(
    mode: str, echo: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No secret: a key echoed in Content-Disposition, X-Run-Id or a run_failed envelope is in no error nor log."""
    caplog.set_level(logging.DEBUG, logger="cxpa_sdk")
    make = FILE_ECHOES[echo]
    with HostileServer(send(lambda request: make(echoed(request)))) as server:
        outcome = perform(mode, server, save_download(tmp_path), deadline=ANSWERED_DEADLINE)
    assert_no_secret(outcome, caplog)


@both
def test_the_raw_client_never_shows_the_key(mode: str) -> None:
    """No secret: repr and str of `client.raw`, the generated client the README documents, never show the key."""
    cls = Cxpa if mode == "sync" else AsyncCxpa
    client = cls(base_url="http://127.0.0.1:1", ingest_api_key=KEY, **backend(mode))
    try:
        raw = client.raw
        for text in (repr(raw), str(raw), repr(client), repr(vars(client).get("_settings"))):
            assert SENTINEL not in text, f"the client shows its key: {text}"
    finally:
        if mode == "sync":
            client.close()
        else:
            import asyncio  # noqa: PLC0415 - only the async variant needs a loop to close its pool

            asyncio.run(client.aclose())


@both
def test_a_half_built_client_has_a_repr(mode: str) -> None:
    """No secret: repr of a client whose constructor never ran (or raised) is a string, not an exception."""
    classes = (Cxpa, AgentClient) if mode == "sync" else (AsyncCxpa, AsyncAgentClient)
    for cls in classes:
        half = cls.__new__(cls)
        try:
            text = repr(half)
        except Exception as exc:  # the promise broken: report which class
            raise AssertionError(f"repr of a half-built {cls.__name__} raised {exc!r}") from exc
        assert isinstance(text, str)
        assert cls.__name__ in text, f"repr of a half-built {cls.__name__} is {text!r}"


BAD_SETTINGS = {
    "bad_url": {"base_url": "ftp://127.0.0.1/x"},
    "key_with_newline": {"ingest_api_key": KEY + "\n"},
    "key_with_space": {"ingest_api_key": " " + KEY},
    "plain_http_elsewhere": {"base_url": "http://203.0.113.1"},
    "bad_deadline": {"deadline": -1},
}


@both
@pytest.mark.parametrize("setting", sorted(BAD_SETTINGS))
def test_a_refused_setting_never_shows_the_key(mode: str, setting: str) -> None:
    """No secret: a constructor refusing a bad URL, key or option raises a CxpaError that never shows the key."""
    cls = Cxpa if mode == "sync" else AsyncCxpa
    options = {"base_url": "http://127.0.0.1:1", "ingest_api_key": KEY, **backend(mode), **BAD_SETTINGS[setting]}
    with pytest.raises(CxpaError) as caught:
        cls(**options)
    for text in texts_of(caught.value):
        assert SENTINEL not in text, f"the error shows the key: {text}"


@both
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_never_takes_the_key_elsewhere(mode: str, status: int) -> None:
    """No secret: a redirect to another server is not followed; that server never receives a request or the key."""
    with HostileServer(send(lambda request: response(200, "{}"))) as elsewhere:
        target = f"{elsewhere.base_url}/api/agents/1/runs/trigger"
        with HostileServer(send(response(status, headers={"Location": target}))) as server:
            outcome = perform(mode, server, CALLS["trigger_run"].action, max_retries=2)
    outcome.raised(CxpaError)
    assert elsewhere.count == 0, f"the redirect was followed: {elsewhere.header('authorization')}"
