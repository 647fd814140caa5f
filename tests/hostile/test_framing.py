"""Framing: a download is saved only when its framing proves it whole (length, chunked end, or coding's end)."""

import gzip
from pathlib import Path

from hostile.hostile_server import FILE_HEADERS, HostileServer, both, perform, response, save_download, send

from cxpa_sdk import IncompleteDownloadError

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
