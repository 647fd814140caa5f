"""Serving a Runtime from the command line (`cxpa runtime serve module:runtime`): find it, bind, serve under uvicorn."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

from .._errors import InvalidArgumentError, InvalidArgumentTypeError
from ._host import Runtime

SOCKET_BACKLOG = 2048  # uvicorn's default


def load_runtime(spec: str) -> Runtime:
    """The Runtime that `module:attribute` names (the module found from the current directory, as uvicorn does).

    Raises:
        InvalidArgumentError: `spec` is not `module:attribute`, the module cannot be found, or it
            has no such attribute.
        InvalidArgumentTypeError: The attribute is not a Runtime.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise InvalidArgumentError(f"expected module:attribute, such as my_agents:runtime, got {spec[:100]!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise  # the module was found, and one of its own imports is missing
        raise InvalidArgumentError(f"no module named {module_name!r} (looked from {os.getcwd()})") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise InvalidArgumentError(f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, Runtime):
        raise InvalidArgumentTypeError(f"{spec} is a {type(found).__name__}, not a cxpa_sdk.runtime.Runtime")
    return found


def serve(runtime: Runtime, host: str, port: int, out: IO[str]) -> None:
    """Serve `runtime` under uvicorn until SIGINT or SIGTERM; print where each agent is served, then `stopped`."""
    import uvicorn  # noqa: PLC0415 - only serving needs uvicorn (the `runtime` extra)

    app = runtime.asgi()  # checks the platform URL before anything is bound
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(SOCKET_BACKLOG)  # before the banner: a delivery sent once it shows waits in the backlog
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        out.write(f"CXPA runtime at http://{shown}:{bound}\n")
        for name in runtime.agents:
            out.write(f"agent {name}: http://{shown}:{bound}/agents/{name}\n")
        out.write("Ctrl-C or SIGTERM stops it.\n")
        out.flush()
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=5)
        with _stop_signals_taken():
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    out.write("stopped\n")
    out.flush()


@contextlib.contextmanager
def _stop_signals_taken() -> Iterator[None]:
    """While serving, SIGINT and SIGTERM only stop the server.

    uvicorn sends the signal it caught again once it has stopped, which would end the process before
    it says `stopped`: a no-op handler takes that second one.
    """
    saved: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            saved[number] = signal.signal(number, _ignore)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def _ignore(number: int, frame: object) -> None:
    """Take a stop signal that uvicorn already acted on."""
