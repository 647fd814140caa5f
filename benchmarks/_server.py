"""The benchmark server: a minimal ASGI app answering in the spec's shapes, under uvicorn, in its own process.

Routes: POST trigger (202 TriggeredRun at once), POST trigger-and-download (200, the file streamed in
64 KiB chunks) and POST trigger-and-wait (holds the request `input.seconds`, default 0.5, with
`asyncio.sleep`, then 200 with a completed Run row); for runtimes reporting to it, POST a run's
callback (200 CallbackAccepted at once, the event counted by kind) and GET /bench/callbacks (the
counts, JSON); anything else is a 404 error body.

`python -m benchmarks._server --port 0` binds a TCP socket (IPPROTO_TCP, so asyncio sets TCP_NODELAY
on accepted connections), prints `PORT <n>` once uvicorn serves, and stops when its stdin closes or
after `--max-seconds`. `serve_in_process` runs it for the duration of a `with` block. `serve` runs any
ASGI app the same way (the runtime host's rows serve theirs with it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import itertools
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any, Literal
from urllib.parse import parse_qs

import uvicorn

from benchmarks._child import Child, serving_child

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CHUNK_BYTES = 64 << 10
_CHUNK = bytes(range(256)) * (CHUNK_BYTES // 256)
_TRIGGER = re.compile(r"^/api/agents/(\d+)/runs/trigger$")
_DOWNLOAD = re.compile(r"^/api/agents/(\d+)/runs/trigger-and-download$")
_WAIT = re.compile(r"^/api/agents/(\d+)/runs/trigger-and-wait$")
_CALLBACK = re.compile(r"^/api/runs/([^/]+)/callback$")
_CALLBACKS_PATH = "/bench/callbacks"
WAIT_SECONDS = 0.5
_ids = itertools.count(1)
_callbacks: collections.Counter[str] = collections.Counter()  # callback events received, by kind
STARTUP_SECONDS = 15.0


async def _read_body(receive: Receive) -> bytes:
    """The whole request body."""
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _json(send: Send, status: int, data: Any, request_id: str) -> None:
    """Send a JSON answer with an X-Request-Id."""
    body = json.dumps(data, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _download_size(scope: Scope, body: bytes) -> int:
    """The size to stream: `?size=` in the query, else `input.sizeBytes` in the JSON body, else 1 MiB."""
    query = parse_qs(scope.get("query_string", b"").decode())
    if "size" in query:
        return int(query["size"][0])
    try:
        return int(json.loads(body)["input"]["sizeBytes"])
    except (ValueError, KeyError, TypeError):
        return 1 << 20


async def _stream(send: Send, size: int, run_id: str, request_id: str) -> None:
    """Send `size` bytes in 64 KiB chunks with the trigger-and-download headers."""
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(size).encode()),
        (b"content-disposition", b'attachment; filename="bench.bin"'),
        (b"x-run-id", run_id.encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    sent = 0
    while sent < size:
        length = min(CHUNK_BYTES, size - sent)
        sent += length
        chunk = _CHUNK if length == CHUNK_BYTES else _CHUNK[:length]
        await send({"type": "http.response.body", "body": chunk, "more_body": sent < size})
    if size == 0:
        await send({"type": "http.response.body", "body": b""})


def _wait_input(body: bytes) -> tuple[dict[str, Any], float]:
    """The run's input (a JSON object, else {}) and how long to hold: `input.seconds`, else 0.5 s."""
    try:
        run_input = json.loads(body)["input"]
    except (ValueError, KeyError, TypeError):
        return {}, WAIT_SECONDS
    if not isinstance(run_input, dict):
        return {}, WAIT_SECONDS
    seconds = run_input.get("seconds", WAIT_SECONDS)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return run_input, WAIT_SECONDS
    return run_input, max(0.0, float(seconds))


