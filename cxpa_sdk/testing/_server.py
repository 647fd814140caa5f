"""Serving an ASGI app under uvicorn on loopback, in a background thread, with a clean, fast stop."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

STARTUP_SECONDS = 30.0  # generous: a loaded 2-core machine starts uvicorn in well under a second


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` until the block exits; yield its base URL (`http://127.0.0.1:<port>`).

    Port 0 picks a free port. The socket is bound before the thread starts, so the URL is valid at
    once; the stop waits for the thread (open connections get at most one second).
    """
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it every
    # answer waits about 40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        http="h11",
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="cxpa-platform", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the local platform did not start: its server thread ended")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local platform did not start within {STARTUP_SECONDS:g} s")
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()
