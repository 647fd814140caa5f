"""The runtime host (`cxpa_sdk.runtime`) and its floor, a bare Starlette app, each served in a process of its own.

`python -m benchmarks._runtime_child --app echo|bare|hold (--port P | --fd N)` serves one app with
`benchmarks._server.serve` (the benchmark server's uvicorn settings, the ASGI lifespan on), prints
`PORT <n>` once it serves, and stops when its stdin closes or after `--max-seconds`:

- `echo`: a `Runtime()` (signing keys from CXPA_SIGNING_SECRET, the platform's URL from CXPA_API_URL)
  with one JSON agent, `echo`, an async function that returns at once: each delivery it takes is
  verified, answered 202, and worked on in the background (`started`, then `complete`).
- `bare`: a Starlette app whose one route, `POST /agents/echo`, reads the body and answers 202.
- `hold`: a `Runtime()` with one agent, `hold`, an async function that waits (at most HOLD_CAP_S)
  until it is released, then returns. `GET /bench/holding` answers how many runs wait in it and
  how many the agent has in flight; `POST /bench/release` lets every waiting run go on.

`--fd N` serves on a listening socket the parent bound (so that it knows the URL before the child
starts); `runtime_child` runs it for the duration of a `with` block.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks._child import Child, serving_child
from benchmarks._server import Receive, Scope, Send, listening_socket, serve
from cxpa_sdk.runtime import HostedAgent, RunContext, Runtime

APPS = ("echo", "bare", "hold")
ECHO_PATH = "/agents/echo"
BACKEND_VARIABLE = "CXPA_BENCH_HTTP_BACKEND"  # the echo host's `Runtime(http_backend=...)`
HOLD_PATH = "/agents/hold"
HOLDING_PATH = "/bench/holding"
RELEASE_PATH = "/bench/release"
HOLD_CAP_S = 300.0  # a held run not released by then fails (TimeoutError): the child never hangs
DRAIN_S = 2.0  # on shutdown, runs still working get this long
STARTUP_SECONDS = 30.0


def echo_app() -> Any:
    """The runtime host with the `echo` agent: returns at once; its reports on BACKEND_VARIABLE's backend."""
    runtime = Runtime(drain_seconds=DRAIN_S, http_backend=os.environ.get(BACKEND_VARIABLE, "httpx2"))

    @runtime.agent("echo")
    async def echo(run: RunContext) -> dict[str, Any]:
        return {"ok": True}

    return runtime.asgi()


def bare_app() -> Any:
    """The floor: Starlette, one route that reads the body and answers 202."""

    async def take(request: Request) -> Response:
        await request.body()
        return Response(status_code=202)

    return Starlette(routes=[Route(ECHO_PATH, take, methods=["POST"])])


class _Gate:
    """Where held runs wait: `release()` lets every waiting run go on (later runs wait for the next release)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.holding = 0

    def release(self) -> None:
        self.event.set()
        self.event = asyncio.Event()


def hold_app() -> Any:
    """The runtime host with the `hold` agent, and the routes that count and release its runs."""
    runtime = Runtime(drain_seconds=DRAIN_S)
    gate = _Gate()

    @runtime.agent("hold")
    async def hold(run: RunContext) -> dict[str, Any]:
        gate.holding += 1
        try:
            await asyncio.wait_for(gate.event.wait(), HOLD_CAP_S)
        finally:
            gate.holding -= 1
        return {"held": True}

    return _with_gate(runtime.asgi(), hold, gate)


def _with_gate(app: Any, agent: HostedAgent, gate: _Gate) -> Any:
    """`app` with GET HOLDING_PATH and POST RELEASE_PATH in front (the lifespan and the rest go to `app`)."""

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in (HOLDING_PATH, RELEASE_PATH):
            await app(scope, receive, send)
            return
        if path == RELEASE_PATH:
            gate.release()
        body = json.dumps({"holding": gate.holding, "inFlight": agent.in_flight}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return gated


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m benchmarks._runtime_child --app echo|bare|hold (--port P | --fd N)`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", choices=APPS, required=True, help="what to serve")
    parser.add_argument("--port", type=int, default=0, help="the port (0: a free one)")
    parser.add_argument("--fd", type=int, default=None, help="serve on this bound socket instead of a port")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop after this long in any case")
    args = parser.parse_args(argv)
    build = {"echo": echo_app, "bare": bare_app, "hold": hold_app}[args.app]
    sock = socket.socket(fileno=args.fd) if args.fd is not None else listening_socket(args.port)
    asyncio.run(serve(build(), sock, args.max_seconds, lifespan="on"))


@contextlib.contextmanager
def runtime_child(
    app: str, env: Mapping[str, str], sock: socket.socket | None = None, max_seconds: float = 1800.0
) -> Iterator[Child]:
    """Serve `app` in a child process for the block, on `sock` when given (else a free port); yield it.

    `env` is added to this process's environment (CXPA_SIGNING_SECRET, CXPA_API_URL).
    """
    arguments = ["--app", app, "--max-seconds", str(max_seconds)]
    arguments += ["--fd", str(sock.fileno())] if sock is not None else ["--port", "0"]
    with serving_child(
        "benchmarks._runtime_child",
        arguments,
        what=f"the runtime child ({app})",
        startup_s=STARTUP_SECONDS,
        stop_s=DRAIN_S + 8,
        env={**os.environ, **env},
        pass_fds=[sock.fileno()] if sock is not None else [],
    ) as child:
        yield child


if __name__ == "__main__":
    main()
