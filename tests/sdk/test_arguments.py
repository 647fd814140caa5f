"""Bad arguments raise typed, named errors before anything is sent."""

import asyncio
import math
from typing import Any

import httpx2
import pytest

from cxpa_sdk import AgentClient, AsyncCxpa, Cxpa, CxpaError, InvalidArgumentError, InvalidArgumentTypeError

BIG = {"blob": "x" * (1 << 20)}

CASES: list[tuple[str, tuple, dict, type, str]] = [
    ("trigger_run", (0, {}), {}, InvalidArgumentError, "agent_id must be a positive integer"),
    ("trigger_run", (-3, {}), {}, InvalidArgumentError, "agent_id must be a positive integer"),
    ("trigger_run", (True, {}), {}, InvalidArgumentTypeError, "agent_id must be an int"),
    ("trigger_run", ("42", {}), {}, InvalidArgumentTypeError, "agent_id must be an int"),
    ("trigger_run", (1, [1, 2]), {}, InvalidArgumentTypeError, "input must be a mapping"),
    ("trigger_run", (1, {"s": {1, 2}}), {}, InvalidArgumentError, "input must be JSON-serialisable"),
    ("trigger_run", (1, {"x": math.nan}), {}, InvalidArgumentError, "input must be JSON-serialisable"),
    ("trigger_run", (1, BIG), {}, InvalidArgumentError, "over the platform's limit"),
    ("trigger_run", (1, {}), {"idempotency_key": "a\r\nX-Evil: 1"}, InvalidArgumentError, "printable ASCII"),
    ("trigger_run", (1, {}), {"idempotency_key": ""}, InvalidArgumentError, "idempotency_key must be 1 to 255"),
    ("trigger_run", (1, {}), {"idempotency_key": "clé"}, InvalidArgumentError, "printable ASCII"),
    ("trigger_run", (1, {}), {"idempotency_key": " key"}, InvalidArgumentError, "leading or trailing spaces"),
    ("trigger_run", (1, {}), {"idempotency_key": "k" * 256}, InvalidArgumentError, "idempotency_key must be 1 to 255"),
    ("trigger_run_and_wait", (1, {}), {"timeout_ms": 0}, InvalidArgumentError, "timeout_ms must be positive"),
    ("trigger_run_and_wait", (1, {}), {"timeout_ms": 1.5}, InvalidArgumentTypeError, "timeout_ms must be an int"),
    ("trigger_run_and_wait", (1, {}), {"timeout_ms": 10**400}, InvalidArgumentError, "timeout_ms must be at most"),
    ("trigger_run_and_download", (4, {}), {"timeout_ms": 10**400}, InvalidArgumentError, "timeout_ms must be at most"),
    ("get_run", (1, ""), {}, InvalidArgumentError, "run_id must not be empty"),
    ("get_run", (1, ".."), {}, InvalidArgumentError, "run_id must not be '..'"),
    ("get_run", (1, "run\x00x"), {}, InvalidArgumentError, "visible ASCII characters only"),
    ("get_run", (1, "run x"), {}, InvalidArgumentError, "visible ASCII characters only"),
    ("get_run", (1, "run\u2028x"), {}, InvalidArgumentError, "visible ASCII characters only"),
    ("get_run", (1, "r" * 129), {}, InvalidArgumentError, "run_id must be at most 128 characters"),
    ("get_run", (1, None), {}, InvalidArgumentTypeError, "run_id must be a str"),
    ("cancel_run", (1, "r" * 129), {}, InvalidArgumentError, "at most 128 characters"),
    ("wait_for_run", (1, "run_1"), {"timeout": -1}, InvalidArgumentError, "timeout must be a positive number"),
    ("wait_for_run", (1, "run_1"), {"timeout": math.inf}, InvalidArgumentError, "timeout must be a positive"),
    ("wait_for_run", (1, "run_1"), {"timeout": 10**400}, InvalidArgumentError, "at most 31622400"),
    ("wait_for_run", (1, "run_1"), {"timeout": math.nan}, InvalidArgumentError, "timeout must be a positive"),
    ("register_run", (1, ""), {}, InvalidArgumentError, "external_run_id must not be empty"),
    ("ingest_run", (5, "e", "done"), {}, InvalidArgumentError, "status must be one of"),
    ("ingest_run", (5, "e", "failed"), {"outputs": -1}, InvalidArgumentError, "outputs must not be negative"),
    ("ingest_run", (5, "e", "failed"), {"error": 42}, InvalidArgumentTypeError, "error must be an exception"),
]


