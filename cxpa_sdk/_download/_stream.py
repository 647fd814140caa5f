"""Streaming downloads: headers read, bodies proven whole by their framing, files saved atomically, forwarding.

`Download` (sync) and `AsyncDownload` (async) are what `trigger_run_and_download` returns: context
managers that send the request on entry and close the stream on exit (or `open()`, which hands
the download's lifetime to its body, for a web framework's streaming response). The body is read
once. `save` writes to a temporary file beside the target, checks the byte count against
Content-Length, then renames: the target is complete or absent. `save(fsync=True)` also syncs
the file and its folder to disk before and after the rename, for files that must survive a power cut.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Generic, Protocol, TypeVar, cast

import httpx2

from .._core._decoding import DecodingError
from .._core._engine import Answer
from .._errors import DownloadConsumedError
from .._http._reply import AsyncReply
from . import _body as body
from ._body import DEFAULT_IDLE_TIMEOUT_S, DownloadInfo
from ._file import Saving

Progress = Callable[[int, int | None], None]
"""A progress callback: (bytes received so far, total or None when unknown), both as sent on the wire.

The unit is the one Content-Length counts: for a file sent as it is (what the platform does), the
file's own bytes; for one a server compressed anyway, its compressed bytes, so done never passes
the total.
"""


class _Body(Iterator[bytes]):
    """A download's body: its chunks, and a `close()` that closes the download even before the first one.

    A generator's close() before its first item runs none of its code, so a WSGI server closing a
    body it never read (a HEAD, a browser gone before the first byte) would leave the connection
    to the platform open; this closes it.
    """

    __slots__ = ("_chunks", "_close")

    def __init__(self, chunks: Generator[bytes, None, None], close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._close = close

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading and close the download (idempotent)."""
        self._chunks.close()
        self._close()


class _AsyncBody(AsyncIterator[bytes]):
    """The async twin of `_Body`: its `aclose()` closes the download even before the first chunk."""

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


class _Closable(Protocol):
    @property
    def is_closed(self) -> bool: ...


R = TypeVar("R", bound=_Closable)


class _DownloadBase(Generic[R]):
    """What both download flavours share: the headers' metadata and the read-once rule."""

    _usage = "use the download as a context manager"

    def _reset(self) -> None:
        self._response: R | None = None
        self._info: DownloadInfo | None = None
        self._consumed = False
        self._opened = False

    def __repr__(self) -> str:
        info: DownloadInfo | None = getattr(self, "_info", None)
        if info is None:
            return f"{type(self).__name__}(not opened)"
        fields = f"run_id={info.run_id!r}, filename={info.filename!r}, content_length={info.content_length}"
        return f"{type(self).__name__}({fields})"

    @property
    def _meta(self) -> DownloadInfo:
        if self._info is None:
            raise DownloadConsumedError(self._usage)
        return self._info

    @property
    def run_id(self) -> str:
        """The run that produced the file."""
        return self._meta.run_id

    @property
    def filename(self) -> str:
        """The server's filename, safe to use as a plain file name in a folder."""
        return self._meta.filename

    @property
    def server_filename(self) -> str | None:
        """The name exactly as the server sent it (decoded from Content-Disposition), or None.

        Not safe as a path: use `filename` for that. A forwarding app may pass it on, quoted, in a
        Content-Disposition of its own.
        """
        return self._meta.server_filename

    @property
    def content_type(self) -> str:
        """The file's media type."""
        return self._meta.content_type

    @property
    def content_length(self) -> int | None:
        """The file's size in bytes, or None when unknown."""
        return self._meta.content_length

    @property
    def request_id(self) -> str | None:
        """The X-Request-Id of the answer the file came in (secrets masked), for support."""
        return self._meta.request_id

    @property
    def attempts(self) -> int:
        """How many attempts the trigger-and-download request took (1 when it was not retried)."""
        return self._meta.attempts

    def forward_headers(self, *, inline: bool = False) -> dict[str, str]:
        """The headers a web app sends on with the file, so a browser saves it under its name and nothing of it runs.

        `Content-Type`: the server's, when it is a well-formed media type (RFC 9110) of at most 256
        bytes that a browser cannot run (no HTML, XML, SVG, script or stylesheet), else
        `application/octet-stream`. `Content-Disposition`: `attachment` with the safe filename (an
        ASCII `filename` and an RFC 6266 `filename*` for any other name); `inline=True` shows the
        file instead, but only a passive type (PDF, PNG, JPEG, GIF, WebP, AVIF, BMP, plain text,
        CSV): any other stays an attachment. `Content-Length` when the server gave the file's own
        length (not for a body it compressed, which the SDK decodes). `X-Content-Type-Options:
        nosniff`, so a browser does not guess another type, and `Content-Security-Policy: sandbox;
        default-src 'none'`, so a file a browser shows runs no script, has no origin and loads
        nothing. Each value is bounded (at most 1,062 bytes), so no proxy refuses the headers.
        """
        return body.forward_headers(self._meta, inline=inline)

    def _check_unopened(self) -> None:
        if self._opened:
            raise DownloadConsumedError("this download was already opened: each one sends its request once")
        self._opened = True

    def _take(self) -> R:
        if self._consumed or self._response is None or self._response.is_closed:
            raise DownloadConsumedError("this download's body was already read or closed: it can be read once")
        self._consumed = True
        return self._response


