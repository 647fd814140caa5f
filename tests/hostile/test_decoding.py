"""Bounded decompression: no coded answer is inflated past the answer limit, in the answer or in memory.

A gzip of a gzip of 1 GiB of zeros is 2.5 KiB; a call with `max_answer_bytes=1 MiB` refuses it
with an InvalidResponseError (applied True for a 2xx), and Python's memory peak during the call
stays under the limit plus 4 MiB. Stacking more than two codings is refused outright.
"""

import functools
import gzip
import itertools
import json
from pathlib import Path

import pytest
from hostile.hostile_server import (
    CALLS,
    FILE_HEADERS,
    HostileServer,
    assert_applied,
    both,
    gzip_of_zeros,
    gzip_stream,
    gzipped,
    perform,
    response,
    save_download,
    send,
)

from cxpa_sdk import CxpaError, DownloadTooLargeError, IncompleteDownloadError, InvalidResponseError
from cxpa_sdk._core._engine import DEFAULT_MAX_ANSWER_BYTES

LIMIT = 1 << 20
MARGIN = 4 << 20
OK_JSON = json.dumps({"runId": "run_1", "status": "queued"}).encode()


@functools.cache
def bomb(size: int, layers: int) -> bytes:
    """`layers` gzip codings of `size` zero bytes, built in pieces (1 GiB never in memory)."""
    pieces = gzip_of_zeros(size)
    data = b"".join(pieces) if layers == 1 else gzip_stream(pieces)
    return gzipped(data, layers - 2) if layers > 2 else data


def coded(status: int, body: bytes, coding: str) -> bytes:
    """A JSON-labelled answer with a Content-Encoding."""
    return response(status, body, {"Content-Type": "application/json", "Content-Encoding": coding})


def bounded(peak: int | None, limit: int) -> None:
    """Assert the call's memory peak stayed under the answer limit plus the margin."""
    assert peak is not None
    assert peak <= limit + MARGIN, f"the call's memory peak was {peak / 2**20:.1f} MiB, over {limit + MARGIN >> 20} MiB"


BOMBS = {
    "gzip_gzip_1GiB": (bomb(1 << 30, 2), "gzip, gzip"),
    "gzip_512MiB": (bomb(512 << 20, 1), "gzip"),
}


@both
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_decompression_bomb_is_refused_in_bounded_memory(mode: str, name: str) -> None:
    """Bounded memory: a 2xx gzip bomb is an InvalidResponseError (applied True), memory under limit + 4 MiB."""
    body, coding = BOMBS[name]
    with HostileServer(send(coded(202, body, coding))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, memory=True, max_answer_bytes=LIMIT)
    bounded(outcome.peak, LIMIT)
    outcome.raised(InvalidResponseError)
    assert_applied(outcome.error, True)


@both
def test_a_decompression_bomb_in_an_error_answer_is_bounded(mode: str) -> None:
    """Bounded memory: a 503 whose body is a gzip bomb gives a CxpaError, memory under limit + 4 MiB."""
    body, coding = BOMBS["gzip_512MiB"]
    with HostileServer(send(coded(503, body, coding))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, memory=True, max_answer_bytes=LIMIT)
    bounded(outcome.peak, LIMIT)
    outcome.raised(CxpaError)


@both
def test_an_agent_call_decompression_bomb_is_bounded(mode: str) -> None:
    """Bounded memory: an agent callback answered with a gzip bomb is refused under the default limit + 4 MiB."""
    body, coding = BOMBS["gzip_512MiB"]
    with HostileServer(send(coded(200, body, coding))) as server:
        outcome = perform(mode, server, CALLS["agent_complete"].action, agent=True, memory=True)
    bounded(outcome.peak, DEFAULT_MAX_ANSWER_BYTES)
    outcome.raised(InvalidResponseError)


