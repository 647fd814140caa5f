"""What the drivers and downloads read of a backend's answer whose body is read in pieces.

An `httpx2.Response` is one; so is the aiohttp backend's own answer (`_aiohttp.AiohttpReply`), which
builds no httpx2 object. A sync backend's answer (`Reply`) is always httpx2's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import httpx2

Reply = httpx2.Response
"""An answer of a sync backend, its body not read yet: httpx2's (what `AsyncReply` is for an async one)."""


class AsyncReply(Protocol):
    """An answer of an async backend, its body not read yet."""

    @property
    def status_code(self) -> int:
        """The answer's status."""

    @property
    def headers(self) -> Any:
        """The answer's headers: a case-insensitive mapping (`get(name, default)`, `name in headers`)."""

    @property
    def num_bytes_downloaded(self) -> int:
        """The body's bytes read so far, as they came (before decoding)."""

    @property
    def is_closed(self) -> bool:
        """Whether the answer is closed (its connection given back)."""

    @property
    def is_stream_consumed(self) -> bool:
        """Whether its body's reading began (a mock transport's answer comes read)."""

    @property
    def content(self) -> bytes:
        """The whole body, once it was read (only then)."""

    def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive, not decoded."""

    async def aclose(self) -> None:
        """Close the answer: its connection goes back to the pool (closed when the body was not read to its end)."""
