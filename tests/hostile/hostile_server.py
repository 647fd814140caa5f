"""Hostile HTTP/1.1 servers on raw sockets, and one way to run a call on the sync or the async client.

`HostileServer(handler)` listens on 127.0.0.1 in a background thread. For every connection it reads
a request (head up to CRLFCRLF, then Content-Length bytes), records it, and calls
`handler(conn, request, stop)`, which writes raw bytes with `conn.sendall` and returns True to read
the next request on the same connection (anything else closes it). Handlers must be bounded: they
wait with `stop.wait(...)`, which returns at once at teardown, and stop after a fixed time.

`perform(mode, server, action)` builds a client (`Cxpa`/`AsyncCxpa`, or an agent client), runs
`action(client)` once (awaiting it in async mode), and returns what happened and how long it took.
The call runs in a worker thread joined with a timeout, so a client that hangs fails its test
instead of the whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http
import inspect
import itertools
import json
import os
import socket
import struct
import threading
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, CxpaError, aio, wait_all

KEY = "sk-hostile-SENTINEL-0123456789"
TOKEN = "ctok-hostile-SENTINEL-TOKEN-9876"
SENTINEL = "SENTINEL"  # in both secrets: a text holding it leaked (part of) one
GRACE = 1.0  # the documented grace past a call's deadline
DEADLINE = 0.6  # the client's deadline= in most tests
ANSWERED_DEADLINE = 10.0  # for a server that answers at once: no loaded machine makes the call miss it
WAIT = 0.4  # the wait of waiting calls (timeout_ms=400, timeout=0.4)
RETRY_DEADLINE = 10.0  # for counting retries: no backoff (planned, not slept) would pass it
CALL_CAP = 20.0  # a call still running after this fails its test (the worker thread is abandoned)
LONG = os.environ.get("CXPA_LONG") == "1"  # run the tests that take minutes
long_only = pytest.mark.skipif(not LONG, reason="takes minutes: set CXPA_LONG=1 to run it")
JOIN_S = 3.0
MAX_HEAD = 1 << 20
MAX_REQUESTS_PER_CONNECTION = 5000

MODES = ["sync", "async", "async-aiohttp"]
"""The clients a test runs on: sync, async on httpx2 (the default backend), async on aiohttp."""
both = pytest.mark.parametrize("mode", MODES)
"""Run a test for the sync client and for the async client on each backend (ids `sync`, `async`, `async-aiohttp`)."""
AIOHTTP = {"http_backend": "aiohttp"}


def backend(mode: str) -> dict[str, Any]:
    """The constructor options that choose a mode's HTTP backend (none for the default one)."""
    return AIOHTTP if mode == "async-aiohttp" else {}


def no_brought_backend(mode: str) -> None:
    """Skip, visibly, a case about a brought `http_client=` in the aiohttp mode: such a client has no backend to pick.

    `http_backend="aiohttp"` chooses the SDK's own pool, and the clients refuse it together with
    `http_client=` (tests/sdk/test_aiohttp_backend.py); the async mode already covers a brought client.
    """
    if mode == "async-aiohttp":
        pytest.skip('a brought http_client= has no http_backend: the "async" mode covers it')