@both
@pytest.mark.parametrize("layers", [3, 5])
def test_more_than_two_stacked_codings_are_refused(mode: str, layers: int) -> None:
    """Bounded decompression: a valid 202 under 3 or more stacked gzip codings is an InvalidResponseError."""
    answer = coded(202, gzipped(OK_JSON, layers), ", ".join(["gzip"] * layers))
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action)
    outcome.raised(InvalidResponseError)
    assert_applied(outcome.error, True)


LYING = {
    "br": (b"\x8b\x02\x80 not brotli", "br"),
    "zstd": (b"\x28\xb5\x2f\xfd not zstd", "zstd"),
    "unknown_coding": (OK_JSON, "x-hostile"),
    "gzip_that_is_not_gzip": (OK_JSON, "gzip"),
    "deflate_that_is_not_deflate": (OK_JSON, "deflate"),
    "gzip_cut_short": (gzipped(OK_JSON)[:-12], "gzip"),
    "gzip_then_junk": (gzipped(OK_JSON) + b"junk after the gzip member", "gzip"),
}


@both
@pytest.mark.parametrize("name", sorted(LYING))
def test_a_coding_not_asked_for_or_not_true_is_refused(mode: str, name: str) -> None:
    """Bounded decompression: br, zstd, an unknown coding, or bytes that are not their coding: InvalidResponseError."""
    body, coding = LYING[name]
    with HostileServer(send(coded(202, body, coding))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action)
    outcome.raised(InvalidResponseError)
    assert_applied(outcome.error, True)


@both
def test_a_coded_download_is_bounded(mode: str, tmp_path: Path) -> None:
    """Bounded memory: a download gzip-coded though identity was asked is saved whole or refused, in bounded memory."""
    size = 64 << 20
    answer = response(200, b"".join(gzip_of_zeros(size)), {**FILE_HEADERS, "Content-Encoding": "gzip"})
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, save_download(tmp_path), memory=True)
    bounded(outcome.peak, DEFAULT_MAX_ANSWER_BYTES)
    saved = list(tmp_path.iterdir())
    if outcome.error is None:
        assert [path.stat().st_size for path in saved] == [size], f"saved {saved}"
    else:
        outcome.raised(CxpaError)
        assert saved == [], f"a refused download left {saved}"


@both
@pytest.mark.parametrize(("coding", "layers"), [("gzip", 1), ("gzip, gzip", 2), ("identity", 0)])
def test_an_honest_coded_answer_is_decoded(mode: str, coding: str, layers: int) -> None:
    """Bounded decompression: one or two gzip codings of a valid 202 within the limit still give the result."""
    with HostileServer(send(coded(202, gzipped(OK_JSON, layers), coding))) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, max_answer_bytes=LIMIT)
    assert outcome.error is None, outcome.describe()
    assert outcome.value.run_id == "run_1"


def endless(head: bytes, piece: bytes, pieces: int):
    """A handler that sends `head`, then `piece` up to `pieces` times (until the client stops reading)."""

    def handler(conn, request, stop) -> None:
        conn.sendall(head)
        for _ in itertools.repeat(None, pieces):
            if stop.is_set():
                return
            conn.sendall(piece)

    return handler


CHUNK = b"%x\r\n%s\r\n" % (1 << 16, b" " * (1 << 16))
HUGE = {
    "64MiB_with_content_length": endless(
        response(202, headers={"Content-Type": "application/json", "Content-Length": str(64 << 20)}),
        b" " * (1 << 16),
        1024,
    ),
    "chunked_without_end": endless(
        response(202, headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}), CHUNK, 1024
    ),
}


@both
@pytest.mark.parametrize("name", sorted(HUGE))
def test_a_huge_plain_answer_is_refused_in_bounded_memory(mode: str, name: str) -> None:
    """Bounded memory: a 64 MiB or endless chunked 202 is an InvalidResponseError (applied True) under limit + 4 MiB."""
    with HostileServer(HUGE[name], conn_timeout=2.0) as server:
        outcome = perform(mode, server, CALLS["trigger_run"].action, memory=True, max_answer_bytes=LIMIT)
    bounded(outcome.peak, LIMIT)
    outcome.raised(InvalidResponseError)
    assert_applied(outcome.error, True)


