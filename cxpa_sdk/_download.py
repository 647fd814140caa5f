"""Streaming downloads: headers read, bodies proven whole by their framing, files saved atomically, forwarding.

`Download` (sync) and `AsyncDownload` (async) are what `trigger_run_and_download` returns: context
managers that send the request on entry and close the stream on exit (or `open()`, which hands
the download's lifetime to its body, for a web framework's streaming response). The body is read
once. `save` writes to a temporary file beside the target, checks the byte count against
Content-Length, then renames: the target is complete or absent. `save(fsync=True)` also syncs
the file and its folder to disk before and after the rename, for files that must survive a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple

import httpx2

from ._decoding import Decoder, DecodingError
from ._engine import Answer
from ._errors import (
    DownloadConsumedError,
    DownloadTooLargeError,
    IncompleteDownloadError,
    InvalidArgumentError,
    InvalidResponseError,
    LocalFileError,
    mask,
)
from ._filenames import (
    MAX_FILENAME_BYTES,
    content_disposition,
    filename_from_disposition,
    fit_bytes,
    numbered,
    safe_filename,
)

Progress = Callable[[int, int | None], None]
"""A progress callback: (bytes received so far, total or None when unknown), both as sent on the wire.

The unit is the one Content-Length counts: for a file sent as it is (what the platform does), the
file's own bytes; for one a server compressed anyway, its compressed bytes, so done never passes
the total.
"""


class DownloadInfo(NamedTuple):
    """What a download's headers say, and what its errors need (attempts, key, secrets to mask)."""

    run_id: str
    filename: str
    content_type: str
    content_length: int | None
    server_filename: str | None = None
    proven_by: str = "length"
    coded: bool = False
    attempts: int = 1
    idempotency_key: str | None = None
    secrets: tuple[str, ...] = ()
    request_id: str | None = None

    def __repr__(self) -> str:
        """The headers' facts without the secrets."""
        return (
            f"DownloadInfo(run_id={self.run_id!r}, filename={self.filename!r}, content_type={self.content_type!r}, "
            f"content_length={self.content_length!r}, proven_by={self.proven_by!r}, coded={self.coded!r})"
        )

    @classmethod
    def of(cls, answer: Answer) -> DownloadInfo:
        """Read from a 200 trigger-and-download answer; InvalidResponseError when a header is missing or bad.

        Text from the server (run id, filename, request id) has the call's secrets masked.
        """
        response, secrets = answer.response, answer.secrets
        request_id = mask(response.headers.get("x-request-id"), secrets)
        run_id = mask(response.headers.get("x-run-id"), secrets)
        common = {"attempts": answer.attempts, "idempotency_key": answer.idempotency_key, "applied": True}
        if not run_id:
            raise InvalidResponseError(
                "the download answer has no X-Run-Id header", status_code=200, request_id=request_id, **common
            )
        length = response.headers.get("content-length")
        if length is not None and "transfer-encoding" in response.headers:
            raise InvalidResponseError(
                f"run {run_id}: the download answer has both Content-Length and Transfer-Encoding, so its framing "
                "cannot be trusted (RFC 9112 section 6.3); nothing was read",
                status_code=200,
                request_id=request_id,
                **common,
            )
        if length is not None and not (length.isascii() and length.isdigit()):
            raise InvalidResponseError(
                f"the download answer's Content-Length is not a size: {mask(length[:40], secrets)!r}",
                status_code=200,
                request_id=request_id,
                **common,
            )
        name = mask(filename_from_disposition(response.headers.get("content-disposition")), secrets)
        return cls(
            run_id=run_id,
            filename=safe_filename(name, f"{safe_filename(run_id, 'download')}.bin"),
            content_type=mask(response.headers.get("content-type"), secrets) or "application/octet-stream",
            content_length=None if length is None else int(length),
            server_filename=name,
            proven_by=_proof(response.headers),
            coded=response.headers.get("content-encoding", "identity").strip().lower() != "identity",
            attempts=answer.attempts,
            idempotency_key=answer.idempotency_key,
            secrets=secrets,
            request_id=request_id,
        )


