"""A hostile platform in front of which the forwarding examples are served: answers cut short, or gone silent.

`served_against(example, base_url)` starts examples/`example` as a child process whose platform is
`base_url` (a `HostileServer`), as `forwarding_support.served_example` does for the local platform.
`cut_answer` is a file answer that ends early, `SilentUpstream` a handler that sends a file's first
bytes, then nothing, and notes when the caller lets its connection go.

Chromium retries a download that failed midway by itself (a fresh request, a few times over); each
retry reaches the platform as a new trigger.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from child_support import START_TIMEOUT_S, child
from forwarding_support import EXAMPLES
from hostile.hostile_server import FILE_HEADERS, KEY, Request, response

CUT_AT = 5_120  # the bytes of the file that arrive before the cut
ANNOUNCED = 3_000_000  # the length a cut answer announces
SILENT_S = 40.0  # how long a SilentUpstream waits for its caller to leave (longer than any bound tested)
POLL_S = 0.05


@contextmanager
def served_against(example: str, base_url: str) -> Iterator[str]:
    """Serve examples/`example` with `base_url` as its platform; its base URL."""
    env = {**os.environ, "CXPA_API_URL": base_url, "CXPA_INGEST_KEY": KEY}
    with child([sys.executable, str(EXAMPLES / example), "--port", "0"], what=example, lines=True, env=env) as server:
        line = server.lines.next(START_TIMEOUT_S, "the address it serves on")
        assert line.startswith("serving on http://127.0.0.1:"), f"{example} printed {line!r}"
        yield line.removeprefix("serving on ").strip()


def cut_answer(framing: str) -> bytes:
    """A file answer cut after CUT_AT bytes: announced as ANNOUNCED bytes (`length`), or `chunked` without its end."""
    body = bytes(range(256)) * (CUT_AT // 256)
    if framing == "length":
        return response(200, b"", {**FILE_HEADERS, "Content-Length": str(ANNOUNCED)}) + body
    head = response(200, b"", {**FILE_HEADERS, "Transfer-Encoding": "chunked"})
    return head + b"%x\r\n%s\r\n" % (len(body), body)


class SilentUpstream:
    """A handler that sends a file's headers and first `first_bytes` bytes, then nothing, for SILENT_S at most.

    It notes when the caller closes the connection (`closed_at`, a `time.monotonic()` value), or
    leaves it None if the caller still held it when the handler gave up or the server stopped. Any
    later request (a browser's retry) gets `cut_answer("length")` at once, so that retries end soon.
    """

    def __init__(self, first_bytes: int = 64 << 10, announced: int = 1 << 20) -> None:
        self.first = response(200, b"", {**FILE_HEADERS, "Content-Length": str(announced)}) + b"%" * first_bytes
        self.closed_at: float | None = None
        self._closed = threading.Event()
        self._answered = threading.Lock()

    def __call__(self, conn: socket.socket, request: Request, stop: threading.Event) -> None:
        """Send the first bytes, then wait (in steps of POLL_S) for the caller to close the connection."""
        if not self._answered.acquire(blocking=False):
            conn.sendall(cut_answer("length"))
            return
        conn.sendall(self.first)
        conn.settimeout(POLL_S)
        end = time.monotonic() + SILENT_S
        while not stop.is_set() and time.monotonic() < end:
            try:
                if not conn.recv(1 << 16):
                    break
            except TimeoutError:
                continue
            except OSError:  # reset by the caller: closed too
                break
        if stop.is_set() or time.monotonic() >= end:
            return
        self.closed_at = time.monotonic()
        self._closed.set()

    def closed_by(self, deadline: float) -> float | None:
        """When the caller closed the connection, waiting for it until `deadline` (`time.monotonic()`); else None."""
        self._closed.wait(max(0.0, deadline - time.monotonic()))
        return self.closed_at