@dataclass
class Request:
    """A request as the server received it; header names lower-cased."""

    method: str = ""
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def path(self) -> str:
        """The target without its query."""
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (first value of each)."""
        return {name: values[0] for name, values in parse_qs(urlsplit(self.target).query).items()}


Handler = Callable[[socket.socket, Request, threading.Event], object]


class HostileServer:
    """A threaded TCP server on 127.0.0.1:0 whose every connection is handled by `handler`.

    Args:
        handler: What to do with each request (see the module docstring).
        read: `request` reads the whole request, `head` only its head (the body is left unread),
            `nothing` reads nothing (the handler gets an empty Request).
        rcvbuf: SO_RCVBUF of the accepted sockets (small: the kernel takes in less of an unread body).
        conn_timeout: The timeout of every socket operation of the server.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        read: Literal["request", "head", "nothing"] = "request",
        rcvbuf: int | None = None,
        conn_timeout: float = 5.0,
    ) -> None:
        self.handler = handler
        self.read = read
        self.rcvbuf = rcvbuf
        self.conn_timeout = conn_timeout
        self.stop = threading.Event()
        self.requests: list[Request] = []
        self.connections = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def count(self) -> int:
        """How many requests arrived."""
        with self._lock:
            return len(self.requests)

    @property
    def paths(self) -> list[str]:
        """The path of each request, in order."""
        with self._lock:
            return [request.path for request in self.requests]

    def header(self, name: str) -> list[str | None]:
        """The value of one header in each request, in order (None where absent)."""
        with self._lock:
            return [request.headers.get(name.lower()) for request in self.requests]

    def __enter__(self) -> HostileServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf is not None:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.settimeout(0.5)  # teardown wakes accept() at once by shutting the listener down
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._start(self._accept_loop)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        shut(self._listener)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            shut(conn)
        end = time.monotonic() + JOIN_S
        for thread in list(self._threads):
            thread.join(max(0.0, end - time.monotonic()))
        alive = [thread.name for thread in self._threads if thread.is_alive()]
        if exc_type is None:
            if self.errors:
                raise AssertionError(f"the hostile server's handler failed: {self.errors[0]!r}") from self.errors[0]
            assert not alive, f"server threads still running {JOIN_S} s after teardown: {alive}"

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"hostile-{self.port}")
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(self.conn_timeout)
            with self._lock:
                self._conns.add(conn)
                self.connections += 1
            self._start(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        buffer = bytearray()
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                request = Request() if self.read == "nothing" else self._receive(conn, buffer)
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                if self.handler(conn, request, self.stop) is not True or self.read != "request":
                    break
        except OSError:  # the client went away, or a timeout: the connection ends
            pass
        except Exception as exc:  # a bug in a handler: reported at teardown
            self.errors.append(exc)
        finally:
            with self._lock:
                self._conns.discard(conn)
            shut(conn)

    def _receive(self, conn: socket.socket, buffer: bytearray) -> Request | None:
        """The next request on the connection, or None when the peer closed first."""
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_HEAD or self.stop.is_set():
                return None
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        buffer[:] = rest
        lines = head.decode("latin-1").split("\r\n")
        method, target, *_ = [*lines[0].split(" "), "", ""]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        request = Request(method, target, headers)
        if self.read == "request":
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                buffer += chunk
            request.body = bytes(buffer[:length])
            del buffer[:length]
        return request


def shut(conn: socket.socket) -> None:
    """Shut a socket down both ways and close it (whatever state it is in)."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


def reset(conn: socket.socket) -> None:
    """Make the next close of a socket an RST (SO_LINGER 0)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# Answers -----------------------------------------------------------------------------------------


def response(
    status: int,
    body: bytes | str = b"",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    *,
    reason: str | None = None,
    length: bool = True,
) -> bytes:
    """A raw HTTP/1.1 answer; Content-Length is added unless given, chunked, or `length` is False."""
    data = body.encode() if isinstance(body, str) else body
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    names = {name.lower() for name, _ in pairs}
    if length and not names & {"content-length", "transfer-encoding"}:
        pairs.append(("Content-Length", str(len(data))))
    if reason is None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Whatever"
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in pairs)
    return head.encode() + b"\r\n" + data


def json_response(
    status: int, data: Any, headers: Mapping[str, str] | None = None, *, reason: str | None = None
) -> bytes:
    """A JSON answer."""
    return response(status, json.dumps(data), {"Content-Type": "application/json", **(headers or {})}, reason=reason)


def envelope(code: str, message: str = "refused", run_id: str | None = None) -> dict[str, Any]:
    """The platform's Error envelope."""
    detail: dict[str, Any] = {"code": code, "message": message}
    if run_id is not None:
        detail["runId"] = run_id
    return {"error": detail}


def run_row(status: str = "running", run_id: str = "run_1") -> dict[str, Any]:
    """A Run row exactly as openapi.yaml's Run schema has it."""
    terminal = status in ("completed", "failed", "cancelled")
    return {
        "id": run_id,
        "agent_id": 1,
        "status": status,
        "input_data": {},
        "output_data": {"ok": True} if status == "completed" else None,
        "outputs": None,
        "error": {"message": "it failed"} if status == "failed" else None,
        "external_run_id": None,
        "waiting": None,
        "created_at": "2026-11-28T10:00:00Z",
        "started_at": "2026-11-28T10:00:01Z",
        "finished_at": "2026-11-28T10:00:09Z" if terminal else None,
    }


TRIGGERED = json_response(202, {"runId": "run_1", "status": "queued"})
HTML_502 = response(
    502,
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>",
    {"Content-Type": "text/html", "Server": "nginx"},
)
FILE_HEADERS = {
    "Content-Type": "application/pdf",
    "X-Run-Id": "run_1",
    "Content-Disposition": 'attachment; filename="report.pdf"',
}


