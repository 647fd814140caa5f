"""Content-Encoding, decoded with bounded memory: gzip and deflate, at most two of them stacked.

httpx decodes a whole network read at once, so 64 KiB of gzip on the wire can become 64 MiB in
memory before anyone counts it, and `gzip, gzip` multiplies that again. Here every stage yields
pieces of at most `PIECE` bytes, so the caller's limit is checked as the bytes are decoded.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

# The most bytes one decoding step produces before the caller sees them.
PIECE = 64 << 10
# More stacked codings than this are refused: no server of the platform sends more than one.
MAX_CODINGS = 2
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class DecodingError(Exception):
    """The body's Content-Encoding is not one we decode, or its bytes are not what it says."""


class _Stage:
    """One coding's decompressor; deflate falls back to raw deflate, as browsers and httpx do."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._wbits = _WBITS[coding]
        self._inflate = zlib.decompressobj(self._wbits)
        self._started = False
        # Deflate's input until its first output: replayed as raw deflate if the zlib header is wrong.
        self._seen = b"" if coding == "deflate" else None

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of `data`, each at most PIECE bytes."""
        self._started = self._started or bool(data)
        while True:
            try:
                out = self._inflate.decompress(data, PIECE)
            except zlib.error as exc:
                if self._seen is not None and self._wbits > 0:
                    data, self._seen = self._seen + data, None
                    self._wbits = -zlib.MAX_WBITS
                    self._inflate = zlib.decompressobj(self._wbits)
                    continue
                raise DecodingError(f"the body is not valid {self._coding}: {exc}") from None
            if self._seen is not None:
                self._seen = None if out else self._seen + data[: len(data) - len(self._inflate.unconsumed_tail)]
            data = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:  # another gzip member follows
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(self._wbits)
            if out:
                yield out
            if not data and len(out) < PIECE:
                return

    def finish(self) -> Iterator[bytes]:
        """What is left; DecodingError when the encoded stream stopped before its end."""
        if not self._started:
            return
        rest = self._inflate.flush()
        if rest:
            yield rest
        if not self._inflate.eof:
            raise DecodingError(f"the body's {self._coding} stream ends before its end marker")


def codings(content_encoding: str | None) -> list[str]:
    """The codings to undo, in the order to undo them; DecodingError for one we do not decode."""
    names = [name.strip().lower() for name in (content_encoding or "").split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > MAX_CODINGS:
        raise DecodingError(f"the body has {len(names)} content codings stacked; at most {MAX_CODINGS} are decoded")
    for name in names:
        if name not in _WBITS:
            raise DecodingError(f"the body's content coding {name[:40]!r} is not one the SDK asked for")
    return names[::-1]


class Decoder:
    """Undoes a body's Content-Encoding piece by piece (no coding: the bytes as they are)."""

    def __init__(self, content_encoding: str | None) -> None:
        self._stages = [_Stage(name) for name in codings(content_encoding)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw bytes."""
        return self._through(0, data)

    def finish(self) -> Iterator[bytes]:
        """The last decoded pieces, once the raw body ended; DecodingError when a coding is cut short."""
        for index, stage in enumerate(self._stages):
            for piece in stage.finish():
                yield from self._through(index + 1, piece)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[index].decode(data):
            yield from self._through(index + 1, piece)
