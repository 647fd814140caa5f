"""A TCP relay on 127.0.0.1 that counts the connections a client opens to a server behind it.

`counting_relay(port)` forwards every connection to 127.0.0.1:`port` byte for byte, on its own
thread and event loop, and records how many were open at once (`most_open`) and in all (`opened`).
The tests use it too (tests/connection_counter.py), from the checkout.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

STARTUP_SECONDS = 10.0


@dataclass
class Counts:
    """What the relay saw: its URL, connections open now, the most open at once, and the total."""

    url: str = ""
    open: int = 0
    most_open: int = 0
    opened: int = 0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy `reader` to `writer` until the end of the stream, then close `writer`."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _closed(writer: asyncio.StreamWriter) -> None:
    """Close `writer` and wait until it is closed (a reset or a cancel is fine)."""
    writer.close()
    with suppress(ConnectionError, asyncio.CancelledError):
        await writer.wait_closed()


class _Relay:
    """The relay's loop-side state: the counts and the connections it is relaying."""

    def __init__(self, port: int, counts: Counts) -> None:
        self.port = port
        self.counts = counts
        self.relays: set[asyncio.Task[None]] = set()

    async def relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """Relay one client connection to a fresh connection to the server, both ways."""
        server_writer = None
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.port)
            await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))
        finally:
            await _closed(client_writer)
            if server_writer is not None:
                await _closed(server_writer)

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """Count one client connection while it is relayed."""
        counts = self.counts
        counts.open += 1
        counts.opened += 1
        counts.most_open = max(counts.most_open, counts.open)
        task = asyncio.ensure_future(self.relay(client_reader, client_writer))
        self.relays.add(task)
        try:
            with suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        finally:
            self.relays.discard(task)
            counts.open -= 1

    async def serve(self, ready: threading.Event, stop: asyncio.Future[None]) -> None:
        """Listen until `stop` is set, then drop the connections still relayed."""
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=2048)
        self.counts.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        ready.set()
        await stop
        server.close()
        for task in list(self.relays):
            task.cancel()
        await asyncio.gather(*self.relays, return_exceptions=True)
        await server.wait_closed()


@contextmanager
def counting_relay(port: int) -> Iterator[Counts]:
    """Serve the relay to 127.0.0.1:`port` while the block runs; its counts."""
    counts = Counts()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Future[None] = loop.create_future()

    def serve() -> None:
        loop.run_until_complete(_Relay(port, counts).serve(ready, stop))
        loop.close()

    thread = threading.Thread(target=serve, name="bench-relay", daemon=True)
    thread.start()
    if not ready.wait(STARTUP_SECONDS):
        raise RuntimeError("the counting relay did not start")
    try:
        yield counts
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(STARTUP_SECONDS)