def target_path(path_or_folder: str | os.PathLike[str], filename: str) -> tuple[Path, bool]:
    """Where `save` writes, and whether the name there is the server's (a folder target).

    A folder, or a path that ends with a separator (`reports/`, created with its parents when
    missing, never written as a file named `reports`), gets the server's safe filename; any other
    path is the file's own.
    """
    text = os.fspath(path_or_folder)
    target = Path(text)
    if text.endswith(("/", os.sep)) or (os.altsep is not None and text.endswith(os.altsep)):
        target.mkdir(parents=True, exist_ok=True)
        return target / filename, True
    return (target / filename, True) if target.is_dir() else (target, False)


def _local_error(info: DownloadInfo, path: str | os.PathLike[str], exc: OSError) -> LocalFileError:
    """The typed error for a file that could not be written: the run happened, and says so."""
    return LocalFileError(
        f"run {info.run_id}: its file could not be saved to {os.fspath(path)}: {exc.strerror or exc}",
        run_id=info.run_id,
        path=os.fspath(path),
        errno=exc.errno,
        attempts=info.attempts,
        idempotency_key=info.idempotency_key,
        applied=True,
    )


def _incomplete(info: DownloadInfo, received: int, why: str) -> IncompleteDownloadError:
    expected = "an unknown number" if info.content_length is None else str(info.content_length)
    return IncompleteDownloadError(
        f"download of run {info.run_id} incomplete: {received} of {expected} bytes arrived ({mask(why, info.secrets)})",
        received=received,
        expected=info.content_length,
        run_id=info.run_id,
        attempts=info.attempts,
        idempotency_key=info.idempotency_key,
        applied=True,
    )


def _cut(info: DownloadInfo, response: httpx2.Response, exc: Exception) -> IncompleteDownloadError:
    """The error for a body cut short by its connection (named by class) or its coding (by what it says)."""
    why = str(exc) if isinstance(exc, DecodingError) else type(exc).__name__
    return _incomplete(info, response.num_bytes_downloaded, why)


def _proof(headers: httpx2.Headers) -> str:
    """What proves a body complete: its `length`, its `chunked` terminator, its `coding`'s end marker, or `nothing`.

    A body with neither Content-Length nor chunked framing ends when the server closes the
    connection (close-delimited, as HTTP/1.0 does): a cut there looks exactly like the end.
    """
    if "content-length" in headers:
        return "length"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked"
    return "coding" if headers.get("content-encoding", "identity").strip().lower() != "identity" else "nothing"


_UNPROVEN = (
    "the server closed the connection without saying the file's length (no Content-Length, not chunked), so "
    "nothing proves the file whole; pass allow_close_delimited=True to accept such a file"
)


def _check_end(info: DownloadInfo, received: int, *, allow_close_delimited: bool) -> None:
    """Raise IncompleteDownloadError unless the framing proves the body whole.

    `received` is the bytes on the wire, as Content-Length counts them; a close-delimited body is
    refused unless `allow_close_delimited` (or its coding's end marker, checked by the decoder).
    """
    if info.content_length is not None and received != info.content_length:
        raise _incomplete(
            info, received, "the stream ended early" if received < info.content_length else "more bytes than announced"
        )
    if info.proven_by == "nothing" and not allow_close_delimited:
        raise _incomplete(info, received, _UNPROVEN)


def _too_large(info: DownloadInfo, max_bytes: int, received: int) -> DownloadTooLargeError:
    size = f"{info.content_length} bytes announced" if received == 0 else f"more than {max_bytes} bytes arrived"
    return DownloadTooLargeError(
        f"download of run {info.run_id} refused: {size}, over the max_bytes of {max_bytes}",
        max_bytes=max_bytes,
        received=received,
        expected=info.content_length,
        run_id=info.run_id,
        attempts=info.attempts,
        idempotency_key=info.idempotency_key,
        applied=True,
    )


