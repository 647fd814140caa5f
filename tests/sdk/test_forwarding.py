"""Forwarding a download: open() outside a with block, the body closing it, the headers to send on, max_bytes."""

import asyncio
import hashlib
import time
from pathlib import Path

import pytest
from hostile.hostile_server import FILE_HEADERS, HostileServer, response, send
from hypothesis import given
from hypothesis import strategies as st
from sdk_support import Api

from cxpa_sdk import (
    AsyncCxpa,
    Cxpa,
    DownloadConsumedError,
    DownloadTooLargeError,
    InvalidArgumentError,
    content_disposition,
)
from cxpa_sdk._filenames import filename_from_disposition, safe_filename
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
    """Any name: the header is ASCII, and a reader of RFC 6266 gets the safe filename back exactly."""
    header = content_disposition(name)
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    assert filename_from_disposition(header) == safe_filename(name, "download")


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
