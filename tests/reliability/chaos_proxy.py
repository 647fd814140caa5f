"""A TCP chaos proxy for the reliability tests: sits between a client and a server and breaks exchanges.

`ChaosProxy(upstream, fault_rate=0.3, seed=1)` is a context manager yielding its base URL
(`http://127.0.0.1:<port>`). It runs its own asyncio event loop in a background thread and forwards
every client connection to `upstream` over a connection of its own.

Faults are decided per exchange: a chunk from the client that arrives while no exchange is open
(none yet, or the previous one already got answer bytes) starts a new one. With probability
`fault_rate` the exchange gets one fault, chosen uniformly among `kinds`:

- `reset_before`: the request never reaches the server; the client connection is reset (RST).
- `reset_after`: the request is forwarded and answered, but the client connection is reset before
  any byte of the answer is forwarded: the request was applied, its answer lost.
- `cut_body`: the answer's head and part of its body are forwarded, then the client connection is reset.
- `delay`: the request is forwarded after 0 to `max_delay` seconds; nothing else changes.
- `truncate`: the answer minus its last 1 to 16 bytes is forwarded, then the connection is closed
  normally (FIN): only the announced Content-Length can tell the answer is short.

`injected()` counts the faults by kind, `exchanges()` the exchanges seen. The random choices come
from one seeded `random.Random`, used only on the proxy's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

KINDS = ("reset_before", "reset_after", "cut_body", "delay", "truncate")
READ_BYTES = 1 << 16
CONNECT_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
MAX_HEAD_BYTES = 64 << 10
MAX_TRUNCATED_BYTES = 16


@dataclass
class _Exchange:
    """One request and its answer on a connection, and the fault chosen for it."""

    kind: str | None
    delay: float = 0.0
    answered: int = 0  # bytes of the answer received from the server so far
    forwarded: int = 0  # bytes of the answer passed on to the client
    head: bytearray = field(default_factory=bytearray)
    limit: int | None = None  # cut_body and truncate: how many answer bytes the client gets


@dataclass(eq=False)
class _Connection:
    """A client connection and the proxy's connection to the server for it."""

    client_reader: asyncio.StreamReader
    client_writer: asyncio.StreamWriter
    server_reader: asyncio.StreamReader | None = None
    server_writer: asyncio.StreamWriter | None = None
    exchange: _Exchange | None = None
    done: bool = False

    def reset_client(self) -> None:
        """Reset the client connection: SO_LINGER 0 makes the close an RST, unsent bytes are dropped."""
        sock = self.client_writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.client_writer.transport.abort()
        self.finish()

    def close_client(self) -> None:
        """Close the client connection normally (its buffered bytes are sent first, then FIN)."""
        self.client_writer.close()
        self.finish()

    def finish(self) -> None:
        """End the connection: drop the server side; a client side still open is closed normally."""
        self.done = True
        if self.server_writer is not None:
            self.server_writer.transport.abort()
        if not self.client_writer.transport.is_closing():
            self.client_writer.close()