def _check_max(info: DownloadInfo, max_bytes: int | None) -> None:
    """Refuse up front a file whose Content-Length is over `max_bytes` (a coded body's length is not the file's)."""
    if max_bytes is None:
        return
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise InvalidArgumentError(f"max_bytes must be a whole number of bytes >= 0 or None, not {max_bytes!r}")
    if info.content_length is not None and not info.coded and info.content_length > max_bytes:
        raise _too_large(info, max_bytes, 0)


def _counted(info: DownloadInfo, max_bytes: int, total: int, chunk: bytes) -> int:
    """`total` plus the chunk's bytes; DownloadTooLargeError when that passes `max_bytes`."""
    if total + len(chunk) > max_bytes:
        raise _too_large(info, max_bytes, total)
    return total + len(chunk)


def _capped(chunks: Iterable[bytes], info: DownloadInfo, max_bytes: int) -> Iterator[bytes]:
    """The chunks, stopped with DownloadTooLargeError before the one that would pass `max_bytes` in all."""
    total = 0
    for chunk in chunks:
        total = _counted(info, max_bytes, total, chunk)
        yield chunk


class _Rechunk:
    """Regroups pieces into chunks of `size` bytes, the last shorter (size None: the pieces as they come)."""

    def __init__(self, size: int | None) -> None:
        self._size = size
        self._pending = bytearray()

    def add(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        """The whole chunks the pieces complete."""
        size = self._size
        for piece in pieces:
            if size is None:
                yield piece
                continue
            self._pending += piece
            while len(self._pending) >= size:
                yield bytes(self._pending[:size])
                del self._pending[:size]

    def rest(self) -> Iterator[bytes]:
        """The last, shorter chunk, if any."""
        if self._pending:
            yield bytes(self._pending)
            self._pending.clear()


def _chunks(response: httpx2.Response, chunk_size: int | None) -> Iterator[bytes]:
    """The body's bytes: raw (no copy) when not content-encoded, else decoded with bounded memory.

    httpx decodes a whole network read at once (64 KiB of gzip can become 64 MiB); the SDK's decoder
    yields at most 64 KiB at a time, so a compressed body costs no more memory than a plain one.
    """
    encoding = response.headers.get("content-encoding")
    if encoding is None and chunk_size is None:
        return response.iter_raw()  # no generator of ours in between: the hot path of `save`
    return _reshaped(response.iter_raw(), None if encoding is None else Decoder(encoding), _Rechunk(chunk_size))


def _reshaped(raw: Iterator[bytes], decoder: Decoder | None, rechunk: _Rechunk) -> Iterator[bytes]:
    """Raw chunks decoded (when a decoder is given) and regrouped."""
    for chunk in raw:
        yield from rechunk.add((chunk,) if decoder is None else decoder.feed(chunk))
    yield from rechunk.add(() if decoder is None else decoder.finish())
    yield from rechunk.rest()


async def _achunks(response: httpx2.Response, chunk_size: int | None) -> AsyncIterator[bytes]:
    """The async twin of `_chunks` (the decoding and regrouping are the same pure functions)."""
    encoding = response.headers.get("content-encoding")
    decoder = None if encoding is None else Decoder(encoding)
    rechunk = _Rechunk(chunk_size)
    async for chunk in response.aiter_raw():
        for piece in rechunk.add((chunk,) if decoder is None else decoder.feed(chunk)):
            yield piece
    for piece in rechunk.add(() if decoder is None else decoder.finish()):
        yield piece
    for piece in rechunk.rest():
        yield piece


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_TEMP_SUFFIX_BYTES = len(".12345678.part")


class _Temp:
    """A temporary file beside the target, renamed into place when complete and removed otherwise.

    Its name, `.<target name>.<8 hex>.part`, fits the filesystem's 255 bytes whatever the target's
    name; it is created with mode 0666 less the umask, as `open()` creates a file, so the saved file
    gets the mode any other tool would give it (mkstemp's 0600 would not).
    """

    def __init__(self, target: Path, *, fsync: bool) -> None:
        stem = fit_bytes(target.name, MAX_FILENAME_BYTES - 1 - _TEMP_SUFFIX_BYTES)
        for _ in range(100):
            self.path = target.parent / f".{stem}.{os.urandom(4).hex()}.part"
            try:
                fd = os.open(self.path, _TEMP_FLAGS, 0o666)
            except FileExistsError:
                continue
            break
        else:
            raise FileExistsError(f"no free temporary name beside {target}")
        self.file: IO[bytes] = os.fdopen(fd, "wb", buffering=0)
        self.fsync = fsync

    def finish(self, target: Path, *, replace: bool) -> Path:
        """Put the complete file in place: at `target` (replacing it), or at the first free `numbered` name."""
        if self.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        final = target
        if replace:
            os.replace(self.path, target)
        else:
            final = self._place_new(target)
        if self.fsync:
            _fsync_folder(final.parent)
        return final

    def _place_new(self, target: Path) -> Path:
        """Link the file in under a name nobody has (a hard link never replaces), then drop the temporary name."""
        for number in range(1000):
            candidate = target if number == 0 else numbered(target, number)
            try:
                os.link(self.path, candidate)
            except FileExistsError:
                continue
            except OSError:  # a filesystem without hard links: check, then rename (not atomic there)
                if os.path.lexists(candidate):
                    continue
                os.replace(self.path, candidate)
                return candidate
            os.unlink(self.path)
            return candidate
        raise FileExistsError(errno.EEXIST, "1000 names like it are taken", str(target))

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class _Saving:
    """One `save`: its target, its temporary file, and every local failure as a LocalFileError.

    The sync and async `save` differ only in how they read the body and where `finish` runs.
    """

    def __init__(
        self, info: DownloadInfo, path_or_folder: str | os.PathLike[str], *, fsync: bool, overwrite: bool
    ) -> None:
        self._info = info
        try:
            self._target, named_by_server = target_path(path_or_folder, info.filename)
            self._temp = _Temp(self._target, fsync=fsync)
        except OSError as exc:
            raise _local_error(info, path_or_folder, exc) from None
        self._replace = overwrite or not named_by_server

    def write(self, chunk: bytes) -> None:
        """Append the next bytes of the file."""
        try:
            self._temp.file.write(chunk)
        except OSError as exc:
            raise _local_error(self._info, self._target, exc) from None

    def finish(self) -> Path:
        """Put the complete file in place; the path it has."""
        try:
            return self._temp.finish(self._target, replace=self._replace)
        except OSError as exc:
            raise _local_error(self._info, self._target, exc) from None

    def discard(self) -> None:
        """Remove the temporary file (the target is left as it was)."""
        self._temp.discard()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows cannot open a folder for syncing)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# A media type with parameters (RFC 9110 section 8.3.1): nothing else is passed on to a browser.