_ENDED_EVENT = {
    "cursor": "1",
    "type": "ended",
    "at": "2026-11-28T10:00:31Z",
    "status": "completed",
    "run": run_row("completed"),
}
_GET_ANSWERS = {  # by the path's end; any other GET reads a run
    "/status": json_response(200, {"runId": "run_1", "status": "running"}),
    "/events": json_response(200, {"events": [_ENDED_EVENT], "cursor": "1", "ended": True}),
}
_POST_ANSWERS = {
    "/api/runs/wait": json_response(200, {"ended": [run_row("completed")], "missing": []}),
    "/trigger": TRIGGERED,
    "/trigger-and-wait": json_response(200, run_row("completed")),
    "/trigger-and-download": response(200, b"%PDF-1.7 hostile", FILE_HEADERS),
    "/register": json_response(201, {"runId": "run_1", "credentialsToken": "ctok_x", "expiresInSeconds": 60}),
    "/ingest": json_response(200, {"runId": "run_1", "status": "running"}),
    "/callback": json_response(200, {"runId": "run_1", "status": "completed"}),
    "/cancel": json_response(200, run_row("cancelled")),
}


def success_for(request: Request) -> bytes:
    """A valid success answer to any of the SDK's requests, chosen by its path."""
    path = request.path
    if request.method == "GET" and path.startswith("/api/credentials/"):
        answer = {"connectionId": "conn_1", "type": "api_key", "values": {"token": "v"}, "expiresAt": None}
        return json_response(200, answer)
    answers = _GET_ANSWERS if request.method == "GET" else _POST_ANSWERS
    for end, answer in answers.items():
        if path.endswith(end):
            return answer
    if request.method == "GET":
        return json_response(200, run_row("completed"))
    return json_response(404, envelope("not_found", f"no route {path}"))


def gzipped(data: bytes, layers: int = 1) -> bytes:
    """`data` gzip-compressed `layers` times."""
    for _ in range(layers):
        data = gzip.compress(data)
    return data


