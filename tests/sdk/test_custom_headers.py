"""default_headers= and with_options(extra_headers=): a gateway's, a tenant's and tracing headers on the wire.

A stdlib HTTP server on 127.0.0.1 records each request's headers as they arrived.
"""

import asyncio
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sdk_support import served

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, InvalidArgumentError, __version__

Seen = list[dict[str, str]]


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: Seen

    def do_POST(self) -> None:
        """Record the headers; answer a trigger (202) or a callback (200)."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append({name.lower(): value for name, value in self.headers.items()})
        status, body = (200, {"runId": "run_1", "status": "running"})
        if self.path.endswith("/trigger"):
            status, body = 202, {"runId": "run_1", "status": "queued"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, Seen]]:
    """The recording server's base URL and the headers of the requests it received."""
    seen: Seen = []
    with served(type("Handler", (_Recorder,), {"seen": seen})) as base_url:
        yield base_url, seen


def _trigger(mode: str, base_url: str, extra: dict[str, str] | None = None, **options: Any) -> None:
    """One trigger through Cxpa or AsyncCxpa (with_options(extra_headers=extra) when given)."""
    if mode == "sync":
        with Cxpa(base_url=base_url, ingest_api_key="k-1", **options) as client:
            (client if extra is None else client.with_options(extra_headers=extra)).trigger_run(1, {})
        return

    async def flow() -> None:
        async with AsyncCxpa(base_url=base_url, ingest_api_key="k-1", **options) as client:
            await (client if extra is None else client.with_options(extra_headers=extra)).trigger_run(1, {})

    asyncio.run(flow())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_default_headers_go_on_every_request_beside_the_sdks_own(mode: str, recorder: tuple[str, Seen]) -> None:
    """A gateway's and a tracing header arrive; Authorization, Idempotency-Key and the SDK's User-Agent stay."""
    base_url, seen = recorder
    _trigger(mode, base_url, default_headers={"X-Gateway-Route": "eu-1", "traceparent": "00-abc-def-01"})
    (headers,) = seen
    assert headers["x-gateway-route"] == "eu-1"
    assert headers["traceparent"] == "00-abc-def-01"
    assert headers["authorization"] == "Bearer k-1"
    assert len(headers["idempotency-key"]) == 36
    assert headers["user-agent"].startswith(f"cxpa-sdk-python/{__version__} ")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_extra_headers_of_with_options_go_over_the_default_ones(mode: str, recorder: tuple[str, Seen]) -> None:
    """with_options(extra_headers=) adds headers and replaces a default one of the same name (any case)."""
    base_url, seen = recorder
    _trigger(
        mode, base_url, {"x-tenant": "acme", "X-GATEWAY-ROUTE": "us-2"}, default_headers={"X-Gateway-Route": "eu-1"}
    )
    (headers,) = seen
    assert (headers["x-tenant"], headers["x-gateway-route"]) == ("acme", "us-2")


def test_extra_headers_leave_the_original_client_as_it_was(recorder: tuple[str, Seen]) -> None:
    """The client with_options came from sends only its own default headers."""
    base_url, seen = recorder
    with Cxpa(base_url=base_url, ingest_api_key="k-1", default_headers={"X-Team": "a"}) as client:
        client.with_options(extra_headers={"X-Tenant": "acme"}).trigger_run(1, {})
        client.trigger_run(1, {})
    assert ("x-tenant" in seen[0], "x-tenant" in seen[1]) == (True, False)
    assert seen[1]["x-team"] == "a"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_user_agent_is_appended_to_the_sdks(mode: str, recorder: tuple[str, Seen]) -> None:
    """User-Agent in default_headers extends the SDK's, so the platform still sees which SDK called."""
    base_url, seen = recorder
    _trigger(mode, base_url, default_headers={"user-agent": "my-app/2.1"})
    assert seen[0]["user-agent"].startswith(f"cxpa-sdk-python/{__version__} python/")
    assert seen[0]["user-agent"].endswith(" my-app/2.1")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_agent_clients_send_default_headers(mode: str, recorder: tuple[str, Seen]) -> None:
    """AgentClient and AsyncAgentClient send default_headers on their callbacks."""
    base_url, seen = recorder
    options = {"base_url": base_url, "api_key": "agent-k", "run_id": "run_1", "default_headers": {"X-Trace": "t1"}}
    if mode == "sync":
        with AgentClient(**options) as agent:
            agent.complete({"ok": True})
    else:

        async def flow() -> None:
            async with AsyncAgentClient(**options) as agent:
                await agent.complete({"ok": True})

        asyncio.run(flow())
    assert len(seen) >= 2  # started, then complete
    assert {headers["x-trace"] for headers in seen} == {"t1"}
    assert {headers["authorization"] for headers in seen} == {"Bearer agent-k"}


@pytest.mark.parametrize(
    "name", ["Authorization", "authorization", "IDEMPOTENCY-KEY", "X-Credentials-Token", "Content-Length", "Host"]
)
def test_the_sdks_own_headers_are_refused_by_name(name: str, recorder: tuple[str, Seen]) -> None:
    """Authorization, Idempotency-Key and the like, in any case, are refused naming the header, before a request."""
    base_url, seen = recorder
    with pytest.raises(InvalidArgumentError, match=f"default_headers: '{name}' is set by the SDK"):
        Cxpa(base_url=base_url, ingest_api_key="k", default_headers={name: "v-s3cret"})
    with pytest.raises(InvalidArgumentError, match=f"'{name}' is set by the SDK"):
        AgentClient(base_url=base_url, api_key="k", run_id="run_1", default_headers={name: "v-s3cret"})
    with Cxpa(base_url=base_url, ingest_api_key="k") as client:
        with pytest.raises(InvalidArgumentError, match=f"extra_headers: '{name}' is set by the SDK") as refused:
            client.with_options(extra_headers={name: "v-s3cret"})
        assert "v-s3cret" not in str(refused.value)
    assert seen == []


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"X-Bad\nName": "v"}, "not a valid header name"),
        ({"": "v"}, "not a valid header name"),
        ({"X-Tenant": "v-s3cret\r\nX-Injected: 1"}, "characters a header can't carry"),
        ({"X-Tenant": 7}, "must be a str"),
    ],
)
def test_malformed_headers_are_refused_without_their_values(headers: dict[str, Any], match: str) -> None:
    """A header that could not travel (or could smuggle another) is refused; its value is not shown."""
    with pytest.raises((InvalidArgumentError, TypeError), match=match) as refused:
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", default_headers=headers)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(TypeError, match="mapping"):
        Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", default_headers=[("X-A", "b")])  # type: ignore[arg-type]


def test_header_values_show_in_no_repr() -> None:
    """A tenant token in default_headers shows neither in the client's repr nor in its settings'."""
    with Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", default_headers={"X-Tenant-Token": "t-s3cret"}) as c:
        assert "t-s3cret" not in repr(c)
        assert "t-s3cret" not in repr(c._settings)