def nothing_sent() -> tuple[httpx2.Client, httpx2.AsyncClient, list[httpx2.Request]]:
    """Httpx clients that record any request (there must be none)."""
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(500)

    transport = httpx2.MockTransport(handler)
    return httpx2.Client(transport=transport), httpx2.AsyncClient(transport=transport), sent


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "error", "message"), CASES, ids=[f"{c[0]}-{c[4][:30]}" for c in CASES]
)
def test_bad_argument_sync_and_async(
    method: str, args: tuple, kwargs: dict[str, Any], error: type, message: str
) -> None:
    """Sync and async raise the same typed error naming the problem, and send nothing."""
    http, ahttp, sent = nothing_sent()
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http) as client:
        with pytest.raises(error, match=message):
            getattr(client, method)(*args, **kwargs)

    async def call_async() -> None:
        async with AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=ahttp) as aclient:
            await getattr(aclient, method)(*args, **kwargs)

    with pytest.raises(error, match=message):
        asyncio.run(call_async())
    assert sent == []
    assert issubclass(error, CxpaError)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"ingest_api_key": "bad\nkey"}, InvalidArgumentError, "characters a header can't carry"),
        ({"ingest_api_key": 123}, InvalidArgumentTypeError, "ingest_api_key must be a str"),
        ({"base_url": "ftp://x"}, InvalidArgumentError, "http:// or https://"),
        ({"base_url": "http://127.0.0.1?x=1"}, InvalidArgumentError, "must not carry a query"),
        ({"max_retries": -1}, InvalidArgumentError, "max_retries must be an int >= 0"),
        ({"deadline": 0}, InvalidArgumentError, "deadline must be a positive number"),
        ({"timeout": httpx2.Timeout(None)}, InvalidArgumentError, "must be finite"),
    ],
    ids=["key-newline", "key-type", "scheme", "query", "retries", "deadline", "infinite-timeout"],
)
def test_bad_client_options(options: dict[str, Any], error: type, message: str) -> None:
    """Bad client options fail at construction, naming the option and never echoing a key."""
    settings = {"base_url": "http://127.0.0.1:1", "ingest_api_key": "k", **options}
    with pytest.raises(error, match=message) as caught:
        Cxpa(**settings)
    assert "bad\nkey" not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("output", ({"x": {1}},), "must be JSON-serialisable"),
        ("waiting", ("", "d"), "token_id must not be empty"),
        ("waiting", ("t", 5), "description must be a str"),
        ("complete", ({}, -1), "outputs must not be negative"),
        ("fail", ("",), "must not be an empty message"),
    ],
    ids=["output-not-json", "empty-token", "description-type", "negative-outputs", "empty-message"],
)
def test_agent_client_arguments(method: str, args: tuple, message: str) -> None:
    """The agent client checks its arguments before sending too."""
    http, _, sent = nothing_sent()
    agent = AgentClient(base_url="http://127.0.0.1:1", api_key="k", run_id="run_1", http_client=http)
    with pytest.raises(CxpaError, match=message):
        getattr(agent, method)(*args)
    assert sent == []


def test_ids_are_percent_encoded_in_paths() -> None:
    """Ids with `/`, `%2e%2e`, `?`, `#` or `%` are encoded as one path segment, never changing the path."""
    http, _, sent = nothing_sent()
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http, max_retries=0) as client:
        for run_id in ("a/b", "../x", "%2e%2e", "a?b#c%d"):
            with pytest.raises(CxpaError):
                client.get_run(1, run_id)
    paths = [r.url.raw_path.decode() for r in sent]
    assert paths == [
        "/api/agents/1/runs/a%2Fb",
        "/api/agents/1/runs/..%2Fx",
        "/api/agents/1/runs/%252e%252e",
        "/api/agents/1/runs/a%3Fb%23c%25d",
    ]
