"""Argument fuzzing: every public call either succeeds or raises a CxpaError, and nothing unsafe is sent."""

import asyncio
import contextlib
import inspect
import json
from typing import Any

import httpx2
from hypothesis import given
from hypothesis import strategies as st

from cxpa_sdk import AgentClient, AsyncCxpa, Cxpa, CxpaError

HOSTILE_IDS = st.sampled_from(
    [
        "../x",
        "%2e%2e",
        "a/b",
        "..",
        ".",
        "a\r\nX-Injected: 1",
        "a\x00b",
        "",
        " ",
        "?q=1",
        "#frag",
        "run_ok",
        "ü/ß",
        "a" * 300,
    ]
)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=50),
    HOSTILE_IDS,
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just({"x": {1, 2}}),
    st.just(object()),
)
INPUTS = st.one_of(
    ANYTHING,
    st.dictionaries(
        st.text(max_size=10),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=10,
        ),
        max_size=5,
    ),
)
CALLS = {
    "trigger_run": st.tuples(ANYTHING, INPUTS),
    "trigger_run_and_wait": st.tuples(ANYTHING, INPUTS),
    "get_run": st.tuples(ANYTHING, ANYTHING),
    "cancel_run": st.tuples(ANYTHING, ANYTHING),
    "register_run": st.tuples(ANYTHING, ANYTHING),
    "ingest_run": st.tuples(ANYTHING, ANYTHING, ANYTHING),
    "wait_for_run": st.tuples(ANYTHING, ANYTHING),
}
KWARGS = st.dictionaries(st.sampled_from(["idempotency_key", "timeout_ms", "timeout", "outputs"]), ANYTHING, max_size=2)


def answer_for(request: httpx2.Request) -> httpx2.Response:
    """A valid answer for whichever operation was asked, so only the arguments are under test."""
    path = request.url.path
    row = {
        "id": "run_1",
        "agent_id": 1,
        "status": "completed",
        "input_data": {},
        "output_data": None,
        "outputs": None,
        "error": None,
        "external_run_id": None,
        "waiting": None,
        "created_at": "2026-11-28T10:00:00+00:00",
        "started_at": None,
        "finished_at": None,
    }
    if path.endswith("/runs/trigger"):
        return httpx2.Response(202, json={"runId": "run_1", "status": "queued"})
    if path.endswith("/register"):
        return httpx2.Response(201, json={"runId": "run_1", "credentialsToken": "t", "expiresInSeconds": 1})
    if path.endswith("/ingest"):
        return httpx2.Response(200, json={"runId": "run_1", "status": "running"})
    if path.endswith("/callback"):
        return httpx2.Response(200, json={"runId": "run_1", "status": "running"})
    return httpx2.Response(200, json=row)


def check_sent(sent: list[httpx2.Request]) -> None:
    """Nothing unsafe reached the wire: no header carries CR, LF or NUL; no id escaped its path segment."""
    for request in sent:
        for name, value in request.headers.raw:
            assert not any(c in value for c in (b"\r", b"\n", b"\0")), name
        segments = request.url.raw_path.split(b"?")[0].split(b"/")
        assert b".." not in segments
        assert b"." not in segments
        assert segments[:3] in ([b"", b"api", b"agents"], [b"", b"api", b"runs"], [b"", b"api", b"credentials"])


def recording() -> tuple[httpx2.MockTransport, list[httpx2.Request]]:
    """A transport answering validly and recording every request."""
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return answer_for(request)

    return httpx2.MockTransport(handler), sent


@given(st.sampled_from(sorted(CALLS)), st.data(), KWARGS)
def test_sync_calls_succeed_or_raise_cxpa_errors(method: str, data: st.DataObject, kwargs: dict[str, Any]) -> None:
    """Any arguments: a result or a CxpaError, never another exception; what is sent is safe."""
    args = data.draw(CALLS[method])
    transport, sent = recording()
    with Cxpa(
        base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=httpx2.Client(transport=transport), max_retries=0
    ) as client:
        signature = inspect.signature(getattr(client, method))
        kwargs = {k: v for k, v in kwargs.items() if k in signature.parameters}
        with contextlib.suppress(CxpaError):
            getattr(client, method)(*args, **kwargs)
    check_sent(sent)


@given(st.sampled_from(sorted(CALLS)), st.data())
def test_async_calls_succeed_or_raise_cxpa_errors(method: str, data: st.DataObject) -> None:
    """The async client behaves the same under the same arguments."""
    args = data.draw(CALLS[method])
    transport, sent = recording()

    async def call() -> None:
        async with AsyncCxpa(
            base_url="http://127.0.0.1:1",
            ingest_api_key="k",
            http_client=httpx2.AsyncClient(transport=transport),
            max_retries=0,
        ) as client:
            with contextlib.suppress(CxpaError):
                await getattr(client, method)(*args)

    asyncio.run(call())
    check_sent(sent)


@given(
    st.sampled_from(["output", "complete", "fail", "waiting", "resolve_credential"]),
    st.lists(ANYTHING, min_size=3, max_size=3),
    HOSTILE_IDS,
)
def test_agent_client_calls_succeed_or_raise_cxpa_errors(method: str, args: list[Any], run_id: str) -> None:
    """The agent client too: any arguments and any run id give a result or a CxpaError."""
    transport, sent = recording()
    try:
        agent = AgentClient(
            base_url="http://127.0.0.1:1",
            api_key="k",
            run_id=run_id,
            credentials_token="t",
            http_client=httpx2.Client(transport=transport),
            max_retries=0,
        )
    except CxpaError:
        return
    with contextlib.suppress(CxpaError):
        getattr(agent, method)(*args[: {"waiting": 3, "fail": 1, "resolve_credential": 1}.get(method, 2)])
    check_sent(sent)
    for request in sent:
        if request.content:
            json.loads(request.content)  # every body sent is JSON
