"""Shared helpers of the SDK's tests: one test body for the sync and the async client."""

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from cxpa_sdk import AsyncCxpa, Cxpa
from cxpa_sdk.testing import LocalPlatform

T = TypeVar("T")


@contextlib.contextmanager
def served(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded stdlib HTTP server on 127.0.0.1 answering with `handler` for the block; its base URL.

    The server is shut down and its thread joined (bounded) whatever happens in the block.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end (the async tests need no plugin)."""
    return asyncio.run(coro)


MODES = ["sync", "async", "async-aiohttp"]
"""Cxpa, AsyncCxpa on its default backend (httpx2), and AsyncCxpa on aiohttp (`http_backend="aiohttp"`)."""


class Api:
    """One test body for every client: calls Cxpa directly, or AsyncCxpa (of a mode's backend) on one event loop."""

    def __init__(self, mode: str, platform: LocalPlatform, slept: list[float], **options: Any) -> None:
        self.mode = mode
        self.platform = platform
        if mode == "sync":
            self.client: Any = Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **options)
            self.client._sleep = slept.append
        else:
            self.runner = asyncio.Runner()
            if mode == "async-aiohttp":
                options = {"http_backend": "aiohttp", **options}
            self.client = AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **options)

            async def record(seconds: float) -> None:
                slept.append(seconds)

            self.client._asleep = record

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if self.mode == "sync" or not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.runner.run(method(*args, **kwargs))

        return call

    def done(self, value: Any) -> Any:
        """`value`, awaited first on this Api's loop when it is awaitable (a handle's method in async modes)."""
        return self.runner.run(value) if self.mode != "sync" and inspect.isawaitable(value) else value

    def download(
        self, *args: Any, save_to: Any = None, save_options: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[Any, Any]:
        """Open a download, then save it (to `save_to`, with `save_options`) or read it; (download, path or bytes)."""
        options = save_options or {}
        if self.mode == "sync":
            with self.client.trigger_run_and_download(*args, **kwargs) as download:
                return download, download.save(save_to, **options) if save_to is not None else download.read()

        async def flow() -> tuple[Any, Any]:
            async with self.client.trigger_run_and_download(*args, **kwargs) as download:
                saved = await download.save(save_to, **options) if save_to is not None else await download.read()
                return download, saved

        return self.runner.run(flow())

    def close(self) -> None:
        """Close the client (and the event loop)."""
        if self.mode == "sync":
            self.client.close()
        else:
            self.runner.run(self.client.aclose())
            self.runner.close()
