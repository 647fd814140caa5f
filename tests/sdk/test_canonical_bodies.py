"""Equal JSON is the same body: the SDK sends canonical JSON, and a rebuilt input replays under its key.

Issue 23, defect 9: `trigger_run(1, {"a": 1, "b": 2}, idempotency_key="k")`, then the same dict built
in the other order with the same key, was 422 (key reused with another body).
"""

import asyncio
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sdk_support import MODES, Api, served

from cxpa_sdk import AsyncCxpa, Cxpa
from cxpa_sdk._config import encode_body
from cxpa_sdk.testing import ECHO, LocalPlatform

FIRST = {"a": 1, "b": {"x": [1, {"p": None, "o": True}], "y": "é"}}
REBUILT = {"b": {"y": "é", "x": [1, {"o": True, "p": None}]}, "a": 1}  # the same JSON, every object in another order
CANONICAL = '{"input":{"a":1,"b":{"x":[1,{"o":true,"p":null}],"y":"é"}}}'.encode()


class Recorder(BaseHTTPRequestHandler):
    """Records each request body as it arrived; answers a trigger with 202."""

    protocol_version = "HTTP/1.1"
    bodies: list[bytes]

    def do_POST(self) -> None:
        """Record the body, then answer as the platform would."""
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        answer = b'{"runId": "run_1", "status": "queued"}'
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[bytes]]]:
    """The recording server's base URL and the bodies it received."""
    bodies: list[bytes] = []
    with served(type("Handler", (Recorder,), {"bodies": bodies})) as base_url:
        yield base_url, bodies


def _trigger_both(mode: str, base_url: str) -> None:
    """Trigger with FIRST, then with REBUILT, through the client of `mode`."""
    if mode == "sync":
        with Cxpa(base_url=base_url, ingest_api_key="k") as client:
            for value in (FIRST, REBUILT):
                client.trigger_run(1, value, idempotency_key="k")
        return

    async def flow() -> None:
        backend = "aiohttp" if mode == "async-aiohttp" else "httpx2"
        async with AsyncCxpa(base_url=base_url, ingest_api_key="k", http_backend=backend) as client:
            for value in (FIRST, REBUILT):
                await client.trigger_run(1, value, idempotency_key="k")

    asyncio.run(flow())


@pytest.mark.parametrize("mode", MODES)
def test_equal_json_goes_on_the_wire_as_the_same_bytes(recorder: tuple[str, list[bytes]], mode: str) -> None:
    """Every client, aiohttp backend included, sends equal JSON as one canonical body: sorted keys, compact, UTF-8."""
    base_url, bodies = recorder
    _trigger_both(mode, base_url)
    assert bodies == [CANONICAL, CANONICAL]


@pytest.fixture(params=MODES)
def api(request: pytest.FixtureRequest, cxpa_platform: LocalPlatform) -> Iterator[Api]:
    """The same calls through Cxpa, AsyncCxpa, and AsyncCxpa on the aiohttp backend."""
    made = Api(request.param, cxpa_platform, [])
    yield made
    made.close()


def test_a_rebuilt_input_replays_under_its_key(api: Api, cxpa_platform: LocalPlatform) -> None:
    """The same input in another key order, with the same key, is the first run replayed: no 422, no second run."""
    key = f"rebuilt-{api.mode}"
    before = len(cxpa_platform.runs(ECHO))
    first = api.trigger_run(ECHO, FIRST, idempotency_key=key)
    again = api.trigger_run(ECHO, REBUILT, idempotency_key=key)
    assert again.run_id == first.run_id
    assert (first.replayed, again.replayed) == (False, True)
    assert len(cxpa_platform.runs(ECHO)) == before + 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _reordered(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


@given(st.dictionaries(st.text(max_size=8), JSON, max_size=6))
def test_the_body_depends_on_the_json_value_only(value: dict[str, Any]) -> None:
    """Any object in any key order encodes to the one canonical text (sorted, compact, UTF-8), which reads back."""
    body = encode_body({"input": value})
    assert encode_body({"input": _reordered(value)}) == body
    assert body == json.dumps({"input": value}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(body) == {"input": value}


def test_keys_that_are_not_all_strings_still_encode() -> None:
    """A mapping that mixes str and int keys (JSON makes them strings) encodes, sorted, as its str-keyed twin."""
    assert encode_body({"input": {1: "a", "b": 2, "c": {True: 1, "x": None}}}) == encode_body(
        {"input": {"1": "a", "b": 2, "c": {"true": 1, "x": None}}}
    )
