"""Framing: a download is saved only when its framing proves it whole (length, chunked end, or coding's end)."""

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile.hostile_server import (
    FILE_HEADERS,
    HostileServer,
    Outcome,
    assert_applied,
    both,
    perform,
    response,
    save_download,
    send,
)

from cxpa_sdk import APIConnectionError, AsyncCxpa, CxpaError, IncompleteDownloadError, InvalidResponseError

FILE = bytes(range(256)) * 20  # 5,120 bytes


def close_delimited(body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """An HTTP/1.0 answer with no Content-Length and no chunking: the body ends when the server closes."""
    return response(200, body, {**FILE_HEADERS, **(headers or {})}, length=False).replace(b"HTTP/1.1", b"HTTP/1.0", 1)


@both
def test_a_close_delimited_file_is_refused_by_default(mode: str, tmp_path: Path) -> None:
    """Complete or absent: an HTTP/1.0 file closed after 1,000 of its 5,120 bytes is not saved as complete."""
    with HostileServer(send(close_delimited(FILE[:1000]))) as server:
        outcome = perform(mode, server, save_download(tmp_path))
    outcome.raised(IncompleteDownloadError)
    assert "allow_close_delimited=True" in str(outcome.error)
    assert outcome.error.received == 1000
    assert list(tmp_path.iterdir()) == [], "an unproven file was left behind"


@both
def test_a_close_delimited_file_is_saved_when_allowed(mode: str, tmp_path: Path) -> None:
    """Complete or absent: with allow_close_delimited=True, the bytes up to the close are the file, as asked."""
    with HostileServer(send(close_delimited(FILE))) as server:
        outcome = perform(mode, server, save_download(tmp_path, save_options={"allow_close_delimited": True}))
    assert outcome.error is None, outcome.describe()
    assert (tmp_path / "report.pdf").read_bytes() == FILE


@both
def test_a_close_delimited_gzip_file_is_proven_by_its_end_marker(mode: str, tmp_path: Path) -> None:
    """Complete or absent: a close-delimited gzip file is saved when its gzip end arrives, refused when cut."""
    coded = gzip.compress(FILE * 40)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir()
    cut.mkdir()
    with HostileServer(send(close_delimited(coded, {"Content-Encoding": "gzip"}))) as server:
        saved = perform(mode, server, save_download(whole))
    assert saved.error is None, saved.describe()
    assert (whole / "report.pdf").read_bytes() == FILE * 40
    with HostileServer(send(close_delimited(coded[: len(coded) // 2], {"Content-Encoding": "gzip"}))) as server:
        refused = perform(mode, server, save_download(cut))
    refused.raised(IncompleteDownloadError)
    assert list(cut.iterdir()) == []


# Framing that contradicts itself -----------------------------------------------------------------

READERS = ["save", "read", "iter_bytes"]
NOT_HTTP = "the answer is not valid HTTP/1.1"  # aiohttp's refusal of a head: by design it names no header


def take(how: str, folder: Path) -> Callable[[Any], Any]:
    """An action that opens a download and takes its body one way: `save(folder)`, `read()` or `iter_bytes()`."""
    if how == "save":
        return save_download(folder)

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def body() -> object:
                async with client.trigger_run_and_download(4, {}) as download:
                    if how == "read":
                        return await download.read()
                    return [chunk async for chunk in download.iter_bytes()]

            return body()
        with client.trigger_run_and_download(4, {}) as download:
            return download.read() if how == "read" else list(download.iter_bytes())

    return action


def chunked(body: bytes, size: int = 700) -> bytes:
    """`body` in chunked framing: chunks of `size` bytes (the last shorter), then the last chunk."""
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def assert_refused(
    outcome: Outcome, server: HostileServer, cls: type[CxpaError], says: str, applied: bool | None
) -> Any:
    """Assert the call raised exactly `cls` saying `says`, with `applied` and the key of its one trigger."""
    error = outcome.raised(cls)
    assert type(error) is cls, outcome.describe()
    assert says in str(error), f"{str(error)!r} does not say {says!r}"
    assert_applied(error, applied)
    assert server.paths == ["/api/agents/4/runs/trigger-and-download"]
    assert error.idempotency_key is not None, "a retry with the same key is what makes 'may have been applied' safe"
    assert error.idempotency_key == server.header("idempotency-key")[0]
    return error


def with_lengths(body: bytes, *lengths: str) -> bytes:
    """A 200 download answer with these Content-Length headers, in order, whatever the body's length."""
    return response(200, body, [*FILE_HEADERS.items(), *(("Content-Length", length) for length in lengths)])


CONFLICTING_LENGTHS = {
    "two_headers_body_1000": with_lengths(FILE[:1000], "1000", "5000"),
    "two_headers_body_5000": with_lengths(FILE[:5000], "1000", "5000"),
    "one_list_body_1000": with_lengths(FILE[:1000], "1000, 5000"),
    "one_list_body_5000": with_lengths(FILE[:5000], "1000, 5000"),
}


@both
@pytest.mark.parametrize("how", READERS)
@pytest.mark.parametrize("answer", sorted(CONFLICTING_LENGTHS))
def test_a_download_with_two_different_lengths_is_refused(mode: str, how: str, answer: str, tmp_path: Path) -> None:
    """Complete or absent: a download whose Content-Lengths disagree is refused (may have been applied), none saved."""
    with HostileServer(send(CONFLICTING_LENGTHS[answer])) as server:
        outcome = perform(mode, server, take(how, tmp_path))
    says = NOT_HTTP if mode == "async-aiohttp" else "conflicting Content-Length headers"
    assert_refused(outcome, server, APIConnectionError, says, None)
    assert list(tmp_path.iterdir()) == [], "a file, or its temporary file, was left behind"


def length_and_chunked(length: int, *, chunked_first: bool = False) -> bytes:
    """A 200 download answer with `Content-Length: length` and chunked framing of FILE (5,120 bytes decoded)."""
    framing = [("Content-Length", str(length)), ("Transfer-Encoding", "chunked")]
    return response(200, chunked(FILE), [*FILE_HEADERS.items(), *(framing[::-1] if chunked_first else framing)])


LENGTH_AND_CHUNKED = {
    "length_1000_of_5120": length_and_chunked(1000),
    "chunked_first_length_1000_of_5120": length_and_chunked(1000, chunked_first=True),
    "length_5120_of_5120": length_and_chunked(len(FILE)),
    "length_9000_of_5120": length_and_chunked(9000),
}


@both
@pytest.mark.parametrize("how", READERS)
@pytest.mark.parametrize("answer", sorted(LENGTH_AND_CHUNKED))
def test_a_download_with_a_length_and_chunked_framing_is_refused(
    mode: str, how: str, answer: str, tmp_path: Path
) -> None:
    """Complete or absent: a download framed by both Content-Length and chunking is refused before a byte, none saved.

    RFC 9112 section 6.3: such a message ought to be handled as an error; it is the shape of request
    smuggling, and a forwarded body would not match the length its headers announce.
    """
    with HostileServer(send(LENGTH_AND_CHUNKED[answer])) as server:
        outcome = perform(mode, server, take(how, tmp_path))
    if mode == "async-aiohttp":  # aiohttp's parser refuses the head itself
        assert_refused(outcome, server, APIConnectionError, NOT_HTTP, None)
    else:  # h11 reads the head (the chunking overrides the length); the SDK refuses it before the body
        assert_refused(outcome, server, InvalidResponseError, "both Content-Length and Transfer-Encoding", True)
    assert list(tmp_path.iterdir()) == [], "a file, or its temporary file, was left behind"
