"""Forwarding a download: open() outside a with block, the body closing it, its idle bound, the headers to send on.

The headers' decisions are pure functions over what a download's headers say (`DownloadInfo`),
tested here without I/O; the rest runs over real HTTP, on the sync client and the async one on each
backend, against the local platform or a hostile one.
"""

import asyncio
import hashlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from forwarding.hostile_upstream import SilentUpstream
from hostile.hostile_server import FILE_HEADERS, HostileServer, Outcome, Request, both, perform, response, send
from hypothesis import given
from hypothesis import strategies as st
from sdk_support import Api

from cxpa_sdk import (
    APIConnectionError,
    AsyncCxpa,
    Cxpa,
    CxpaError,
    DownloadConsumedError,
    DownloadTooLargeError,
    IncompleteDownloadError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidResponseError,
    content_disposition,
)
from cxpa_sdk._download._body import CONTENT_SECURITY_POLICY, MAX_CONTENT_TYPE_BYTES, DownloadInfo, forward_headers
from cxpa_sdk._download._filenames import MAX_DISPOSITION_BYTES, filename_from_disposition, safe_filename
from cxpa_sdk.testing import REPORT, LocalPlatform, report_bytes

BIG = 256 << 20  # far more than loopback's socket buffers hold, so a stopped reader stalls the server


def sha256_of_report(size: int) -> str:
    """The sha256 of the `report` agent's first `size` bytes."""
    digest = hashlib.sha256()
    for chunk in report_bytes(size):
        digest.update(chunk)
    return digest.hexdigest()


def run_status_soon(platform: LocalPlatform, run_id: str, seconds: float = 10.0) -> tuple[str, str | None]:
    """The run's status and error message once it has ended, polled for at most `seconds`."""
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        for _ in range(int(seconds / 0.05)):
            run = client.get_run(REPORT, run_id)
            if run.status in ("completed", "failed", "cancelled"):
                return run.status, None if run.error is None else run.error.message
            time.sleep(0.05)
    raise AssertionError(f"run {run_id} had not ended after {seconds} s")


def test_an_opened_download_streams_outside_a_with_block_and_closes_itself(cxpa_platform: LocalPlatform) -> None:
    """open() then iter_bytes(), as a framework would: the whole file, and the run completes once it is read."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        download = client.trigger_run_and_download(REPORT, {"sizeBytes": 300_000}).open()
        body = download.iter_bytes()
        digest = hashlib.sha256()
        for chunk in body:
            digest.update(chunk)
        assert digest.hexdigest() == sha256_of_report(300_000)
        with pytest.raises(DownloadConsumedError):
            download.read()
        assert run_status_soon(cxpa_platform, download.run_id) == ("completed", None)


def test_an_async_opened_download_streams_outside_a_with_block(cxpa_platform: LocalPlatform) -> None:
    """Await open(), then async iter_bytes(): the whole file, and the run completes."""

    async def flow() -> tuple[str, str]:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            download = await client.trigger_run_and_download(REPORT, {"sizeBytes": 300_000}).open()
            digest = hashlib.sha256()
            async for chunk in download.iter_bytes():
                digest.update(chunk)
            return download.run_id, digest.hexdigest()

    run_id, digest = asyncio.run(flow())
    assert digest == sha256_of_report(300_000)
    assert run_status_soon(cxpa_platform, run_id) == ("completed", None)


def test_closing_the_body_early_closes_the_upstream_at_once(cxpa_platform: LocalPlatform) -> None:
    """A framework closes the body when the browser goes away: the platform sees its caller leave, within seconds."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        download = client.trigger_run_and_download(REPORT, {"sizeBytes": BIG}).open()
        body = download.iter_bytes()
        assert next(body)
        body.close()  # what WSGI servers and Django do with a response's iterable
        status, message = run_status_soon(cxpa_platform, download.run_id)
    assert status == "failed"
    assert message is not None
    assert "went away" in message


