"""What both download flavours share: the progress callback's type, the headers' metadata, the read-once rule.

`Download` (`_stream`) and `AsyncDownload` (`_async_stream`) are this, with the I/O of their flavour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, cast

from .._core._engine import Answer
from .._errors import DownloadConsumedError
from . import _body as body
from ._body import DownloadInfo

Progress = Callable[[int, int | None], None]
"""A progress callback: (bytes received so far, total or None when unknown), both as sent on the wire.

The unit is the one Content-Length counts: for a file sent as it is (what the platform does), the
file's own bytes; for one a server compressed anyway, its compressed bytes, so done never passes
the total.
"""


class _Closable(Protocol):
    @property
    def is_closed(self) -> bool: ...


R = TypeVar("R", bound=_Closable)


class DownloadBase(Generic[R]):
    """What both download flavours share: the headers' metadata and the read-once rule."""

    _usage: str  # how to open it, for the error of reading one that is not open

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

    def _read_headers(self, answer: Answer) -> None:
        """Hold the answer's response, then read its headers (InvalidResponseError: the caller closes it)."""
        self._response = cast("R", answer.response)  # the client's flavour: httpx2's, or for async aiohttp's
        self._info = DownloadInfo.of(answer)

    def _check_unopened(self) -> None:
        if self._opened:
            raise DownloadConsumedError("this download was already opened: each one sends its request once")
        self._opened = True

    def _take(self) -> R:
        if self._consumed or self._response is None or self._response.is_closed:
            raise DownloadConsumedError("this download's body was already read or closed: it can be read once")
        self._consumed = True
        return self._response