def gzip_of_zeros(size: int, block: int = 1 << 20) -> Iterator[bytes]:
    """A gzip stream of `size` zero bytes (a multiple of `block`), in pieces, never holding `size` bytes.

    After a full flush deflate starts afresh, so every block of zeros compresses to the same bytes:
    the stream is a header, that piece `size // block` times, an empty final block and the trailer.
    """
    assert size % block == 0
    zeros = bytes(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    crc = 0
    for _ in range(size // block):
        crc = zlib.crc32(zeros, crc)
        yield piece
    yield deflate.flush() + struct.pack("<II", crc, size & 0xFFFFFFFF)


def gzip_stream(pieces: Iterator[bytes]) -> bytes:
    """The gzip compression of a stream given in pieces."""
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(outer.compress(piece) for piece in pieces) + outer.flush()


# Handlers ----------------------------------------------------------------------------------------


def send(answer: bytes | Callable[[Request], bytes], *, keep_alive: bool = False) -> Handler:
    """A handler that sends one raw answer (or the answer a function makes of the request)."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> bool:
        conn.sendall(answer(request) if callable(answer) else answer)
        return keep_alive

    return handler


def sequence(*steps: bytes | Handler, keep_alive: bool = True) -> Handler:
    """A handler whose n-th request (on any connection) gets the n-th step, the last one repeating.

    A step is a raw answer (sent, then the connection kept if `keep_alive`) or a handler.
    """
    counter = itertools.count()
    lock = threading.Lock()

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> object:
        with lock:
            step = steps[min(next(counter), len(steps) - 1)]
        if callable(step):
            return step(conn, request, stop)
        conn.sendall(step)
        return keep_alive

    return handler


def delayed(seconds: float, answer: bytes, *, keep_alive: bool = True) -> Handler:
    """A handler that waits `seconds`, then sends `answer`."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> bool:
        if stop.wait(seconds):
            return False
        conn.sendall(answer)
        return keep_alive

    return handler


def stall(seconds: float, first: bytes = b"") -> Handler:
    """A handler that sends `first` (maybe nothing), then says nothing more for `seconds`."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        if first:
            conn.sendall(first)
        stop.wait(seconds)

    return handler


def drip(head: bytes, seconds: float, *, every: float = 0.2, piece: bytes = b" ") -> Handler:
    """A handler that sends `head`, then one byte of `piece` every `every` seconds for `seconds`."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(head)
        end = time.monotonic() + seconds
        for byte in itertools.cycle(piece):
            if time.monotonic() >= end or stop.wait(every):
                return
            conn.sendall(bytes([byte]))

    return handler


def drip_head(seconds: float, *, every: float = 0.1) -> Handler:
    """A handler that sends a status line and headers one byte at a time, the headers never ending."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        lines = (f"X-Pad-{n}: {'a' * 8}\r\n".encode() for n in itertools.count())
        stream = itertools.chain(b"HTTP/1.1 202 Accepted\r\n", itertools.chain.from_iterable(lines))
        end = time.monotonic() + seconds
        for byte in stream:
            if time.monotonic() >= end or stop.wait(every):
                return
            conn.sendall(bytes([byte]))

    return handler


def early_hints(seconds: float, *, every: float = 0.1) -> Handler:
    """A handler that answers `103 Early Hints` again and again, never the final answer."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop.wait(every):
            conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")

    return handler


# Running a call ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one call did: its value or its error, how long it took, and its memory peak if measured."""

    value: Any = None
    error: Exception | None = None
    elapsed: float = 0.0
    peak: int | None = None

    def raised(self, cls: type[BaseException]) -> Any:
        """The error, asserted to be a `cls`."""
        assert isinstance(self.error, cls), f"expected {cls.__name__}, got {self.describe()} after {self.elapsed:.2f} s"
        return self.error

    def describe(self) -> str:
        """The outcome in a few words, for assertion messages."""
        if self.error is None:
            return f"a result {self.value!r}"
        return f"{type(self.error).__module__}.{type(self.error).__name__}: {self.error}"


def no_sleep(seconds: float) -> None:
    """A backoff sleep that does not sleep."""


async def no_asleep(seconds: float) -> None:
    """An async backoff sleep that does not sleep."""


def _client(mode: str, base_url: str, *, agent: bool, nosleep: bool, options: dict[str, Any]) -> Any:
    options = {"max_retries": 0, "deadline": DEADLINE, **backend(mode), **options}
    if agent:
        cls: Any = AgentClient if mode == "sync" else AsyncAgentClient
        client = cls(api_key=KEY, run_id="run_1", base_url=base_url, credentials_token=TOKEN, **options)
    else:
        cls = Cxpa if mode == "sync" else AsyncCxpa
        client = cls(base_url=base_url, ingest_api_key=KEY, **options)
    if nosleep and mode == "sync":
        client._sleep = no_sleep
    elif nosleep:
        client._asleep = no_asleep
    return client


@contextlib.contextmanager
def _measured(outcome: Outcome, memory: bool) -> Iterator[None]:
    """Time the block into `outcome.elapsed`, and with `memory` its tracemalloc peak into `outcome.peak`."""
    if memory:
        tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        outcome.elapsed = time.monotonic() - started
        if memory:
            outcome.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


def perform(
    mode: str,
    server: HostileServer | str,
    action: Callable[[Any], Any],
    *,
    agent: bool = False,
    nosleep: bool = True,
    memory: bool = False,
    brought: bool = False,
    cap: float = CALL_CAP,
    **options: Any,
) -> Outcome:
    """Run `action(client)` once on a fresh client of `mode` (one of MODES) bound to `server`.

    The client has max_retries=0 and deadline=DEADLINE unless `options` say otherwise; its backoff
    does not sleep unless `nosleep` is False. `agent` builds an AgentClient (key KEY, token TOKEN)
    instead of a Cxpa (key KEY). `brought` gives the client an httpx client of its own kind with
    `http_client=`. `memory` measures the tracemalloc peak during the action. A call
    still running after `cap` seconds fails the test (its thread is left behind).
    """
    if brought:
        no_brought_backend(mode)
    base_url = server if isinstance(server, str) else server.base_url
    outcome = Outcome()
    crash: list[BaseException] = []

    def sync_work() -> None:
        http = httpx2.Client() if brought else None
        client = _client(mode, base_url, agent=agent, nosleep=nosleep, options={"http_client": http, **options})
        try:
            with _measured(outcome, memory):
                outcome.value = action(client)
        except Exception as exc:
            outcome.error = exc
        finally:
            client.close()
            if http is not None:
                http.close()

    async def async_work() -> None:
        http = httpx2.AsyncClient() if brought else None
        client = _client(mode, base_url, agent=agent, nosleep=nosleep, options={"http_client": http, **options})
        try:
            with _measured(outcome, memory):
                value = action(client)
                outcome.value = await value if inspect.isawaitable(value) else value
        except Exception as exc:
            outcome.error = exc
        finally:
            await client.aclose()
            if http is not None:
                await http.aclose()

    def work() -> None:
        try:
            if mode == "sync":
                sync_work()
            else:
                asyncio.run(async_work())
        except BaseException as exc:  # building or closing the client failed: not the call's outcome
            crash.append(exc)

    worker = threading.Thread(target=work, daemon=True, name=f"call-{mode}")
    worker.start()
    worker.join(cap)
    assert not worker.is_alive(), f"the {mode} call was still running after {cap:g} s"
    if crash:
        raise AssertionError(f"building or closing the {mode} client failed: {crash[0]!r}") from crash[0]
    return outcome


# Calls -------------------------------------------------------------------------------------------


def save_download(
    folder: Path, agent_id: int = 4, save_options: dict[str, Any] | None = None, **options: Any
) -> Callable[[Any], Any]:
    """An action that opens a download (with `options`) and saves it into `folder` (with `save_options`)."""
    saving = save_options or {}

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def save() -> Path:
                async with client.trigger_run_and_download(agent_id, {}, **options) as download:
                    return await download.save(folder, **saving)

            return save()
        with client.trigger_run_and_download(agent_id, {}, **options) as download:
            return download.save(folder, **saving)

    return action


def in_a_row(*inputs: dict[str, Any]) -> Callable[[Any], Any]:
    """An action making one trigger_run per input on the same client: each run id, or the CxpaError raised."""

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def calls() -> list[object]:
                found: list[object] = []
                for payload in inputs:
                    try:
                        found.append((await client.trigger_run(1, payload)).run_id)
                    except CxpaError as error:
                        found.append(error)
                return found

            return calls()
        found: list[object] = []
        for payload in inputs:
            try:
                found.append(client.trigger_run(1, payload).run_id)
            except CxpaError as error:
                found.append(error)
        return found

    return action


def _wait_all(client: Any) -> Any:
    """`wait_all` on one handle of `client` (sync), or the awaitable of `aio.wait_all` (async)."""
    handles = [client.run(1, "run_1")]
    if isinstance(client, Cxpa):
        return wait_all(handles, timeout=WAIT)
    return aio.wait_all(handles, timeout=WAIT)


def _events(client: Any) -> Any:
    """Every event of run_1 as a list (sync), or the awaitable of that list (async)."""
    if isinstance(client, Cxpa):
        return list(client.run_events(1, "run_1", timeout=WAIT))

    async def collect() -> list[Any]:
        return [event async for event in client.run_events(1, "run_1", timeout=WAIT)]

    return collect()


@dataclass(frozen=True)
class Call:
    """One public method as a test calls it: the action, its agent-ness, and its wait on top of the deadline."""

    action: Callable[[Any], Any]
    agent: bool = False
    wait: float = 0.0


CALLS = {
    "trigger_run": Call(lambda c: c.trigger_run(1, {})),
    "get_run": Call(lambda c: c.get_run(1, "run_1")),
    "cancel_run": Call(lambda c: c.cancel_run(1, "run_1")),
    "register_run": Call(lambda c: c.register_run(1, "ext_1")),
    "ingest_run": Call(lambda c: c.ingest_run(5, "ext_1", "running")),
    "trigger_run_and_wait": Call(lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=int(WAIT * 1000)), wait=WAIT),
    "wait_for_run": Call(lambda c: c.wait_for_run(1, "run_1", timeout=WAIT), wait=WAIT),
    "agent_complete": Call(lambda c: c.complete({"ok": True}), agent=True),
    "resolve_credential": Call(lambda c: c.resolve_credential("conn_1"), agent=True),
    "agent_is_cancelled": Call(lambda c: c.is_cancelled(), agent=True),
    "wait_all": Call(_wait_all, wait=WAIT),
    "run_events": Call(_events, wait=WAIT),
}
"""The JSON calls, by name."""


MISSING = "<no applied attribute>"
PHRASES = {True: "the request was applied", False: "was not applied", None: "may have been applied"}


def assert_applied(error: BaseException | None, expected: bool | None) -> None:
    """Assert a CxpaError's `applied`, its `may_have_been_applied` and its text all say `expected`."""
    assert isinstance(error, CxpaError), f"expected a CxpaError, got {error!r}"
    applied = getattr(error, "applied", MISSING)
    assert applied is expected, f"applied is {applied!r}, expected {expected!r}: {type(error).__name__}: {error}"
    assert error.may_have_been_applied is (expected is not False), (
        f"may_have_been_applied is {error.may_have_been_applied!r} while applied is {expected!r}"
    )
    assert PHRASES[expected] in str(error), f"{str(error)!r} does not say {PHRASES[expected]!r}"
    if expected is True:
        assert "may have been" not in str(error), f"{str(error)!r} should say the request was applied"


def texts_of(error: BaseException) -> list[str]:
    """Everything a person could see of an error and its causes: str, repr, args, formatted traceback."""
    texts, seen, pending = [], set(), [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), *map(repr, current.args)]
        pending += [linked for linked in (current.__cause__, current.__context__) if linked is not None]
    texts.append("".join(traceback.format_exception(error)))
    return texts