def test_closing_a_body_never_read_closes_the_upstream(cxpa_platform: LocalPlatform) -> None:
    """close() before the first chunk (a WSGI server's HEAD, or a browser gone at once) closes the download too."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        download = client.trigger_run_and_download(REPORT, {"sizeBytes": BIG}).open()
        download.iter_bytes().close()
        status, message = run_status_soon(cxpa_platform, download.run_id)
    assert status == "failed"
    assert message is not None
    assert "went away" in message


def test_closing_an_async_body_never_read_closes_the_upstream(cxpa_platform: LocalPlatform) -> None:
    """aclose() before the first chunk closes the async download too."""

    async def flow() -> str:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            download = await client.trigger_run_and_download(REPORT, {"sizeBytes": BIG}).open()
            body = download.iter_bytes()
            await body.aclose()  # type: ignore[attr-defined]
            return download.run_id

    status, message = run_status_soon(cxpa_platform, asyncio.run(flow()))
    assert status == "failed"
    assert message is not None
    assert "went away" in message


def test_cancelling_an_async_body_closes_the_upstream_at_once(cxpa_platform: LocalPlatform) -> None:
    """An ASGI server cancels the task streaming the body when the browser goes away: the upstream closes too."""

    async def flow() -> str:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            download = await client.trigger_run_and_download(REPORT, {"sizeBytes": BIG}).open()
            started = asyncio.Event()

            async def stream() -> None:
                async for _chunk in download.iter_bytes():
                    started.set()
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(stream())
            await asyncio.wait_for(started.wait(), 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return download.run_id

    run_id = asyncio.run(flow())
    status, message = run_status_soon(cxpa_platform, run_id)
    assert status == "failed"
    assert message is not None
    assert "went away" in message


def test_a_download_opens_once(cxpa_platform: LocalPlatform) -> None:
    """A second open() (or with) would send a second trigger: it raises DownloadConsumedError instead."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        download = client.trigger_run_and_download(REPORT, {"sizeBytes": 10}).open()
        try:
            with pytest.raises(DownloadConsumedError, match="already opened"), download:
                pass
        finally:
            download.close()


@pytest.mark.parametrize(
    ("options", "filename", "disposition", "length"),
    [
        ({"sizeBytes": 1000}, "report.pdf", 'attachment; filename="report.pdf"', "1000"),
        (
            {"sizeBytes": 1000, "filename": "R\u00e9sum\u00e9 \u2013 Q3 \u62a5\u544a.pdf"},
            "R\u00e9sum\u00e9 \u2013 Q3 \u62a5\u544a.pdf",
            "attachment; filename=\"Resume _ Q3 __.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%93%20Q3%20"
            "%E6%8A%A5%E5%91%8A.pdf",
            "1000",
        ),
        ({"sizeBytes": 1000, "unknownLength": True}, "report.pdf", 'attachment; filename="report.pdf"', None),
        ({"sizeBytes": 10, "filename": "../../etc/passwd"}, "passwd", 'attachment; filename="passwd"', "10"),
    ],
    ids=["plain", "non-ascii", "unknown-length", "traversal"],
)
def test_forward_headers(
    api: Api, options: dict[str, object], filename: str, disposition: str, length: str | None
) -> None:
    """The headers to send on: the type, an RFC 6266 disposition of the safe name, the length when known, nosniff."""
    download, _ = api.download(REPORT, options)
    headers = download.forward_headers()
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == disposition
    assert headers.get("Content-Length") == length
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert filename_from_disposition(headers["Content-Disposition"]) == filename
    assert download.forward_headers(inline=True)["Content-Disposition"].startswith("inline; ")


@pytest.mark.parametrize(
    ("content_type", "forwarded"),
    [
        ('text/csv; charset="utf-8"', 'text/csv; charset="utf-8"'),
        ("text/html<script>", "application/octet-stream"),
        ("application/pdf; name=\u00e9", "application/octet-stream"),
        ("not a media type", "application/octet-stream"),
    ],
)
def test_forward_headers_pass_on_only_a_well_formed_media_type(content_type: str, forwarded: str) -> None:
    """A Content-Type that is not a media type (RFC 9110) is not passed on to a browser as it came."""
    headers = {**FILE_HEADERS, "Content-Type": content_type}
    with (
        HostileServer(send(response(200, b"x", headers))) as server,
        Cxpa(base_url=server.base_url, ingest_api_key="k", max_retries=0) as client,
        client.trigger_run_and_download(REPORT, {}) as download,
    ):
        assert download.forward_headers()["Content-Type"] == forwarded