_MEDIA_TYPE = rf'{_TCHARS}/{_TCHARS}(?:[ \t]*;[ \t]*{_TCHARS}=(?:{_TCHARS}|"[\t !#-\[\]-~]*"))*'


class _DownloadBase:
    """What both download flavours share: the headers' metadata and the read-once rule."""

    _usage = "use the download as a context manager"

    def _reset(self) -> None:
        self._response: httpx2.Response | None = None
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
        """The headers a web app sends on with the file, so a browser saves it under its name.

        `Content-Type` (the server's, when it is a well-formed media type, else
        `application/octet-stream`), `Content-Disposition` (`attachment`, or `inline=True`, with
        the safe filename: an ASCII `filename` and an RFC 6266 `filename*` for any other name),
        `Content-Length` when the server gave the file's own length (not for a body it
        compressed, which the SDK decodes), and `X-Content-Type-Options: nosniff`, so a browser
        does not guess a different type.
        """
        info = self._meta
        headers = {
            "Content-Type": info.content_type
            if re.fullmatch(_MEDIA_TYPE, info.content_type)
            else "application/octet-stream",
            "Content-Disposition": content_disposition(info.filename, inline=inline),
            "X-Content-Type-Options": "nosniff",
        }
        if info.content_length is not None and not info.coded:
            headers["Content-Length"] = str(info.content_length)
        return headers

    def _check_unopened(self) -> None:
        if self._opened:
            raise DownloadConsumedError("this download was already opened: each one sends its request once")
        self._opened = True

    def _take(self) -> httpx2.Response:
        if self._consumed or self._response is None or self._response.is_closed:
            raise DownloadConsumedError("this download's body was already read or closed: it can be read once")
        self._consumed = True
        return self._response