@both
@pytest.mark.parametrize(
    "framing",
    ["content-length", "chunked"],
)
def test_a_coded_download_cut_inside_its_coding_saves_nothing(mode: str, tmp_path: Path, framing: str) -> None:
    """Complete or absent: a gzip file whose framing is whole but whose gzip stream stops early is not saved."""
    whole = gzip.compress(bytes(range(256)) * 800)  # 204,800 bytes of file
    cut = whole[: len(whole) // 2]  # the framing below says this is all there is
    headers = {**FILE_HEADERS, "Content-Encoding": "gzip"}
    if framing == "chunked":
        body = f"{len(cut):x}\r\n".encode() + cut + b"\r\n0\r\n\r\n"
        answer = response(200, body, {**headers, "Transfer-Encoding": "chunked"})
    else:
        answer = response(200, cut, headers)
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, save_download(tmp_path))
    outcome.raised(IncompleteDownloadError)
    assert "ends before its end marker" in str(outcome.error)
    assert list(tmp_path.iterdir()) == [], "a cut coded download left a file"


@both
def test_progress_of_a_coded_download_counts_wire_bytes(mode: str, tmp_path: Path) -> None:
    """Progress: a download a server gzip-coded anyway reports wire bytes against Content-Length, never past it."""
    file = bytes(range(256)) * 4000  # 1,024,000 bytes, compressible
    coded = gzip.compress(file)
    answer = response(200, coded, {**FILE_HEADERS, "Content-Encoding": "gzip"})
    seen: list[tuple[int, int | None]] = []
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, save_download(tmp_path, save_options={"progress": lambda *a: seen.append(a)}))
    assert outcome.error is None, outcome.describe()
    assert seen[-1] == (len(coded), len(coded))
    assert all(done <= total for done, total in seen if total is not None)
    assert (tmp_path / "report.pdf").read_bytes() == file


@both
def test_a_coded_download_over_max_bytes_is_stopped_in_bounded_memory(mode: str, tmp_path: Path) -> None:
    """Size cap: 64 MiB of zeros gzip-coded (65 KB on the wire) with max_bytes=1 MiB: refused, nothing saved."""
    answer = response(200, b"".join(gzip_of_zeros(64 << 20)), {**FILE_HEADERS, "Content-Encoding": "gzip"})
    with HostileServer(send(answer)) as server:
        outcome = perform(mode, server, save_download(tmp_path, save_options={"max_bytes": 1 << 20}), memory=True)
    error = outcome.raised(DownloadTooLargeError)
    bounded(outcome.peak, 1 << 20)
    assert (error.max_bytes, error.run_id, error.applied) == (1 << 20, "run_1", True)
    assert error.received <= 1 << 20, "the cap let more than max_bytes through"
    assert list(tmp_path.iterdir()) == [], "a refused download left a file"


@both
def test_a_download_announced_over_max_bytes_is_refused_before_its_body(mode: str, tmp_path: Path) -> None:
    """Size cap: a Content-Length over max_bytes is refused before any byte is read (the server then stalls)."""
    head = response(200, b"", {**FILE_HEADERS, "Content-Length": str(10 << 20)})  # the body never comes
    with HostileServer(send(head)) as server:
        outcome = perform(mode, server, save_download(tmp_path, save_options={"max_bytes": 1 << 20}))
    error = outcome.raised(DownloadTooLargeError)
    assert (error.received, error.expected) == (0, 10 << 20)
    assert "10485760 bytes announced, over the max_bytes of 1048576" in str(error)
    assert outcome.elapsed < 5, "the refusal waited for a body that never comes"
    assert list(tmp_path.iterdir()) == []
