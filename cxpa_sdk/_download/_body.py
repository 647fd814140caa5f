"""A download's answer: what its headers say, what proves its body whole, and its chunks read with bounded memory.

`DownloadInfo.of` reads the headers (a bad one is InvalidResponseError before a byte is read);
`forward_headers` writes the ones a web app sends on to a browser; `chunks` and `achunks` give the
body decoded (when a server encoded it anyway) in pieces of at most 64 KiB, within an idle bound;
`check_end` refuses a body its framing does not prove whole; `check_max` and `counted` keep a file
under `max_bytes`. Pure functions over an httpx2 response: the download classes do the I/O.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, NamedTuple, TypedDict

import httpx2

from .._config import is_run_id, seconds
from .._core._decoding import Decoder, DecodingError
from .._core._engine import Answer
from .._errors import (
    DownloadTooLargeError,
    IncompleteDownloadError,
    InvalidArgumentError,
    InvalidResponseError,
    answer_request_id,
    mask,
)
from .._http._reply import AsyncReply
from ._filenames import content_disposition, filename_from_disposition, safe_filename

# h11's own limit: a Content-Length of more digits (over 10**20 bytes) is no file's size.
_MAX_LENGTH_DIGITS = 20


class RunFacts(TypedDict):
    """What every error of a download's own says of its call: the run happened, after these attempts."""

    run_id: str
    attempts: int
    idempotency_key: str | None
    applied: bool


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

    def facts(self) -> RunFacts:
        """The run and the call's attempts and key, for an error of this download's (the run happened)."""
        return RunFacts(run_id=self.run_id, attempts=self.attempts, idempotency_key=self.idempotency_key, applied=True)

    @classmethod
    def of(cls, answer: Answer) -> DownloadInfo:
        """Read from a 200 trigger-and-download answer; InvalidResponseError when a header is missing or bad.

        Text from the server (run id, filename, request id) has the call's secrets masked.
        """
        # httpx2's or aiohttp's headers (`_aiohttp.ReplyHeaders`): case-insensitive, a repeated one's values joined
        headers: Any = answer.response.headers
        secrets = answer.secrets
        request_id = answer_request_id(headers.get("x-request-id"), secrets)
        run_id = mask(headers.get("x-run-id"), secrets)
        common: dict[str, Any] = {
            "attempts": answer.attempts,
            "idempotency_key": answer.idempotency_key,
            "applied": True,
        }
        if not run_id:
            raise InvalidResponseError(
                "the download answer has no X-Run-Id header", status_code=200, request_id=request_id, **common
            )
        if not is_run_id(run_id):  # a repeated header arrives joined with ", ": no run id either
            raise InvalidResponseError(
                f"the download answer's X-Run-Id is not a run id (1 to 128 visible ASCII characters, not . or ..): "
                f"{run_id[:40]!r}",
                status_code=200,
                request_id=request_id,
                **common,
            )
        length = headers.get("content-length")
        if length is not None and "transfer-encoding" in headers:
            raise InvalidResponseError(
                f"run {run_id}: the download answer has both Content-Length and Transfer-Encoding, so its framing "
                "cannot be trusted (RFC 9112 section 6.3); nothing was read",
                status_code=200,
                request_id=request_id,
                **common,
            )
        if length is not None and not (length.isascii() and length.isdigit() and len(length) <= _MAX_LENGTH_DIGITS):
            raise InvalidResponseError(
                f"the download answer's Content-Length is not a size: {mask(length[:40], secrets)!r}",
                status_code=200,
                request_id=request_id,
                **common,
            )
        name = mask(filename_from_disposition(headers.get("content-disposition")), secrets)
        return cls(
            run_id=run_id,
            filename=safe_filename(name, f"{safe_filename(run_id, 'download')}.bin"),
            content_type=mask(headers.get("content-type"), secrets) or "application/octet-stream",
            content_length=None if length is None else int(length),
            server_filename=name,
            proven_by=_proof(headers),
            coded=headers.get("content-encoding", "identity").strip().lower() != "identity",
            attempts=answer.attempts,
            idempotency_key=answer.idempotency_key,
            secrets=secrets,
            request_id=request_id,
        )


def _incomplete(info: DownloadInfo, received: int, why: str) -> IncompleteDownloadError:
    expected = "an unknown number" if info.content_length is None else str(info.content_length)
    return IncompleteDownloadError(
        f"download of run {info.run_id} incomplete: {received} of {expected} bytes arrived ({mask(why, info.secrets)})",
        received=received,
        expected=info.content_length,
        **info.facts(),
    )