@given(st.text(max_size=300))
def test_content_disposition_reads_back_as_the_safe_name(name: str) -> None:
    """Any name: the header is ASCII, bounded, and a reader of RFC 6266 gets the safe filename back exactly."""
    header = content_disposition(name)
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert len(header) <= MAX_DISPOSITION_BYTES
    assert filename_from_disposition(header) == safe_filename(name, "download")


def test_a_name_that_grows_in_ascii_keeps_the_disposition_bounded() -> None:
    """U+FDFA is 18 ASCII characters: a name of them still gives a header of at most 1,062 bytes, read back whole."""
    name = "\ufdfa" * 90 + ".pdf"
    header = content_disposition(name)
    assert len(header) <= MAX_DISPOSITION_BYTES == 1062
    assert filename_from_disposition(header) == safe_filename(name, "download")


# What is sent on to a browser: pure decisions over a download's headers ---------------------------------------------


def info_of(content_type: str, length: int | None = 1000) -> DownloadInfo:
    """A download's headers with this Content-Type (and Content-Length), as `DownloadInfo.of` reads them."""
    return DownloadInfo("run_1", "report.pdf", content_type, length, server_filename="report.pdf")


ACTIVE_TYPES = [
    "text/html",
    "text/html; charset=utf-8",
    "TEXT/HTML",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/rss+xml",
    "text/xsl",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "text/ecmascript",
]


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "attachment"])
@pytest.mark.parametrize("content_type", ACTIVE_TYPES)
def test_an_active_type_goes_on_as_an_octet_stream_attachment(content_type: str, inline: bool) -> None:
    """HTML, XML (SVG, XHTML, XSLT), scripts and stylesheets: application/octet-stream, attachment, sandboxed."""
    headers = forward_headers(info_of(content_type), inline=inline)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment; ")
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY == "sandbox; default-src 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "content_type",
    ["application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain; charset=utf-8", "text/csv"],
)
def test_a_passive_type_is_shown_inline_only_when_asked(content_type: str) -> None:
    """PDF, images, plain text and CSV keep their type; inline=True shows them, sandboxed; the default saves them."""
    shown = forward_headers(info_of(content_type), inline=True)
    saved = forward_headers(info_of(content_type), inline=False)
    assert shown["Content-Type"] == saved["Content-Type"] == content_type
    assert shown["Content-Disposition"].startswith("inline; ")
    assert saved["Content-Disposition"].startswith("attachment; ")
    assert shown["Content-Security-Policy"] == saved["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("content_type", ["application/zip", "audio/mpeg", "video/mp4", "application/octet-stream"])
def test_any_other_type_keeps_its_type_but_is_never_inline(content_type: str) -> None:
    """An archive, audio or video is passed on as its type, and saved even with inline=True."""
    headers = forward_headers(info_of(content_type), inline=True)
    assert headers["Content-Type"] == content_type
    assert headers["Content-Disposition"].startswith("attachment; ")


def test_a_content_type_longer_than_the_bound_goes_on_as_an_octet_stream_attachment() -> None:
    """A well-formed Content-Type over 256 bytes is not passed on (a proxy's header buffer may refuse it)."""
    longest = "image/png; x=" + "a" * (MAX_CONTENT_TYPE_BYTES - 13)
    assert forward_headers(info_of(longest), inline=True)["Content-Type"] == longest
    headers = forward_headers(info_of(longest + "a"), inline=True)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment; ")


# What is sent on to a browser, over HTTP from a hostile platform ----------------------------------------------------


PDF = b"%PDF-1.7"  # the body of a hostile platform's file


def forwarded(mode: str, headers: dict[str, str], **options: Any) -> Outcome:
    """The forward_headers(**options) of a download whose answer has `headers`, on a client of `mode`."""

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def read() -> dict[str, str]:
                async with client.trigger_run_and_download(REPORT, {}) as download:
                    return download.forward_headers(**options)

            return read()
        with client.trigger_run_and_download(REPORT, {}) as download:
            return download.forward_headers(**options)

    with HostileServer(send(response(200, PDF, headers))) as server:
        return perform(mode, server, action)


@both
@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "image/svg+xml"], ids=["html", "svg"])
def test_a_runtime_html_or_svg_is_never_forwarded_inline(mode: str, content_type: str) -> None:
    """A runtime's HTML or SVG, asked inline: sent as an octet-stream attachment, nosniff, sandboxed."""
    outcome = forwarded(mode, {**FILE_HEADERS, "Content-Type": content_type}, inline=True)
    assert outcome.error is None, outcome.describe()
    assert outcome.value["Content-Type"] == "application/octet-stream"
    assert outcome.value["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert outcome.value["X-Content-Type-Options"] == "nosniff"
    assert outcome.value["Content-Security-Policy"] == "sandbox; default-src 'none'"


@both
@pytest.mark.parametrize("size", [1_000, 60_000], ids=["1KB", "60KB"])
def test_a_huge_content_type_is_never_forwarded(mode: str, size: int) -> None:
    """A runtime's Content-Type of 1 KB or 60 KB goes on as application/octet-stream; every header stays bounded.

    aiohttp refuses a header line over 8 KiB itself, before a byte of the file: the 60 KB one is an
    APIConnectionError there, so nothing is forwarded at all.
    """
    content_type = "application/pdf; x=" + "a" * size
    outcome = forwarded(mode, {**FILE_HEADERS, "Content-Type": content_type}, inline=True)
    if mode == "async-aiohttp" and size > 8 << 10:
        outcome.raised(APIConnectionError)
        return
    assert outcome.error is None, outcome.describe()
    assert outcome.value["Content-Type"] == "application/octet-stream"
    assert max(len(value) for value in outcome.value.values()) <= MAX_DISPOSITION_BYTES


@both
@pytest.mark.parametrize("digits", [21, 5_000])
def test_a_content_length_longer_than_any_file_is_refused(mode: str, digits: int) -> None:
    """A Content-Length of over 20 digits (h11's limit), leading zeros and the body's 8, is refused before a byte."""
    outcome = forwarded(mode, {**FILE_HEADERS, "Content-Length": str(len(PDF)).zfill(digits)})
    error = outcome.raised(CxpaError)
    assert isinstance(error, APIConnectionError | InvalidResponseError), outcome.describe()


# The idle bound of a forwarded body ---------------------------------------------------------------------------------


def iterated(idle_timeout: float | None) -> Any:
    """An action that opens a download and reads it with iter_bytes(idle_timeout=...); the bytes."""

    def action(client: Any) -> Any:
        if isinstance(client, AsyncCxpa):

            async def read() -> bytes:
                download = await client.trigger_run_and_download(REPORT, {}).open()
                return b"".join([chunk async for chunk in download.iter_bytes(idle_timeout=idle_timeout)])

            return read()
        download = client.trigger_run_and_download(REPORT, {}).open()
        return b"".join(download.iter_bytes(idle_timeout=idle_timeout))

    return action


@both
def test_a_body_that_falls_silent_ends_by_its_idle_timeout(mode: str) -> None:
    """1,000 bytes of 1 MiB, then silence: iter_bytes(idle_timeout=0.5) fails in 0.5 s and closes the connection."""
    upstream = SilentUpstream(first_bytes=1_000)
    with HostileServer(upstream, conn_timeout=60) as server:
        outcome = perform(mode, server, iterated(0.5))
        closed_at = upstream.closed_by(time.monotonic() + 2)
    error = outcome.raised(IncompleteDownloadError)
    assert outcome.elapsed < 3, f"the idle bound of 0.5 s ended the body after {outcome.elapsed:.1f} s"
    assert error.received == 1_000
    assert "idle_timeout=0.5 s" in str(error)
    assert closed_at is not None, "the platform's connection was left open"


def dripped(pieces: int, every_s: float) -> Any:
    """A handler that sends a file of `pieces` bytes, one byte every `every_s` seconds."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(response(200, b"", {**FILE_HEADERS, "Content-Length": str(pieces)}))
        for _ in range(pieces):
            if stop.wait(every_s):
                return
            conn.sendall(b"%")

    return handler


@both
@pytest.mark.parametrize("idle_timeout", [1.0, None], ids=["1s", "none"])
def test_the_idle_bound_is_per_wait_not_for_the_whole_body(mode: str, idle_timeout: float | None) -> None:
    """A byte every 0.25 s for 2 s: iter_bytes(idle_timeout=1) (or None: no bound of its own) reads it whole."""
    with HostileServer(dripped(8, 0.25)) as server:
        outcome = perform(mode, server, iterated(idle_timeout))
    assert outcome.error is None, outcome.describe()
    assert outcome.value == b"%" * 8


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, InvalidArgumentError),
        (-1, InvalidArgumentError),
        (float("nan"), InvalidArgumentError),
        (float("inf"), InvalidArgumentError),
        ("10", InvalidArgumentTypeError),
        (True, InvalidArgumentTypeError),
    ],
)
def test_idle_timeout_must_be_a_positive_number_of_seconds(client: Cxpa, bad: object, error: type[CxpaError]) -> None:
    """A bad idle_timeout is refused when iter_bytes is called, naming it; the body is still there to read."""
    with client.trigger_run_and_download(REPORT, {"sizeBytes": 10}) as download:
        with pytest.raises(error, match="idle_timeout"):
            download.iter_bytes(idle_timeout=bad)  # type: ignore[arg-type]
        assert b"".join(download.iter_bytes()) == report_bytes_of(10)


def report_bytes_of(size: int) -> bytes:
    """The `report` agent's first `size` bytes."""
    return b"".join(report_bytes(size))


@pytest.mark.parametrize(
    ("options", "received"),
    [({"sizeBytes": 2 << 20}, 0), ({"sizeBytes": 2 << 20, "unknownLength": True}, None)],
    ids=["announced", "chunked"],
)
def test_max_bytes_refuses_a_larger_file_and_saves_nothing(
    api: Api, tmp_path: Path, options: dict[str, object], received: int | None
) -> None:
    """save(max_bytes=1 MiB) of a 2 MiB file: DownloadTooLargeError with the run id, no file left behind."""
    with pytest.raises(DownloadTooLargeError) as caught:
        api.download(REPORT, options, save_to=tmp_path, save_options={"max_bytes": 1 << 20})
    error = caught.value
    assert error.run_id.startswith("run_")
    assert error.max_bytes == 1 << 20
    assert error.applied is True
    if received is not None:
        assert error.received == received
    else:
        assert 0 < error.received <= 1 << 20
    assert list(tmp_path.iterdir()) == []


def test_max_bytes_lets_a_file_of_exactly_that_size_through(api: Api, tmp_path: Path) -> None:
    """The limit is inclusive: a file of max_bytes bytes is saved whole, announced or chunked."""
    for options in ({"sizeBytes": 70_000}, {"sizeBytes": 70_000, "unknownLength": True}):
        _, path = api.download(REPORT, options, save_to=tmp_path, save_options={"max_bytes": 70_000, "overwrite": True})
        assert path.stat().st_size == 70_000


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10"])
def test_max_bytes_must_be_a_whole_number(client: Cxpa, bad: object) -> None:
    """A max_bytes that is not a whole number >= 0 is an InvalidArgumentError that names it."""
    with (
        client.trigger_run_and_download(REPORT, {"sizeBytes": 10}) as download,
        pytest.raises(InvalidArgumentError, match="max_bytes"),
    ):
        download.read(max_bytes=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["\u00e9" * 1_000_000 + ".pdf", "a" * 1_000_000, "\u62a5" * 300 + ". .pdf"])
def test_a_huge_name_is_cut_once_to_255_bytes_keeping_its_extension(name: str) -> None:
    """A megabyte of name (an app's own input to content_disposition) is cut in one step, never inside a character."""
    safe = safe_filename(name, "download")
    assert len(safe.encode()) <= 255
    assert safe.endswith(".pdf") == name.endswith(".pdf")
    assert name.startswith(safe.removesuffix(".pdf"))
    assert filename_from_disposition(content_disposition(name)) == safe