class Download(_DownloadBase[httpx2.Response]):
    """A file a run produces, streamed (sync). Use it as a context manager; read the body once.

    Example:
        >>> with client.trigger_run_and_download(42, {"topic": "Q3"}) as download:  # doctest: +SKIP
        ...     path = download.save("reports/")

    Attributes:
        run_id: The run that produced the file.
        filename: The server's filename, made safe to use as a plain file name.
        server_filename: The name as the server sent it, or None (not safe as a path).
        content_type: The file's media type.
        content_length: Its size in bytes, or None when the server did not say.
    """

    def __init__(self, open_answer: Callable[[], Answer], on_close: Callable[[], None] | None = None) -> None:
        self._open_answer = open_answer
        self._on_close = on_close
        self._reset()

    def __enter__(self) -> Download:
        self._check_unopened()
        answer = self._open_answer()
        self._response = cast("httpx2.Response", answer.response)  # a sync client's answers are httpx2's
        try:
            self._info = DownloadInfo.of(answer)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> Download:
        """Send the request now and return the download, open, for code that cannot use `with`.

        This is how a web app hands the file to a streaming response: pass `iter_bytes()` as the
        response's body and `forward_headers()` as its headers. The body closes the download once
        it is read to the end, fails, or is closed (a server closes it when the browser goes
        away), so nothing is left open. If you end up not streaming it, call `close()`.

        Example:
            >>> download = client.trigger_run_and_download(4, {"topic": "Q3"}).open()  # doctest: +SKIP
            >>> return Response(download.iter_bytes(), headers=download.forward_headers())  # doctest: +SKIP
        """
        return self.__enter__()

    def iter_bytes(
        self,
        chunk_size: int | None = None,
        *,
        allow_close_delimited: bool = False,
        max_bytes: int | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT_S,
    ) -> Iterator[bytes]:
        """The file's bytes as they arrive; IncompleteDownloadError if the framing doesn't prove them whole.

        A body cut short, or close-delimited (no Content-Length, not chunked: a cut looks like the
        end) unless `allow_close_delimited=True`, raises after its last bytes. With `max_bytes`, a
        file larger than that raises DownloadTooLargeError: before its first byte when its
        Content-Length says so, else before the chunk that passes the limit. When the platform
        sends nothing for `idle_timeout` seconds (default 10; None: the client's read timeout,
        which waits for the run), the body ends with IncompleteDownloadError and its connection
        is closed: a WSGI server, which notices a browser that left only when it next writes,
        is held no longer than that. The download is closed when the iteration ends, however it
        ends, and by the iterator's `close()`, even before its first chunk (what a WSGI server
        calls when the browser goes away).
        """
        idle = body.check_idle(idle_timeout)
        response = self._take()
        return _Body(self._stream(response, chunk_size, allow_close_delimited, max_bytes, idle), self.close)

    def _stream(
        self,
        response: httpx2.Response,
        chunk_size: int | None,
        allow_close_delimited: bool,
        max_bytes: int | None,
        idle_timeout: float | None = None,
    ) -> Generator[bytes, None, None]:
        info = self._meta
        try:
            body.check_max(info, max_bytes)
            body.bound_idle(response, idle_timeout)
            chunks = body.chunks(response, chunk_size)
            yield from chunks if max_bytes is None else body.capped(chunks, info, max_bytes)
        except (httpx2.TransportError, DecodingError) as exc:
            raise body.cut(info, response, exc, idle_timeout) from None
        finally:
            self.close()
        body.check_end(info, response.num_bytes_downloaded, allow_close_delimited=allow_close_delimited)

    def read(self, *, allow_close_delimited: bool = False, max_bytes: int | None = None) -> bytes:
        """The whole file in memory (prefer `save` or `iter_bytes` for large files; `max_bytes` bounds it)."""
        return b"".join(self._stream(self._take(), None, allow_close_delimited, max_bytes))

    def save(
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
            for chunk in self._stream(self._take(), None, allow_close_delimited, max_bytes):
                saving.write(chunk)
                if progress is not None and response is not None:
                    progress(response.num_bytes_downloaded, self.content_length)
            return saving.finish()
        except BaseException:
            saving.discard()
            raise

    def close(self) -> None:
        """Close the stream (idempotent)."""
        if self._response is not None:
            self._response.close()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()


class AsyncDownload(_DownloadBase[AsyncReply]):
    """A file a run produces, streamed (async). Use it as an async context manager; read the body once.

    Example:
        >>> async with client.trigger_run_and_download(42, {"topic": "Q3"}) as download:  # doctest: +SKIP
        ...     path = await download.save("reports/")
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
        self._response = cast("AsyncReply", answer.response)  # httpx2's or aiohttp's
        try:
            self._info = DownloadInfo.of(answer)
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
        away). If you end up not streaming it, `await download.close()`.

        Example:
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

        `allow_close_delimited`, `max_bytes` and `idle_timeout` (default 10 s) as in
        `Download.iter_bytes`; the download is closed when the iteration ends, however it ends, and
        by the iterator's `aclose()`, even before its first chunk.
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
        chunks = self._stream(self._take(), None, allow_close_delimited, max_bytes)
        return b"".join([chunk async for chunk in chunks])

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

        Complete or absent, never replacing a file under a server's name unless `overwrite=True`,
        bounded by `max_bytes`, and synced to disk with `fsync=True`, as with `Download.save`; the final close, sync and
        rename run off the event loop.
        """
        saving = Saving(self._meta, path_or_folder, fsync=fsync, overwrite=overwrite)
        response = self._response
        try:
            async for chunk in self._stream(self._take(), None, allow_close_delimited, max_bytes):
                saving.write(chunk)
                if progress is not None and response is not None:
                    progress(response.num_bytes_downloaded, self.content_length)
            import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

            return await asyncio.to_thread(saving.finish)
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
