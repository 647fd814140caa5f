"""What goes on the wire: the SDK's User-Agent, a brought client's own headers, and byte-exact downloads.

A stdlib HTTP server on 127.0.0.1 records each request's headers as they arrived (the local
platform does not expose them) and answers in the spec's shapes.
"""

import asyncio
import gzip
import json
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx2
import pytest
from sdk_support import served

from cxpa_sdk import AsyncCxpa, Cxpa, __version__

FILE = b"%PDF-1.7 report bytes " * 100


class Recorder(BaseHTTPRequestHandler):
    """Records the headers of every request; answers a trigger with 202 and a download with a file."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, str]]

    def do_POST(self) -> None:
        """Record the headers, then answer as the platform would."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append({name.lower(): value for name, value in self.headers.items()})
        if self.path.endswith("/trigger-and-download"):
            self._answer(200, FILE, "application/pdf", {"X-Run-Id": "run_1"})
        else:
            self._answer(202, json.dumps({"runId": "run_1", "status": "queued"}).encode(), "application/json", {})

    def _answer(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": content_type, "Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """The recording server's base URL and the headers of the requests it received."""
    seen: list[dict[str, str]] = []
    with served(type("Handler", (Recorder,), {"seen": seen})) as base_url:
        yield base_url, seen


def _trigger_and_download(mode: str, base_url: str, tmp_path: Path, http: httpx2.Client | None = None) -> bytes:
    """One trigger and one download through the sync or the async client; the saved file's bytes."""
    if mode == "sync":
        with Cxpa(base_url=base_url, ingest_api_key="k", http_client=http) as client:
            client.trigger_run(1, {})
            with client.trigger_run_and_download(4, {}) as download:
                return download.save(tmp_path / "f.pdf").read_bytes()

    async def flow() -> bytes:
        brought = None if http is None else httpx2.AsyncClient(headers=http.headers)
        async with AsyncCxpa(base_url=base_url, ingest_api_key="k", http_client=brought) as client:
            await client.trigger_run(1, {})
            async with client.trigger_run_and_download(4, {}) as download:
                saved = (await download.save(tmp_path / "f.pdf")).read_bytes()
        if brought is not None:
            await brought.aclose()
        return saved

    return asyncio.run(flow())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_sdk_names_itself_and_asks_for_files_byte_exact(
    recorder: tuple[str, list[dict[str, str]]], tmp_path: Path, mode: str
) -> None:
    """Every request carries the SDK's User-Agent; a download asks for any type, not content-encoded."""
    base_url, seen = recorder
    assert _trigger_and_download(mode, base_url, tmp_path) == FILE
    trigger, download = seen
    for headers in (trigger, download):
        assert headers["user-agent"].startswith(f"cxpa-sdk-python/{__version__} python/")
        assert headers["authorization"] == "Bearer k"
    assert trigger["accept"] == "application/json"
    assert (download["accept"], download["accept-encoding"]) == ("*/*", "identity")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_each_call_sends_a_fresh_version_4_uuid_as_its_idempotency_key(
    recorder: tuple[str, list[dict[str, str]]], tmp_path: Path, mode: str
) -> None:
    """The SDK's own Idempotency-Key is a random RFC 9562 version-4 UUID in canonical form, new per call."""
    base_url, seen = recorder
    for _ in range(3):
        _trigger_and_download(mode, base_url, tmp_path)
    keys = [headers["idempotency-key"] for headers in seen]
    parsed = [uuid.UUID(key) for key in keys]
    assert [str(u) for u in parsed] == keys  # canonical: lower-case hex, 8-4-4-4-12
    assert {(u.version, u.variant) for u in parsed} == {(4, uuid.RFC_4122)}
    assert len(set(keys)) == len(keys) == 6


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_brought_clients_headers_are_sent_under_the_sdks_own(
    recorder: tuple[str, list[dict[str, str]]], tmp_path: Path, mode: str
) -> None:
    """`http_client=` headers (tracing, a gateway's) are sent; the SDK's Authorization still wins."""
    base_url, seen = recorder
    with httpx2.Client(headers={"X-Trace-Id": "trace-7", "Authorization": "Bearer not-this"}) as http:
        _trigger_and_download(mode, base_url, tmp_path, http)
    assert [(h["x-trace-id"], h["authorization"]) for h in seen] == [("trace-7", "Bearer k")] * 2


def test_a_brought_clients_event_hooks_and_auth_see_every_sdk_request(
    recorder: tuple[str, list[dict[str, str]]],
) -> None:
    """A brought client's hooks and auth flow run on the SDK's requests; the own pool (no auth flow) authorizes too."""
    base_url, seen = recorder
    hooked: list[str] = []

    class Stamp(httpx2.Auth):
        def auth_flow(self, request: httpx2.Request) -> Iterator[httpx2.Request]:
            request.headers["X-Stamp"] = "stamped"
            yield request

    hooks = {"request": [lambda request: hooked.append(request.url.path)]}
    with (
        httpx2.Client(event_hooks=hooks, auth=Stamp()) as http,
        Cxpa(base_url=base_url, ingest_api_key="k", http_client=http) as client,
    ):
        client.trigger_run(1, {})
    assert hooked == ["/api/agents/1/runs/trigger"]
    assert seen[0]["x-stamp"] == "stamped"
    with Cxpa(base_url=base_url, ingest_api_key="k") as own:
        own.trigger_run(1, {})
    assert "x-stamp" not in seen[1]
    assert seen[1]["authorization"] == "Bearer k"


def test_a_content_encoded_download_is_checked_by_its_bytes_on_the_wire(tmp_path: Path) -> None:
    """A server that gzips anyway: Content-Length counts the encoded bytes, the file gets the decoded ones."""
    encoded = gzip.compress(FILE)

    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"X-Run-Id": "run_9", "Content-Encoding": "gzip", "Content-Length": str(len(encoded))}
        return httpx2.Response(200, stream=httpx2.ByteStream(encoded), headers=headers)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http) as client:
        with client.trigger_run_and_download(4, {}) as download:
            assert download.save(tmp_path / "f.pdf").read_bytes() == FILE
