"""ingest_api_key= as a callable (async for AsyncCxpa too): asked before every attempt, and never shown."""

import asyncio
import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2
import pytest
from sdk_support import served

from cxpa_sdk import AgentClient, AsyncCxpa, Cxpa, CxpaError, InvalidArgumentError
from cxpa_sdk.testing import LocalPlatform


def _keys(*keys: str) -> tuple[list[str], Callable[[], str]]:
    """A callable handing out `keys` in turn (the last one again once they run out), and what it handed out."""
    given: list[str] = []

    def next_key() -> str:
        given.append(keys[min(len(given), len(keys) - 1)])
        return given[-1]

    return given, next_key


@pytest.mark.parametrize("mode", ["sync", "async-sync-callable", "async"])
def test_the_key_is_asked_again_for_every_attempt(mode: str, cxpa_platform: LocalPlatform) -> None:
    """A retried call asks the callable again, and its second attempt carries the new key."""
    agent = cxpa_platform.add_agent(f"rotating-{mode}")
    given, next_key = _keys("key-before-rotation", cxpa_platform.ingest_key)
    with cxpa_platform.faults.fail_next(1, status=503, path="*/runs/register"):
        if mode == "sync":
            with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=next_key) as client:
                client._sleep = lambda _seconds: None
                run_id = client.register_run(agent.id, "ext-rotating").run_id
                assert client.get_run(agent.id, run_id).run_id == run_id
        else:

            async def async_key() -> str:
                await asyncio.sleep(0)
                return next_key()

            async def flow() -> str:
                key = async_key if mode == "async" else next_key
                async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=key) as client:

                    async def no_wait(_seconds: float) -> None:
                        return None

                    client._asleep = no_wait
                    run_id = (await client.register_run(agent.id, "ext-rotating")).run_id
                    assert (await client.get_run(agent.id, run_id)).run_id == run_id
                    return run_id

            run_id = asyncio.run(flow())
    assert given == ["key-before-rotation", cxpa_platform.ingest_key, cxpa_platform.ingest_key]
    assert cxpa_platform.run(run_id)["id"] == run_id


def test_the_raw_client_asks_the_callable_too(cxpa_platform: LocalPlatform) -> None:
    """The generated client on the SDK's pool is authenticated with the callable's current key."""
    given, next_key = _keys(cxpa_platform.ingest_key)
    agent = cxpa_platform.add_agent("rotating-raw")
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=next_key) as client:
        run_id = client.register_run(agent.id, "ext-rotating-raw").run_id
        answer = client.raw.get_httpx_client().get(f"/api/agents/{agent.id}/runs/{run_id}")
    assert answer.status_code == 200
    assert len(given) == 2


class _Echo(BaseHTTPRequestHandler):
    """Answers 400 with the Authorization it received in the error message and the request id (or a 202)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        """Echo the credential back, as a careless gateway would (a 202 when the input asks for one)."""
        sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        echoed = self.headers.get("Authorization", "")
        if sent.get("input") == {"ok": True}:
            body = json.dumps({"runId": "run_1", "status": "queued"}).encode()
            self.send_response(202)
        else:
            body = json.dumps({"error": {"code": "invalid_body", "message": f"bad request from {echoed}"}}).encode()
            self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", f"req-{echoed}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


@pytest.fixture
def echo() -> Iterator[str]:
    """The base URL of a server that echoes the Authorization header into its errors."""
    with served(_Echo) as base_url:
        yield base_url


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_returned_key_is_masked_in_errors_and_repr(mode: str, echo: str) -> None:
    """A key the callable returned, echoed back by a server, shows as *** in the error; never in repr."""
    _, next_key = _keys("rotated-s3cret-key")
    error: Any
    if mode == "sync":
        client: Any = Cxpa(base_url=echo, ingest_api_key=next_key)
        with client, pytest.raises(CxpaError) as caught:
            client.trigger_run(1, {})
        error = caught.value
    else:

        async def key() -> str:
            return next_key()

        async def flow() -> tuple[CxpaError, str]:
            async with AsyncCxpa(base_url=echo, ingest_api_key=key) as client:
                try:
                    await client.trigger_run(1, {})
                except CxpaError as exc:
                    return exc, repr(client)
            raise AssertionError("the echo server answers 400")

        error, shown = asyncio.run(flow())
        assert "rotated-s3cret-key" not in shown
    assert "bad request from Bearer ***" in str(error)
    assert "rotated-s3cret-key" not in f"{error!s} {error!r} {getattr(error, 'request_id', '')}"


def test_a_returned_key_echoed_in_a_request_id_is_masked_in_the_result(echo: str) -> None:
    """A result's request_id (X-Request-Id) shows a key the callable returned as ***, like an error does."""
    _, next_key = _keys("rotated-s3cret-key")
    with Cxpa(base_url=echo, ingest_api_key=next_key) as client:
        triggered = client.trigger_run(1, {"ok": True})
    assert triggered.request_id == "req-Bearer ***"


def test_a_bad_returned_key_is_a_clear_error_before_sending(echo: str) -> None:
    """A callable returning None or a key with a newline is refused before a request is sent; no value shown."""
    with Cxpa(base_url=echo, ingest_api_key=lambda: None) as client, pytest.raises(TypeError, match="returned"):  # type: ignore[arg-type, return-value]
        client.trigger_run(1, {})
    with Cxpa(base_url=echo, ingest_api_key=lambda: "k-s3cret\nX: 1") as client:
        with pytest.raises(InvalidArgumentError, match="the key that ingest_api_key\\(\\) returned") as refused:
            client.trigger_run(1, {})
    assert "k-s3cret" not in str(refused.value)


def test_an_async_callable_is_refused_where_it_cant_be_awaited() -> None:
    """Cxpa can't await an async callable, nor AsyncCxpa with a brought http_client: clear errors at construction."""

    async def key() -> str:
        return "k"

    with pytest.raises(TypeError, match="async callable"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key=key)  # type: ignore[arg-type]

    async def flow() -> None:
        async with httpx2.AsyncClient() as http:
            with pytest.raises(InvalidArgumentError, match="needs the SDK's own pool"):
                AsyncCxpa(base_url="http://127.0.0.1:9", ingest_api_key=key, http_client=http)

    asyncio.run(flow())


def test_the_agent_key_is_a_str_only() -> None:
    """AgentClient refuses a callable api_key, saying that an agent key is minted per run and does not rotate."""
    with pytest.raises(TypeError, match="minted per run"):
        AgentClient(base_url="http://127.0.0.1:9", api_key=lambda: "k", run_id="run_1")  # type: ignore[arg-type]


def test_a_sync_callable_works_with_a_brought_http_client(cxpa_platform: LocalPlatform) -> None:
    """With http_client=, a sync callable's key is put on each request the SDK builds."""
    given, next_key = _keys(cxpa_platform.ingest_key)
    agent = cxpa_platform.add_agent("rotating-brought")
    with httpx2.Client() as http, Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=next_key, http_client=http) as c:
        c.register_run(agent.id, "ext-rotating-brought")
    assert given == [cxpa_platform.ingest_key]
