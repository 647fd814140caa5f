"""The built-in agents of the local platform and the credential connection they can resolve.

| id | name       | kind                    | what it does                                                 |
|----|------------|-------------------------|--------------------------------------------------------------|
| 1  | echo       | platform, json          | completes with its input as output                           |
| 2  | slow       | platform, json          | runs `input.seconds` (default 1), honouring cancel           |
| 3  | fail       | platform, json          | fails with an error that has name, message and stack         |
| 4  | report     | platform, file_download | streams `input.sizeBytes` (default 1 MiB) as `report.pdf`    |
| 5  | standalone | standalone, json        | no runtime: report its runs with ingest                      |
| 6  | approval   | platform, json          | waits on token `tok_<runId>`; completes once it is resumed   |

`report` takes `input.chunkBytes` (default 64 KiB), `input.filename`, and `input.unknownLength: true`
(no Content-Length); its bytes are `report_bytes(size)`. `fail` takes `input.message`. `approval`
completes with `{"approved": true, ...}` merged with the output given to `LocalPlatform.resume`.

Credential connection `conn_demo` (type `api_key`) resolves to `{"apiKey": "cxpa-demo-secret"}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx2

from .._runtime._agent import AgentClient
from ._runs import Agent
from ._runtime import RuntimeCall, RuntimeFile

# One assignment each, so that the docs' static analysis (griffe) finds each name and its docstring.
ECHO = 1
"""The id of the built-in agent `echo`: completes with its input as output."""
SLOW = 2
"""The id of the built-in agent `slow`: runs `input.seconds` (default 1), honouring cancel."""
FAIL = 3
"""The id of the built-in agent `fail`: fails with an error that has name, message and stack."""
REPORT = 4
"""The id of the built-in agent `report`: streams `input.sizeBytes` (default 1 MiB) as `report.pdf`."""
STANDALONE = 5
"""The id of the built-in agent `standalone`: no runtime; report its runs with ingest."""
APPROVAL = 6
"""The id of the built-in agent `approval`: waits on token `tok_<runId>`; completes once it is resumed."""
DEMO_CONNECTION = ("conn_demo", "api_key", {"apiKey": "cxpa-demo-secret"})
DEFAULT_REPORT_BYTES = 1 << 20
DEFAULT_CHUNK_BYTES = 64 << 10
_BLOCK = 1 << 16


@cache
def _block() -> bytes:
    return random.Random(20261128).randbytes(_BLOCK)  # noqa: S311 - deterministic test data, not security


def report_bytes(size: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[bytes]:
    """The deterministic bytes the `report` agent streams: `size` bytes in chunks of `chunk_bytes`."""
    block = _block()
    doubled = block + block
    sent = 0
    while sent < size:
        length = min(chunk_bytes, size - sent)
        start = sent % _BLOCK
        if length <= _BLOCK:
            yield doubled[start : start + length]
        else:
            yield (doubled[start:] + block * (length // _BLOCK))[:length]
        sent += length


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"input.{key}: must be a number >= 0")
    return float(value)


def builtin_agents(http: Callable[[], httpx2.Client]) -> list[Agent]:
    """The six built-in agents; their runtimes call back through AgentClient over the shared client `http()`."""

    def reporter(call: RuntimeCall) -> AgentClient:
        return AgentClient.from_payload(call.payload, base_url=call.base_url, http_client=http())

    def echo(call: RuntimeCall) -> None:
        agent = reporter(call)
        agent.started()
        agent.complete(call.input)

    def slow(call: RuntimeCall) -> None:
        agent = reporter(call)
        agent.started()
        seconds = _number(call.input, "seconds", 1)
        if not call.cancelled.wait(seconds):
            agent.complete({"slept": seconds})

    def fail(call: RuntimeCall) -> None:
        agent = reporter(call)
        agent.started()
        try:
            raise RuntimeError(str(call.input.get("message", "the fail agent always fails")))  # noqa: TRY301 - the runtime under test fails on purpose
        except RuntimeError as exc:  # raised and caught so that the error carries a real traceback
            agent.fail(exc)

    def report(call: RuntimeCall) -> RuntimeFile:
        reporter(call).started()
        size = int(_number(call.input, "sizeBytes", DEFAULT_REPORT_BYTES))
        chunk = max(1, int(_number(call.input, "chunkBytes", DEFAULT_CHUNK_BYTES)))
        known = not call.input.get("unknownLength", False)
        filename = str(call.input.get("filename", "report.pdf"))
        return RuntimeFile(report_bytes(size, chunk), filename, "application/pdf", size if known else None)

    def approval(call: RuntimeCall) -> None:
        agent = reporter(call)
        agent.started()
        agent.waiting(f"tok_{call.run_id}", str(call.input.get("description", "Waiting for approval")))
        resumed = call.wait_for_resume(timeout=300)
        if resumed is not None:
            agent.started()
            agent.complete({"approved": True, **resumed})

    runtimes: list[tuple[int, str, Callable[[RuntimeCall], Any] | None, str, str]] = [
        (ECHO, "echo", echo, "platform", "json"),
        (SLOW, "slow", slow, "platform", "json"),
        (FAIL, "fail", fail, "platform", "json"),
        (REPORT, "report", report, "platform", "file_download"),
        (STANDALONE, "standalone", None, "standalone", "json"),
        (APPROVAL, "approval", approval, "platform", "json"),
    ]
    return [
        Agent(id=i, name=name, managed_by=managed_by, output_kind=kind, runtime=runtime)
        for i, name, runtime, managed_by, kind in runtimes
    ]