def cut(
    info: DownloadInfo, response: httpx2.Response | AsyncReply, exc: Exception, idle_timeout: float | None = None
) -> IncompleteDownloadError:
    """The error for a body cut short by its connection (named by class) or its coding (by what it says).

    A read timeout under an idle bound says so: the platform sent nothing for `idle_timeout` seconds
    (or the call's deadline passed, which the same timeout reports).
    """
    why = str(exc) if isinstance(exc, DecodingError) else type(exc).__name__
    if idle_timeout is not None and isinstance(exc, httpx2.ReadTimeout):
        why += f": no byte for idle_timeout={idle_timeout:g} s, or the call's deadline passed"
    return _incomplete(info, response.num_bytes_downloaded, why)


def _proof(headers: Any) -> str:
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


def check_end(info: DownloadInfo, received: int, *, allow_close_delimited: bool) -> None:
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
        **info.facts(),
    )


def check_max(info: DownloadInfo, max_bytes: int | None) -> None:
    """Refuse up front a file whose Content-Length is over `max_bytes` (a coded body's length is not the file's)."""
    if max_bytes is None:
        return
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise InvalidArgumentError(f"max_bytes must be a whole number of bytes >= 0 or None, not {max_bytes!r}")
    if info.content_length is not None and not info.coded and info.content_length > max_bytes:
        raise _too_large(info, max_bytes, 0)


def counted(info: DownloadInfo, max_bytes: int, total: int, chunk: bytes) -> int:
    """`total` plus the chunk's bytes; DownloadTooLargeError when that passes `max_bytes`."""
    if total + len(chunk) > max_bytes:
        raise _too_large(info, max_bytes, total)
    return total + len(chunk)


_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# A media type with parameters (RFC 9110 section 8.3.1): nothing else is passed on to a browser.
_MEDIA_TYPE = rf'{_TCHARS}/{_TCHARS}(?:[ \t]*;[ \t]*{_TCHARS}=(?:{_TCHARS}|"[\t !#-\[\]-~]*"))*'
MAX_CONTENT_TYPE_BYTES = 256
"""The longest Content-Type passed on to a browser (RFC 6838 names are at most 127 + 1 + 127 bytes); a
longer one, which a proxy's header buffer may refuse (nginx: 502 "upstream sent too big header"),
goes on as application/octet-stream."""
CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'"
"""Sent with every forwarded file: shown in a browser, it runs no script, has no origin (so no cookie,
no storage, no request as the app), and loads nothing."""
# What may be shown inline: types a browser displays without running anything of the file's. (Audio
# and video are not: under the sandbox, Chromium's media page cannot load them.)
_INLINE_TYPES = frozenset(
    {
        "application/pdf",
        "image/avif",
        "image/bmp",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "text/plain",
    }
)
# The JavaScript MIME type essences (WHATWG MIME Sniffing, section 4.6): a browser runs any of them as a
# script, and so a worker, from the app's origin.
_SCRIPT_TYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/x-ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/javascript",
        "text/javascript1.0",
        "text/javascript1.1",
        "text/javascript1.2",
        "text/javascript1.3",
        "text/javascript1.4",
        "text/javascript1.5",
        "text/jscript",
        "text/livescript",
        "text/x-ecmascript",
        "text/x-javascript",
    }
)
# Documents that can carry scripts (HTML; XML, which holds XHTML, SVG and XSLT), and stylesheets.
_DOCUMENT_TYPES = frozenset({"text/html", "text/xml", "application/xml", "text/xsl", "text/css"})


def _essence(content_type: str) -> str:
    """The media type without its parameters, lower-cased: `text/html; charset=utf-8` is `text/html`."""
    return content_type.partition(";")[0].strip().lower()


def _is_active(content_type: str) -> bool:
    """Whether a browser may run something of a file of this type: a script, a document, a stylesheet, XML."""
    essence = _essence(content_type)
    return essence in _SCRIPT_TYPES or essence in _DOCUMENT_TYPES or essence.endswith("+xml")


def _forwarded_type(content_type: str) -> str:
    """The Content-Type to send a browser: the server's, unless it is malformed, too long or active.

    Well-formed (RFC 9110), at most MAX_CONTENT_TYPE_BYTES and not `_is_active`: passed on as it came.
    Anything else: `application/octet-stream`, which no browser runs, shows or applies.
    """
    if len(content_type) > MAX_CONTENT_TYPE_BYTES or not re.fullmatch(_MEDIA_TYPE, content_type):
        return "application/octet-stream"
    return "application/octet-stream" if _is_active(content_type) else content_type


