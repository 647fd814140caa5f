"""Streaming downloads (async): headers read, bodies proven whole by their framing, files saved atomically, forwarding.

`scripts/unasync` writes the sync twin, `cxpa_sdk._download._stream`, from this file: edit this one.
A download is what `trigger_run_and_download` returns: a context manager that sends the request
on entry and closes the stream on exit (or `open()`, which hands the download's lifetime to its
body, for a web framework's streaming response). The body is read once. `save` writes to a
temporary file beside the target, checks the byte count against Content-Length, then renames: the
target is complete or absent. `save(fsync=True)` also syncs the file and its folder to disk before
and after the rename, for files that must survive a power cut.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType

import httpx2

from .._core._decoding import DecodingError
from .._core._engine import Answer
from .._http._reply import AsyncReply
from . import _body as body
from ._base import DownloadBase, Progress
from ._body import DEFAULT_IDLE_TIMEOUT_S
from ._file import Saving


class _AsyncBody(AsyncIterator[bytes]):
    """A download's body: its chunks, and its `aclose()`, which closes the download even before the first one.

    A generator's aclose() before its first item runs none of its code, so a server closing a body
    it never read (a HEAD, a browser gone before the first byte) would leave the connection to the
    platform open; this closes it.
    """

    __slots__ = ("_chunks", "_close")

    def __init__(self, chunks: AsyncGenerator[bytes, None], close: Callable[[], Awaitable[None]]) -> None:
        self._chunks = chunks
        self._close = close

    async def __anext__(self) -> bytes:
        return await anext(self._chunks)

    async def aclose(self) -> None:
        """Stop reading and close the download (idempotent)."""
        await self._chunks.aclose()
        await self._close()


class AsyncDownload(DownloadBase[AsyncReply]):
    """A file a run produces, streamed. Use it as an async context manager; read the body once.

    Examples:
        >>> async with client.trigger_run_and_download(42, {"topic": "Q3"}) as download:  # doctest: +SKIP
        ...     path = await download.save("reports/")

    Attributes:
        run_id: The run that produced the file.
        filename: The server's filename, made safe to use as a plain file name.
        server_filename: The name as the server sent it, or None (not safe as a path).
        content_type: The file's media type.
        content_length: Its size in bytes, or None when the server did not say.
    """

    _usage = "use the download as an async context manager"

    def __init__(
        self, open_answer: Callable[[], Awaitable[Answer]], on_close: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._open_answer = open_answer
        self._on_close = on_close
        self._reset()

    async def __aenter__(self) -> AsyncDownload:
        self._check_unopened()
        answer = await self._open_answer()
        try:
            self._read_headers(answer)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> AsyncDownload:
        """Send the request now and return the download, open, for code that cannot use `async with`.

        This is how a web app hands the file to a streaming response: pass `iter_bytes()` as the
        response's body and `forward_headers()` as its headers. The body closes the download once
        it is read to the end, fails, or is closed (a server closes it when the browser goes
        away), so nothing is left open. If you end up not streaming it, call `await download.close()`.

        Examples:
            >>> download = await client.trigger_run_and_download(4, {"topic": "Q3"}).open()  # doctest: +SKIP
            >>> return StreamingResponse(download.iter_bytes(), headers=download.forward_headers())  # doctest: +SKIP
        """
        return await self.__aenter__()

    def iter_bytes(
        self,
        chunk_size: int | None = None,
        *,
        allow_close_delimited: bool = False,
        max_bytes: int | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT_S,
    ) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; IncompleteDownloadError if the framing doesn't prove them whole.

        A body cut short, or close-delimited (no Content-Length, not chunked: a cut looks like the
        end) unless `allow_close_delimited=True`, raises after its last bytes. With `max_bytes`, a
        file larger than that raises DownloadTooLargeError: before its first byte when its
        Content-Length says so, else before the chunk that passes the limit. When the platform
        sends nothing for `idle_timeout` seconds (default 10; None: the client's read timeout,
        which waits for the run), the body ends with IncompleteDownloadError and its connection
        is closed: a server that notices a browser that left only when it next writes (WSGI's)
        is held no longer than that. The download is closed when the iteration ends, however it
        ends, and by the iterator's `aclose()`, even before its first chunk (what a server calls
        when the browser goes away).
        """
        idle = body.check_idle(idle_timeout)
        response = self._take()
        return _AsyncBody(self._stream(response, chunk_size, allow_close_delimited, max_bytes, idle), self.close)

    async def _stream(
        self,
        response: AsyncReply,
        chunk_size: int | None,
        allow_close_delimited: bool,
        max_bytes: int | None,
        idle_timeout: float | None = None,
    ) -> AsyncGenerator[bytes, None]:
        info = self._meta
        total = 0
        try:
            body.check_max(info, max_bytes)
            async for chunk in body.achunks(response, chunk_size, idle_timeout):
                if max_bytes is not None:
                    total = body.counted(info, max_bytes, total, chunk)
                yield chunk
        except (httpx2.TransportError, DecodingError) as exc:
            raise body.cut(info, response, exc, idle_timeout) from None
        finally:
            await self.close()
        body.check_end(info, response.num_bytes_downloaded, allow_close_delimited=allow_close_delimited)

    async def read(self, *, allow_close_delimited: bool = False, max_bytes: int | None = None) -> bytes:
        """The whole file in memory (prefer `save` or `iter_bytes` for large files; `max_bytes` bounds it)."""
        chunks: list[bytes] = []
        async for chunk in self._stream(self._take(), None, allow_close_delimited, max_bytes):
            chunks.append(chunk)
        return b"".join(chunks)

    async def save(
        self,
        path_or_folder: str | os.PathLike[str] = ".",
        *,
        progress: Progress | None = None,
        fsync: bool = False,
        overwrite: bool = False,
        allow_close_delimited: bool = False,
        max_bytes: int | None = None,
    ) -> Path:
        """Write the file to a path, or into a folder under its server filename; the path written.

        The bytes go to a temporary file beside the target, which is renamed into place only when
        every byte arrived: the target is complete or absent, whatever happens to the connection or
        the process. With `fsync=True` the file is also synced to disk before the rename and its
        folder after it, so that it survives a power cut too (at the cost of waiting for the disk).

        A name that comes from the server never replaces an existing file: the file is saved as
        `report (1).pdf` (and so on) instead, unless `overwrite=True`. A path you name yourself is
        replaced, as `open(path, "wb")` would. A close-delimited body (no Content-Length, not
        chunked) is refused unless `allow_close_delimited=True`: nothing proves it whole. With
        `max_bytes`, a larger file is refused (DownloadTooLargeError) and nothing is saved.

        Raises:
            IncompleteDownloadError: the body ended before all its bytes arrived.
            DownloadTooLargeError: the file is larger than `max_bytes`.
            LocalFileError: the file could not be written here (a missing or read-only folder, a
                full disk); nothing is left behind.
        """
        saving = Saving(self._meta, path_or_folder, fsync=fsync, overwrite=overwrite)
        response = self._response
        try:
            async for chunk in self._stream(self._take(), None, allow_close_delimited, max_bytes):
                saving.write(chunk)
                if progress is not None and response is not None:
                    progress(response.num_bytes_downloaded, self.content_length)
            return await saving.afinish()
        except BaseException:
            saving.discard()
            raise

    async def close(self) -> None:
        """Close the stream (idempotent)."""
        if self._response is not None:
            await self._response.aclose()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            await on_close()
