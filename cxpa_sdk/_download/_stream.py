"""Streaming downloads (sync): headers read, bodies proven whole by their framing, files saved atomically, forwarding.

Written by `scripts/unasync` from `_async_stream.py`: edit that file, not this one.
A download is what `trigger_run_and_download` returns: a context manager that sends the request
on entry and closes the stream on exit (or `open()`, which hands the download's lifetime to its
body, for a web framework's streaming response). The body is read once. `save` writes to a
temporary file beside the target, checks the byte count against Content-Length, then renames: the
target is complete or absent. `save(fsync=True)` also syncs the file and its folder to disk before
and after the rename, for files that must survive a power cut.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from types import TracebackType

import httpx2

from .._core._decoding import DecodingError
from .._core._engine import Answer
from .._http._reply import Reply
from . import _body as body
from ._base import DownloadBase, Progress
from ._body import DEFAULT_IDLE_TIMEOUT_S
from ._file import Saving


class _Body(Iterator[bytes]):
    """A download's body: its chunks, and its `close()`, which closes the download even before the first one.

    A generator's close() before its first item runs none of its code, so a server closing a body
    it never read (a HEAD, a browser gone before the first byte) would leave the connection to the
    platform open; this closes it.
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


class Download(DownloadBase[Reply]):
    """A file a run produces, streamed. Use it as a context manager; read the body once.

    Examples:
        >>> with client.trigger_run_and_download(42, {"topic": "Q3"}) as download:  # doctest: +SKIP
        ...     path = download.save("reports/")

    Attributes:
        run_id: The run that produced the file.
        filename: The server's filename, made safe to use as a plain file name.
        server_filename: The name as the server sent it, or None (not safe as a path).
        content_type: The file's media type.
        content_length: Its size in bytes, or None when the server did not say.
    """

    _usage = "use the download as a context manager"

    def __init__(self, open_answer: Callable[[], Answer], on_close: Callable[[], None] | None = None) -> None:
        self._open_answer = open_answer
        self._on_close = on_close
        self._reset()

    def __enter__(self) -> Download:
        self._check_unopened()
        answer = self._open_answer()
        try:
            self._read_headers(answer)
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
        away), so nothing is left open. If you end up not streaming it, call `download.close()`.

        Examples:
            >>> download = client.trigger_run_and_download(4, {"topic": "Q3"}).open()  # doctest: +SKIP
            >>> return StreamingResponse(download.iter_bytes(), headers=download.forward_headers())  # doctest: +SKIP
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
        is closed: a server that notices a browser that left only when it next writes (WSGI's)
        is held no longer than that. The download is closed when the iteration ends, however it
        ends, and by the iterator's `close()`, even before its first chunk (what a server calls
        when the browser goes away).
        """
        idle = body.check_idle(idle_timeout)
        response = self._take()
        return _Body(self._stream(response, chunk_size, allow_close_delimited, max_bytes, idle), self.close)

    def _stream(
        self,
        response: Reply,
        chunk_size: int | None,
        allow_close_delimited: bool,
        max_bytes: int | None,
        idle_timeout: float | None = None,
    ) -> Generator[bytes, None, None]:
        info = self._meta
        total = 0
        try:
            body.check_max(info, max_bytes)
            for chunk in body.chunks(response, chunk_size, idle_timeout):
                if max_bytes is not None:
                    total = body.counted(info, max_bytes, total, chunk)
                yield chunk
        except (httpx2.TransportError, DecodingError) as exc:
            raise body.cut(info, response, exc, idle_timeout) from None
        finally:
            self.close()
        body.check_end(info, response.num_bytes_downloaded, allow_close_delimited=allow_close_delimited)

    def read(self, *, allow_close_delimited: bool = False, max_bytes: int | None = None) -> bytes:
        """The whole file in memory (prefer `save` or `iter_bytes` for large files; `max_bytes` bounds it)."""
        chunks: list[bytes] = []
        for chunk in self._stream(self._take(), None, allow_close_delimited, max_bytes):
            chunks.append(chunk)
        return b"".join(chunks)

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