class Download(_DownloadBase):
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
        self._response = answer.response
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
        self, chunk_size: int | None = None, *, allow_close_delimited: bool = False, max_bytes: int | None = None
    ) -> Iterator[bytes]:
        """The file's bytes as they arrive; IncompleteDownloadError if the framing doesn't prove them whole.

        A body cut short, or close-delimited (no Content-Length, not chunked: a cut looks like the
        end) unless `allow_close_delimited=True`, raises after its last bytes. With `max_bytes`, a
        file larger than that raises DownloadTooLargeError: before its first byte when its
        Content-Length says so, else before the chunk that passes the limit. The download is
        closed when the iteration ends, however it ends, and by the iterator's `close()`, even
        before its first chunk (what a WSGI server calls when the browser goes away).
        """
        response = self._take()
        return _Body(self._stream(response, chunk_size, allow_close_delimited, max_bytes), self.close)

    def _stream(
        self, response: httpx2.Response, chunk_size: int | None, allow_close_delimited: bool, max_bytes: int | None
    ) -> Generator[bytes, None, None]:
        info = self._meta
        try:
            _check_max(info, max_bytes)
            chunks = _chunks(response, chunk_size)
            yield from chunks if max_bytes is None else _capped(chunks, info, max_bytes)
        except (httpx2.TransportError, DecodingError) as exc:
            raise _cut(info, response, exc) from None
        finally:
            self.close()
        _check_end(info, response.num_bytes_downloaded, allow_close_delimited=allow_close_delimited)

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
        saving = _Saving(self._meta, path_or_folder, fsync=fsync, overwrite=overwrite)
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
            self._on_close()
            self._on_close = None


class AsyncDownload(_DownloadBase):
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
        self._response = answer.response
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
        self, chunk_size: int | None = None, *, allow_close_delimited: bool = False, max_bytes: int | None = None
    ) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive; IncompleteDownloadError if the framing doesn't prove them whole.

        `allow_close_delimited` and `max_bytes` as in `Download.iter_bytes`; the download is
        closed when the iteration ends, however it ends, and by the iterator's `aclose()`, even
        before its first chunk.
        """
        response = self._take()
        return _AsyncBody(self._stream(response, chunk_size, allow_close_delimited, max_bytes), self.close)

    async def _stream(
        self, response: httpx2.Response, chunk_size: int | None, allow_close_delimited: bool, max_bytes: int | None
    ) -> AsyncGenerator[bytes, None]:
        info = self._meta
        total = 0
        try:
            _check_max(info, max_bytes)
            async for chunk in _achunks(response, chunk_size):
                if max_bytes is not None:
                    total = _counted(info, max_bytes, total, chunk)
                yield chunk
        except (httpx2.TransportError, DecodingError) as exc:
            raise _cut(info, response, exc) from None
        finally:
            await self.close()
        _check_end(info, response.num_bytes_downloaded, allow_close_delimited=allow_close_delimited)

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
        saving = _Saving(self._meta, path_or_folder, fsync=fsync, overwrite=overwrite)
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