def forward_headers(info: DownloadInfo, *, inline: bool) -> dict[str, str]:
    """The headers a web app sends on with the file: each one bounded, none that lets the file act as the app.

    `inline` is honoured only for a type on the passive list (`_INLINE_TYPES`); any other file is an
    `attachment`, which a browser saves. Every file gets `nosniff` and the sandbox policy.
    """
    content_type = _forwarded_type(info.content_type)
    shown = inline and _essence(content_type) in _INLINE_TYPES
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(info.filename, inline=shown),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    }
    if info.content_length is not None and not info.coded:
        headers["Content-Length"] = str(info.content_length)
    return headers


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


def chunks(response: httpx2.Response, chunk_size: int | None, idle_timeout: float | None = None) -> Iterator[bytes]:
    """The body's bytes: raw (no copy) when not content-encoded, else decoded with bounded memory; idle-bounded.

    httpx decodes a whole network read at once (64 KiB of gzip can become 64 MiB); the SDK's decoder
    yields at most 64 KiB at a time, so a compressed body costs no more memory than a plain one. With
    `idle_timeout`, a wait of that many seconds for the platform's next bytes raises httpx2.ReadTimeout
    (`_bound_idle`).
    """
    _bound_idle(response, idle_timeout)
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


async def achunks(
    response: AsyncReply, chunk_size: int | None, idle_timeout: float | None = None
) -> AsyncIterator[bytes]:
    """The async twin of `chunks` (the decoding and regrouping are the same pure functions), idle-bounded.

    With `idle_timeout`, a wait of that many seconds for the platform's next bytes ends the body with
    httpx2.ReadTimeout (`_within_idle`).
    """
    encoding = response.headers.get("content-encoding")
    decoder = None if encoding is None else Decoder(encoding)
    rechunk = _Rechunk(chunk_size)
    async for chunk in _within_idle(response.aiter_raw(), idle_timeout):
        for piece in rechunk.add((chunk,) if decoder is None else decoder.feed(chunk)):
            yield piece
    for piece in rechunk.add(() if decoder is None else decoder.finish()):
        yield piece
    for piece in rechunk.rest():
        yield piece


DEFAULT_IDLE_TIMEOUT_S = 10.0
"""How long a forwarded body (`iter_bytes`) waits for the platform's next bytes before it ends, failed.

A file the platform streams comes without pauses once its headers are sent; 10 s of silence is a
stall. It is also the longest a WSGI app stays tied to a browser that left while the platform is
silent: such a server notices the browser is gone only on its next write."""


def check_idle(idle_timeout: float | None) -> float | None:
    """`idle_timeout` checked: None, or a positive number of seconds (at most a year)."""
    return None if idle_timeout is None else seconds(idle_timeout, "idle_timeout")


def _bound_idle(response: httpx2.Response, idle_timeout: float | None) -> None:
    """Make each read of the body wait at most `idle_timeout` seconds for its bytes (None: leave the read timeout).

    httpcore takes a body's read timeout from its request's `timeout` extension when the body's first
    read starts, and waits that long for each read: call this before it. A read that waits longer
    raises httpx2.ReadTimeout.
    """
    if idle_timeout is None:
        return
    extensions = response.request.extensions
    timeouts: dict[str, float | None] = extensions.get("timeout", {})
    read = timeouts.get("read")
    extensions["timeout"] = {**timeouts, "read": idle_timeout if read is None else min(read, idle_timeout)}


async def _within_idle(pieces: AsyncIterator[bytes], idle_timeout: float | None) -> AsyncIterator[bytes]:
    """The pieces, each awaited for at most `idle_timeout` seconds (None: as long as they take).

    A wait that runs out cancels the read (its connection is closed) and raises httpx2.ReadTimeout.
    """
    if idle_timeout is None:
        async for piece in pieces:
            yield piece
        return
    import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

    while True:
        bound = asyncio.timeout(idle_timeout)
        try:
            async with bound:
                piece = await anext(pieces)
        except StopAsyncIteration:
            return
        except TimeoutError:
            if not bound.expired():
                raise
            raise httpx2.ReadTimeout(f"no byte for {idle_timeout:g} s") from None
        yield piece