def _rfc3339(moment: datetime.datetime) -> str:
    """A UTC time as RFC 3339 with milliseconds and `Z`, as the platform writes it."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _wait_run(send: Send, agent_id: int, body: bytes, run_id: str, request_id: str) -> None:
    """Hold the request `input.seconds`, then answer 200 with the completed Run row (the spec's `Run`)."""
    run_input, seconds = _wait_input(body)
    started = datetime.datetime.now(datetime.UTC)
    await asyncio.sleep(seconds)
    finished = datetime.datetime.now(datetime.UTC)
    run = {
        "id": run_id,
        "agent_id": agent_id,
        "status": "completed",
        "input_data": run_input,
        "output_data": {"heldSeconds": seconds},
        "outputs": 1,
        "error": None,
        "external_run_id": None,
        "waiting": None,
        "created_at": _rfc3339(started),
        "started_at": _rfc3339(started),
        "finished_at": _rfc3339(finished),
    }
    await _json(send, 200, run, request_id)


def _callback_kind(body: bytes) -> str:
    """The kind of a callback event: `started`, `output`, `complete`, `failed`, `waiting` (else `unknown`)."""
    try:
        event = json.loads(body)
    except ValueError:
        return "unknown"
    if not isinstance(event, dict):
        return "unknown"
    if event.get("complete") is True:
        return "complete"
    if event.get("failed") is True:
        return "failed"
    return str(event.get("type", "unknown"))


async def _callback(send: Send, run_id: str, body: bytes, request_id: str) -> None:
    """Count the event and answer 200 CallbackAccepted with the run's status after it."""
    kind = _callback_kind(body)
    _callbacks[kind] += 1
    status = {"complete": "completed", "failed": "failed", "waiting": "waiting"}.get(kind, "running")
    await _json(send, 200, {"runId": run_id, "status": status}, request_id)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app: trigger, trigger-and-download, trigger-and-wait and callbacks (see the module); else 404."""
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    number = next(_ids)
    request_id = f"req_{number}"
    path, method = scope["path"], scope["method"]
    if method == "POST" and _TRIGGER.match(path):
        await _json(send, 202, {"runId": f"run_{number}", "status": "queued"}, request_id)
    elif method == "POST" and _DOWNLOAD.match(path):
        await _stream(send, _download_size(scope, body), f"run_{number}", request_id)
    elif method == "POST" and (wait := _WAIT.match(path)):
        await _wait_run(send, int(wait.group(1)), body, f"run_{number}", request_id)
    elif method == "POST" and (callback := _CALLBACK.match(path)):
        await _callback(send, callback.group(1), body, request_id)
    elif method == "GET" and path == _CALLBACKS_PATH:
        await _json(send, 200, dict(_callbacks), request_id)
    else:
        error = {"error": {"code": "not_found", "message": f"no route {method} {path}"}}
        await _json(send, 404, error, request_id)


def _watch_stdin(server: uvicorn.Server) -> None:
    """Stop the server when stdin closes (the parent ended or closed the pipe)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdin.buffer.read()
    server.should_exit = True


def listening_socket(port: int) -> socket.socket:
    """A TCP socket bound on 127.0.0.1 (IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def serve(
    asgi: Any, sock: socket.socket, max_seconds: float, lifespan: Literal["auto", "on", "off"] = "off"
) -> None:
    """Serve `asgi` on `sock` under uvicorn until stdin closes or `max_seconds` pass; print `PORT <n>` once serving.

    Every benchmark server runs with these settings (no access log, keep-alive 60 s, backlog 2048).
    """
    config = uvicorn.Config(
        asgi,
        log_level="warning",
        access_log=False,
        lifespan=lifespan,
        timeout_keep_alive=60,
        timeout_graceful_shutdown=1,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    started = time.monotonic()
    while not server.started:
        if task.done() or time.monotonic() - started > STARTUP_SECONDS:
            raise RuntimeError("the benchmark server did not start")
        await asyncio.sleep(0.01)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    threading.Thread(target=_watch_stdin, args=(server,), daemon=True).start()
    asyncio.get_running_loop().call_later(max_seconds, setattr, server, "should_exit", True)
    try:
        await task
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m benchmarks._server --port P [--max-seconds S]`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="the port (0: a free one)")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop after this long in any case")
    args = parser.parse_args(argv)
    asyncio.run(serve(app, listening_socket(args.port), args.max_seconds))


@contextlib.contextmanager
def serve_in_process(max_seconds: float = 1800.0) -> Iterator[str]:
    """Run the server in a child process for the block; yield its base URL. The child is always stopped."""
    with server_child(max_seconds) as child:
        yield child.url


@contextlib.contextmanager
def server_child(max_seconds: float = 1800.0) -> Iterator[Child]:
    """The server in a child process for the block: its URL and pid. The child is always stopped."""
    arguments = ["--port", "0", "--max-seconds", str(max_seconds)]
    with serving_child(
        "benchmarks._server", arguments, what="the benchmark server", startup_s=STARTUP_SECONDS, stop_s=5
    ) as child:
        yield child


if __name__ == "__main__":
    main()
