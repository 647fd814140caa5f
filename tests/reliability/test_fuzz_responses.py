"""Response fuzzing: whatever a server sends, every operation returns a result or raises a CxpaError."""

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import AgentClient, Cxpa, CxpaError, InvalidResponseError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
ALMOST_VALID = st.fixed_dictionaries(
    {},
    optional={
        "runId": st.one_of(st.text(max_size=10), st.integers()),
        "status": st.sampled_from(["queued", "completed", "paused", "", 7]),
        "id": st.text(max_size=5),
        "agent_id": st.integers(),
        "input_data": JSON,
        "output_data": JSON,
        "outputs": st.one_of(st.none(), st.integers(), st.text(max_size=3)),
        "error": st.one_of(st.none(), st.just({"message": "m"}), JSON),
        "external_run_id": st.one_of(st.none(), st.text(max_size=5)),
        "waiting": st.one_of(st.none(), st.just({"token_id": "t", "description": "d"}), JSON),
        "created_at": st.sampled_from(["2026-11-28T10:00:00Z", "yesterday", "2026-11-28T10:00:00", 5]),
        "started_at": st.one_of(st.none(), st.just("2026-11-28T10:00:00+00:00")),
        "finished_at": st.one_of(st.none(), st.just("2026-13-45T99:00:00Z")),
        "timedOut": st.sampled_from([True, False, "yes"]),
        "credentialsToken": st.text(max_size=5),
        "expiresInSeconds": st.integers(),
        "connectionId": st.text(max_size=5),
        "type": st.text(max_size=5),
        "values": st.one_of(st.dictionaries(st.text(max_size=3), st.text(max_size=3)), JSON),
        "expiresAt": st.one_of(st.none(), st.text(max_size=10)),
        "error_envelope": st.just(True),
    },
)
BODIES = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda v: json.dumps(v).encode()),
    ALMOST_VALID.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda code, msg: json.dumps({"error": {"code": code, "message": msg}}).encode(),
        st.sampled_from(["run_finished", "Bad Code", "idempotency_in_progress", "x"]),
        st.text(max_size=10),
    ),
)
STATUSES = st.sampled_from(
    [200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 409, 413, 418, 422, 429, 500, 502, 503, 504, 599]
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Retry-After": st.sampled_from(["1", "0", "-5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "9999999"]),
        "X-Request-Id": st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=10),
        "Content-Type": st.sampled_from(["application/json", "text/html", "application/octet-stream"]),
        "Content-Disposition": st.sampled_from(
            [
                'attachment; filename="../../etc/passwd"',
                "attachment; filename*=UTF-8''%2e%2e%2fx",
                'attachment; filename="a\\\\b"',
                "attachment; filename*=bogus''%ff%fe",
                "inline",
                "",
                "attachment;;;",
                'attachment; filename="C:\\\\Windows\\\\x.exe"',
                'attachment; filename=""',
            ]
        ),
        "X-Run-Id": st.sampled_from(["run_1", "", "../x"]),
    },
)


def _download(client: Cxpa, folder: Path) -> Path:
    with client.trigger_run_and_download(4, {}) as download:
        return download.save(folder)


OPERATIONS: dict[str, Callable[[Cxpa, Path], Any]] = {
    "trigger_run": lambda c, d: c.trigger_run(1, {}),
    "trigger_run_and_wait": lambda c, d: c.trigger_run_and_wait(1, {}, timeout_ms=1000),
    "register_run": lambda c, d: c.register_run(1, "e"),
    "ingest_run": lambda c, d: c.ingest_run(5, "e", "running"),
    "get_run": lambda c, d: c.get_run(1, "run_1"),
    "cancel_run": lambda c, d: c.cancel_run(1, "run_1"),
    "wait_for_run": lambda c, d: c.wait_for_run(1, "run_1", timeout=0.2),
    "download": _download,
}


@given(st.sampled_from(sorted(OPERATIONS)), STATUSES, HEADERS, BODIES, st.integers(min_value=-3, max_value=3))
def test_any_answer_gives_a_result_or_a_cxpa_error(
    operation: str, status: int, headers: dict[str, str], body: bytes, length_lie: int
) -> None:
    """Bad JSON, wrong types, missing fields, unknown statuses, lying lengths, hostile names: never a crash."""
    sent_headers = dict(headers)
    if length_lie and status == 200:
        sent_headers["Content-Length"] = str(max(0, len(body) + length_lie))

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=sent_headers, stream=httpx2.ByteStream(body))

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with (
        tempfile.TemporaryDirectory() as folder,
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http, max_retries=1, deadline=5) as client,
    ):
        client._sleep = lambda seconds: None
        with contextlib.suppress(CxpaError):  # InvalidResponseError, APIStatusError, IncompleteDownloadError...
            OPERATIONS[operation](client, Path(folder))
        for path in Path(folder).rglob("*"):  # a saved file is always inside the folder, and complete
            assert path.parent == Path(folder)
            assert not path.name.endswith(".part")


@given(STATUSES, HEADERS, BODIES)
def test_agent_client_answers(status: int, headers: dict[str, str], body: bytes) -> None:
    """The agent client's callbacks and resolves: a result or a CxpaError, whatever the answer."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(body))

    agent = AgentClient(
        base_url="http://127.0.0.1:1",
        api_key="k",
        run_id="run_1",
        credentials_token="t",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    for call in (agent.started, lambda: agent.complete({"a": 1}), lambda: agent.resolve_credential("c")):
        with contextlib.suppress(CxpaError):
            call()


def test_huge_json_answer_is_bounded() -> None:
    """A 64 MiB JSON answer is refused after the configured limit, not read whole."""
    served = {"bytes": 0}

    def chunks() -> Any:
        yield b'{"runId": "'
        for _ in range(1024):
            served["bytes"] += 65536
            yield b"a" * 65536
        yield b'", "status": "queued"}'

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(202, stream=_Iter(chunks()))

    client = Cxpa(
        base_url="http://127.0.0.1:1",
        ingest_api_key="k",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
        max_answer_bytes=4 << 20,
    )
    with pytest.raises(InvalidResponseError, match="over 4194304 bytes"):
        client.trigger_run(1, {})
    assert served["bytes"] <= (4 << 20) + 2 * 65536


class _Iter(httpx2.SyncByteStream):
    """A streamed body produced lazily, to see how much of it a client reads."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def __iter__(self) -> Any:
        return iter(self.source)
