"""What a file agent returns (`AgentFile`), and the answer's head made from it: name, media type, length.

A file agent's function returns bytes or an `AgentFile`, or is a generator that yields bytes; the
host streams the bytes as the answer to the trigger's delivery, with the headers the contract asks
for (`Content-Type`, `Content-Disposition`, and `Content-Length` when the length is known).
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from .. import _config as check
from .._download._filenames import content_disposition
from .._errors import InvalidArgumentError, InvalidArgumentTypeError

DEFAULT_FILENAME = "output.bin"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
READ_SIZE = 256 * 1024  # a chunk read from a path, or sliced from bytes
MAX_FILENAME = 255

Content = bytes | Iterable[bytes] | AsyncIterable[bytes]


class InvalidOutputError(Exception):
    """A file agent made no file fit to send (not bytes, or a length its bytes do not match): the run fails with it."""


@attrs.frozen(repr=False)
class AgentFile:
    """A file agent's file: its bytes (whole, or a sync or async iterable of chunks), name, media type and length.

    Examples:
        >>> @runtime.file_agent("report")                                   # doctest: +SKIP
        ... async def report(run: RunContext) -> AgentFile:
        ...     rows = ",".join(run.input["columns"]).encode()
        ...     return AgentFile(rows, filename="report.csv", content_type="text/csv")

    Attributes:
        content: The bytes, or an iterable (sync or async) of bytes chunks.
        filename: The file's name for the caller (`Content-Disposition`); None: the agent's default.
        content_type: The file's media type; None: the agent's default.
        length: The size in bytes, when known (`Content-Length`): a file that ends short of it, or
            runs past it, fails the run. Whole bytes have theirs.
    """

    content: Content
    filename: str | None = None
    content_type: str | None = None
    length: int | None = None

    def __repr__(self) -> str:
        return f"AgentFile(filename={self.filename!r}, content_type={self.content_type!r}, length={self.length})"

    @classmethod
    def from_path(
        cls, path: str | os.PathLike[str], *, filename: str | None = None, content_type: str | None = None
    ) -> AgentFile:
        """A file on disk, read in chunks as it is sent: its name, media type (guessed) and size are the defaults.

        Raises:
            FileNotFoundError: No file at `path`.
        """
        source = Path(path)
        size = source.stat().st_size
        guessed = mimetypes.guess_type(source.name)[0]
        return cls(
            _read_chunks(source),
            filename=filename if filename is not None else source.name,
            content_type=content_type or guessed,
            length=size,
        )


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(READ_SIZE):
            yield chunk


@attrs.frozen
class FileHead:
    """The head of a file's answer: its headers, checked, and its length when known."""

    headers: tuple[tuple[str, str], ...]
    length: int | None


def file_defaults(filename: object, content_type: object) -> tuple[str, str]:
    """A file agent's default name and media type, checked when it is declared.

    Raises:
        InvalidArgumentError: A name over MAX_FILENAME characters or empty, or a media type that is
            no header value.
        InvalidArgumentTypeError: Either is no str.
    """
    name = check.text(filename, "filename", MAX_FILENAME)
    return name, check.header_value(content_type, "content_type", 255)


def file_of(result: Any, filename: str, content_type: str) -> AgentFile:
    """The AgentFile a file agent's function made (its return value, or its generator), with the agent's defaults.

    Raises:
        InvalidOutputError: The function made no file.
    """
    made: AgentFile
    if isinstance(result, AgentFile):
        made = result
    elif isinstance(result, bytes | bytearray | memoryview):
        made = AgentFile(bytes(result))
    elif isinstance(result, str | Mapping) or not isinstance(result, Iterable | AsyncIterable):
        raise InvalidOutputError(
            f"a file agent returns bytes or an AgentFile, or yields bytes, not {type(result).__name__}"
        )
    else:
        made = AgentFile(result)
    if isinstance(made.content, bytes | bytearray | memoryview):
        whole = bytes(made.content)
        if made.length is not None and made.length != len(whole):
            raise InvalidOutputError(f"the file's length says {made.length} bytes, its content has {len(whole)}")
        made = attrs.evolve(made, content=whole, length=len(whole))
    return attrs.evolve(made, filename=made.filename or filename, content_type=made.content_type or content_type)


def head_of(file: AgentFile) -> FileHead:
    """The answer's headers for `file`.

    Raises:
        InvalidOutputError: A name, media type or length that is no fit for a header.
    """
    name = file.filename or DEFAULT_FILENAME
    if not isinstance(name, str) or len(name) > MAX_FILENAME:
        raise InvalidOutputError(f"a file's name is a str of at most {MAX_FILENAME} characters")
    try:
        media = check.header_value(file.content_type or DEFAULT_CONTENT_TYPE, "content_type", 255)
        length = None if file.length is None else check.non_negative_int(file.length, "length")
    except (InvalidArgumentError, InvalidArgumentTypeError) as exc:
        raise InvalidOutputError(str(exc)) from None
    headers = [("content-type", media), ("content-disposition", content_disposition(name))]
    if length is not None:
        headers.append(("content-length", str(length)))
    return FileHead(tuple(headers), length)


def sliced(content: bytes) -> Iterator[bytes]:
    """Whole bytes as chunks of READ_SIZE (so that one send is never the whole file)."""
    view = memoryview(content)
    for start in range(0, len(content), READ_SIZE):
        yield bytes(view[start : start + READ_SIZE])


def checked_chunk(chunk: object) -> bytes:
    """A chunk the function yielded, as bytes.

    Raises:
        InvalidOutputError: It is no bytes.
    """
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    raise InvalidOutputError(f"a file agent yields bytes, not {type(chunk).__name__}")