def _answer_length(head: bytes) -> tuple[int, int | None] | None:
    """The size of an answer's head and its Content-Length (None if absent), once the head is complete."""
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    head_size = end + 4
    for line in head[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return head_size, int(value.strip())
    return head_size, None


class ChaosProxy:
    """A fault-injecting TCP proxy in front of an HTTP/1.1 server on loopback.

    Args:
        upstream: The server's base URL, such as `http://127.0.0.1:8787`.
        fault_rate: The probability that an exchange gets a fault (0 to 1).
        seed: The seed of the proxy's random choices.
        kinds: The faults to choose among (default: all five).
        max_delay: The longest `delay`, in seconds.
    """

    def __init__(
        self,
        upstream: str,
        *,
        fault_rate: float,
        seed: int,
        kinds: Sequence[str] = KINDS,
        max_delay: float = 0.05,
    ) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds or not 0 <= fault_rate <= 1:
            raise ValueError(f"fault_rate must be within [0, 1] and kinds among {KINDS}")
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._host, self._port = parts.hostname, parts.port
        self.fault_rate = fault_rate
        self._kinds = tuple(kinds)
        self._max_delay = max_delay
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._injected: Counter[str] = Counter()
        self._exchanges = 0
        self._errors: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    # -- counts ------------------------------------------------------------------------------

    def injected(self) -> dict[str, int]:
        """How many faults of each kind were injected so far (every kind listed, zeros included)."""
        with self._lock:
            return {kind: self._injected[kind] for kind in KINDS}

    def errors(self) -> list[str]:
        """The proxy's own unexpected errors (a correct proxy has none)."""
        with self._lock:
            return list(self._errors)

    def _record(self, error: BaseException) -> None:
        with self._lock:
            self._errors.append(f"{type(error).__name__}: {error}")

    def exchanges(self) -> int:
        """How many exchanges the proxy saw so far."""
        with self._lock:
            return self._exchanges

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> str:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="chaos-proxy", daemon=True)
        self._thread.start()
        try:
            port = asyncio.run_coroutine_threadsafe(self._start(), loop).result(STOP_TIMEOUT_S)
        except BaseException:
            self._shutdown()
            raise
        return f"http://127.0.0.1:{port}"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._shutdown()

    def _shutdown(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                asyncio.run_coroutine_threadsafe(self._stop(), loop).result(STOP_TIMEOUT_S)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(STOP_TIMEOUT_S)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = None

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.finish()
        handlers = list(self._handlers)
        for handler in handlers:
            handler.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=STOP_TIMEOUT_S)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), STOP_TIMEOUT_S)

    # -- the proxy ---------------------------------------------------------------------------

    def _new_exchange(self) -> _Exchange:
        rng = self._rng
        kind = rng.choice(self._kinds) if rng.random() < self.fault_rate else None
        exchange = _Exchange(kind, delay=rng.uniform(0, self._max_delay) if kind == "delay" else 0.0)
        with self._lock:
            self._exchanges += 1
            if kind is not None:
                self._injected[kind] += 1
        return exchange

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        connection = _Connection(client_reader, client_writer)
        self._connections.add(connection)
        try:
            try:
                connection.server_reader, connection.server_writer = await asyncio.wait_for(
                    asyncio.open_connection(self._host, self._port), CONNECT_TIMEOUT_S
                )
            except (OSError, TimeoutError):
                connection.reset_client()
                return
            pumps = [
                asyncio.create_task(self._requests(connection)),
                asyncio.create_task(self._answers(connection)),
            ]
            try:
                # Either pump ending ends the connection, which ends the other pump's read.
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
                connection.finish()
                await asyncio.wait(pumps, timeout=STOP_TIMEOUT_S)
            finally:
                for pump in pumps:
                    pump.cancel()
                for outcome in await asyncio.gather(*pumps, return_exceptions=True):
                    if isinstance(outcome, Exception):
                        self._record(outcome)
        except OSError:
            pass
        except Exception as exc:
            self._record(exc)
        finally:
            connection.finish()
            self._connections.discard(connection)
            self._handlers.discard(task)

    async def _requests(self, connection: _Connection) -> None:
        """Client to server: each new exchange gets its fault here, before its first byte is forwarded."""
        assert connection.server_writer is not None
        with contextlib.suppress(OSError):
            while not connection.done:
                data = await connection.client_reader.read(READ_BYTES)
                if not data or connection.done:
                    return
                exchange = connection.exchange
                if exchange is None or exchange.answered > 0:
                    exchange = connection.exchange = self._new_exchange()
                    if exchange.kind == "reset_before":
                        connection.reset_client()
                        return
                    if exchange.kind == "delay":
                        await asyncio.sleep(exchange.delay)
                        if connection.done:
                            return
                connection.server_writer.write(data)
                await connection.server_writer.drain()

    async def _answers(self, connection: _Connection) -> None:
        """Server to client: answers pass, or are lost, cut or truncated as their exchange's fault says."""
        assert connection.server_reader is not None
        with contextlib.suppress(OSError):
            while not connection.done:
                data = await connection.server_reader.read(READ_BYTES)
                if connection.done:
                    return
                if not data:
                    connection.close_client()  # the server closed: so does the client side, after its bytes
                    return
                exchange = connection.exchange
                if exchange is not None:
                    exchange.answered += len(data)
                kind = None if exchange is None else exchange.kind
                if kind == "reset_after":
                    connection.reset_client()
                    return
                if exchange is None or kind not in ("cut_body", "truncate"):
                    connection.client_writer.write(data)
                    await connection.client_writer.drain()
                    continue
                if self._forward_limited(connection, exchange, data):
                    return
                await connection.client_writer.drain()

    def _forward_limited(self, connection: _Connection, exchange: _Exchange, data: bytes) -> bool:
        """Forward a cut or truncated answer's bytes up to its limit; True once the connection ended."""
        if exchange.limit is None:
            exchange.head += data
            length = _answer_length(bytes(exchange.head))
            if length is None and len(exchange.head) < MAX_HEAD_BYTES:
                return False  # hold the bytes until the head is complete
            exchange.limit = self._limit(exchange.kind, length, len(exchange.head))
            data, exchange.head = bytes(exchange.head), bytearray()
        room = exchange.limit - exchange.forwarded
        part = data[: max(0, room)]
        if part:
            connection.client_writer.write(part)
            exchange.forwarded += len(part)
        if exchange.forwarded < exchange.limit:
            return False
        if exchange.kind == "cut_body":
            connection.reset_client()
        else:
            connection.close_client()
        return True

    def _limit(self, kind: str | None, length: tuple[int, int | None] | None, received: int) -> int:
        """How many answer bytes the client gets: part of the body (cut_body) or all but its end (truncate)."""
        rng = self._rng
        if length is None:  # no complete head: cut it
            return rng.randrange(1, max(2, received))
        head_size, content_length = length
        if not content_length:  # no body, or a chunked one whose end is unknown here: cut after the head
            return rng.randrange(1, head_size) if content_length == 0 else head_size
        total = head_size + content_length
        if kind == "cut_body":
            return rng.randrange(head_size, total)
        return total - rng.randint(1, min(content_length, MAX_TRUNCATED_BYTES))
