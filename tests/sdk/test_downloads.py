"""Downloads: cut streams detected with no file left, safe filenames, and a body read only once."""

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sdk_support import Api

from cxpa_sdk import AsyncDownload, Cxpa, Download, DownloadConsumedError, IncompleteDownloadError, LocalFileError
from cxpa_sdk._download._filenames import filename_from_disposition, numbered, safe_filename
from cxpa_sdk.testing import REPORT, report_bytes


def test_cut_download_leaves_no_file(api: Api, tmp_path: Path) -> None:
    """A body cut mid-stream raises IncompleteDownloadError with the counts; nothing is left in the folder."""
    api.platform.faults.cut_next_download(50_000)
    with pytest.raises(IncompleteDownloadError) as caught:
        api.download(REPORT, {"sizeBytes": 300_000}, save_to=tmp_path)
    assert caught.value.expected == 300_000
    assert 0 < caught.value.received < 300_000
    assert f"{caught.value.received} of 300000 bytes" in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fsync", [False, True], ids=["default", "fsync"])
def test_save_syncs_to_disk_only_when_asked(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    """save() renames without syncing; save(fsync=True) syncs the file before the rename and the folder after."""
    target = tmp_path / "report.bin"
    synced: list[tuple[str, bool]] = []  # (what the descriptor is, whether the target existed then)
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        kind = "folder" if os.path.isdir(os.readlink(f"/proc/self/fd/{fd}")) else "file"
        synced.append((kind, target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    options = {"fsync": True} if fsync else {}
    _, path = api.download(REPORT, {"sizeBytes": 70_000}, save_to=target, save_options=options)
    assert path.stat().st_size == 70_000
    assert synced == ([("file", False), ("folder", True)] if fsync else [])
    assert os.listdir(tmp_path) == ["report.bin"]


def test_save_to_an_explicit_path(api: Api, tmp_path: Path) -> None:
    """save() to a file path writes there, whatever the server's name."""
    _, path = api.download(REPORT, {"sizeBytes": 10}, save_to=tmp_path / "mine.bin")
    assert path == tmp_path / "mine.bin"
    assert path.stat().st_size == 10


@pytest.mark.parametrize(
    ("requested", "saved"),
    [
        ("report.pdf", "report.pdf"),
        ("résumé Q3.pdf", "résumé Q3.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..", "run.bin"),
        ('a"b.pdf', "a_b.pdf"),
    ],
    ids=["plain", "non-ascii-filename-star", "traversal", "dot-dot", "quote"],
)
def test_server_filenames_are_made_safe(api: Api, tmp_path: Path, requested: str, saved: str) -> None:
    """The server's name is used, decoded from filename*, and never names a path outside the folder."""
    download, path = api.download(REPORT, {"sizeBytes": 3, "filename": requested}, save_to=tmp_path)
    expected = saved if saved != "run.bin" else f"{download.run_id}.bin"
    assert path == tmp_path / expected
    assert path.parent == tmp_path


def test_second_read_raises(api: Api) -> None:
    """The body can be consumed once; a second pass raises DownloadConsumedError."""
    if api.mode == "sync":
        with api.client.trigger_run_and_download(REPORT, {"sizeBytes": 100}) as download:
            assert len(download.read()) == 100
            with pytest.raises(DownloadConsumedError, match="read once"):
                download.read()
    else:

        async def twice() -> None:
            async with api.client.trigger_run_and_download(REPORT, {"sizeBytes": 100}) as download:
                assert len(await download.read()) == 100
                with pytest.raises(DownloadConsumedError, match="read once"):
                    await download.read()

        api.runner.run(twice())


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="report.pdf"', "report.pdf"),
        ("attachment; filename=plain.txt", "plain.txt"),
        ("attachment; filename=\"x.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf"),
        ("attachment", None),
        (None, None),
    ],
    ids=["quoted", "token", "filename-star-wins", "no-name", "missing"],
)
def test_filename_from_disposition(header: str | None, name: str | None) -> None:
    """RFC 6266 parsing: quoted, token, filename* preferred, or none."""
    assert filename_from_disposition(header) == name


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("/abs/path.txt", "path.txt"),
        (".hidden", "hidden"),
        ("a\x00b\r\nc.txt", "a_b__c.txt"),
        ("", "fallback.bin"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("a\x85b\x9fc.pdf", "a_b_c.pdf"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ("a\u2066b\u2069c\u200f.txt", "a_b_c_.txt"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("COM1.tar.gz", "_COM1.tar.gz"),
        ("LPT9", "_LPT9"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("report.pdf. . ", "report.pdf"),
        ("report ", "report"),
    ],
    ids=[
        "windows-path",
        "absolute",
        "hidden",
        "control-chars",
        "empty",
        "too-long",
        "c1-controls",
        "bidi-override",
        "bidi-isolates-and-marks",
        "reserved-con",
        "reserved-nul-with-extension",
        "reserved-com1",
        "reserved-lpt9",
        "not-reserved",
        "trailing-dots-and-spaces",
        "trailing-space",
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    """Hostile names become plain file names of at most 255 bytes."""
    assert safe_filename(name, "fallback.bin") == safe


def test_missing_disposition_falls_back_to_the_run_id(tmp_path: Path) -> None:
    """Without Content-Disposition (a proxy may strip it) the file is named after the run."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        stream = httpx2.ByteStream(b"abc")
        return httpx2.Response(200, stream=stream, headers={"X-Run-Id": "run_9", "Content-Length": "3"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http) as client:
        with client.trigger_run_and_download(REPORT, {}) as download:
            assert download.save(tmp_path) == tmp_path / "run_9.bin"


def test_lying_content_length_is_incomplete(tmp_path: Path) -> None:
    """A body longer than its Content-Length is not saved as if complete."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        stream = httpx2.ByteStream(b"abcdef")
        return httpx2.Response(200, stream=stream, headers={"X-Run-Id": "run_9", "Content-Length": "3"})

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    with Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=http) as client:
        with client.trigger_run_and_download(REPORT, {}) as download, pytest.raises(IncompleteDownloadError):
            download.save(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_trailing_separator_always_means_a_folder(api: Api, tmp_path: Path) -> None:
    """save("reports/") creates the folder and saves into it under the server's name, never a file named reports."""
    folder = tmp_path / "reports" / "q3"
    _, path = api.download(REPORT, {"sizeBytes": 10, "filename": "r.pdf"}, save_to=f"{folder}{os.sep}")
    assert path == folder / "r.pdf"
    assert path.read_bytes() == b"".join(report_bytes(10))
    _, again = api.download(REPORT, {"sizeBytes": 12, "filename": "s.pdf"}, save_to=f"{folder}{os.sep}")
    assert sorted(os.listdir(folder)) == ["r.pdf", "s.pdf"]
    assert again.stat().st_size == 12


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=oct)
def test_saved_files_follow_the_umask(api: Api, tmp_path: Path, umask: int, mode: int) -> None:
    """A saved file gets 0666 less the umask, as open() and curl give it (mkstemp gave 0600)."""
    previous = os.umask(umask)
    try:
        _, path = api.download(REPORT, {"sizeBytes": 10}, save_to=tmp_path)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode


def test_a_long_non_ascii_name_saves_into_a_folder(api: Api, tmp_path: Path) -> None:
    """A 400-byte non-ASCII server name is cut to 255 bytes, and so is its temporary file's name."""
    requested = "é" * 200 + ".pdf"
    download, path = api.download(REPORT, {"sizeBytes": 1000, "filename": requested}, save_to=tmp_path)
    assert len(path.name.encode()) <= 255
    assert path.name.endswith(".pdf")
    assert path.stat().st_size == 1000
    assert download.server_filename == requested
    assert os.listdir(tmp_path) == [path.name]


def test_the_server_name_is_kept_as_sent(api: Api, tmp_path: Path) -> None:
    """server_filename is the name as the server sent it; filename is the safe one used on disk."""
    download, path = api.download(REPORT, {"sizeBytes": 3, "filename": "../inv\u202efdp.exe"}, save_to=tmp_path)
    assert download.server_filename == "../inv\u202efdp.exe"
    assert download.filename == path.name == "inv_fdp.exe"


def test_a_server_name_never_replaces_an_existing_file(api: Api, tmp_path: Path) -> None:
    """A second file of the same server name is saved as `report (1).pdf`; the first is untouched."""
    mine = tmp_path / "report.pdf"
    mine.write_bytes(b"my own report")
    _, first = api.download(REPORT, {"sizeBytes": 10}, save_to=tmp_path)
    _, second = api.download(REPORT, {"sizeBytes": 20}, save_to=tmp_path)
    assert mine.read_bytes() == b"my own report"
    assert (first.name, second.name) == ("report (1).pdf", "report (2).pdf")
    assert (first.stat().st_size, second.stat().st_size) == (10, 20)
    assert sorted(os.listdir(tmp_path)) == ["report (1).pdf", "report (2).pdf", "report.pdf"]


def test_overwrite_replaces_a_file_of_the_server_name(api: Api, tmp_path: Path) -> None:
    """save(folder, overwrite=True) replaces the file of the server's name, and an explicit path is replaced anyway."""
    (tmp_path / "report.pdf").write_bytes(b"old")
    _, path = api.download(REPORT, {"sizeBytes": 10}, save_to=tmp_path, save_options={"overwrite": True})
    assert path == tmp_path / "report.pdf"
    assert path.stat().st_size == 10
    explicit = tmp_path / "mine.pdf"
    explicit.write_bytes(b"old")
    _, again = api.download(REPORT, {"sizeBytes": 12}, save_to=explicit)
    assert again == explicit
    assert explicit.stat().st_size == 12
    assert sorted(os.listdir(tmp_path)) == ["mine.pdf", "report.pdf"]


def test_numbered_names_fit_255_bytes() -> None:
    """`name (n).ext` keeps the extension and cuts the stem so the whole stays within 255 bytes."""
    long = Path("/d") / ("é" * 126 + ".pdf")  # 256 bytes once numbered without cutting
    assert numbered(Path("/d/report.pdf"), 3) == Path("/d/report (3).pdf")
    assert numbered(Path("/d/README"), 1) == Path("/d/README (1)")
    assert len(numbered(long, 12).name.encode()) <= 255
    assert numbered(long, 12).name.endswith(" (12).pdf")


@pytest.mark.parametrize("where", ["missing-parent", "parent-is-a-file"])
def test_a_local_file_error_is_typed_and_leaves_nothing(api: Api, tmp_path: Path, where: str) -> None:
    """A folder that can't take the file raises LocalFileError with the run id and the path; nothing is left."""
    if where == "missing-parent":
        target = tmp_path / "no" / "such" / "file.pdf"
    else:
        (tmp_path / "plain").write_bytes(b"x")
        target = tmp_path / "plain" / "file.pdf"
    with pytest.raises(LocalFileError) as caught:
        api.download(REPORT, {"sizeBytes": 10}, save_to=target)
    error = caught.value
    assert error.run_id.startswith("run_")
    assert error.path == str(target)
    assert error.applied is True
    assert error.run_id in str(error)
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        {"missing-parent": [], "parent-is-a-file": ["plain"]}[where]
    )


def test_a_full_disk_is_a_local_file_error(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails with ENOSPC midway raises LocalFileError and removes the temporary file."""
    import errno  # noqa: PLC0415
    import io  # noqa: PLC0415

    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self._file = real_fdopen(fd, "wb", buffering=0)
            self._written = 0

        def write(self, data) -> int:  # type: ignore[override]
            if self._written > 1000:
                raise OSError(errno.ENOSPC, "No space left on device")
            self._written += len(data)
            return self._file.write(data)

        def fileno(self) -> int:
            return self._file.fileno()

        def close(self) -> None:
            self._file.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: Full(fd))
    with pytest.raises(LocalFileError, match="No space left on device") as caught:
        api.download(REPORT, {"sizeBytes": 300_000}, save_to=tmp_path)
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


def test_progress_counts_the_file_up_to_its_size(api: Api, tmp_path: Path) -> None:
    """progress(done, total) rises to (size, size) for a file sent as it is."""
    seen: list[tuple[int, int | None]] = []
    _, path = api.download(
        REPORT, {"sizeBytes": 300_000}, save_to=tmp_path, save_options={"progress": lambda *a: seen.append(a)}
    )
    assert seen[-1] == (300_000, 300_000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert path.stat().st_size == 300_000


def test_close_calls_on_close_once_even_when_it_raises() -> None:
    """Both flavours clear `on_close` before calling it: a second close() never calls it again."""
    calls: list[str] = []

    def on_close() -> None:
        calls.append("sync")
        raise OSError("the pool is already gone")

    async def aon_close() -> None:
        calls.append("async")
        raise OSError("the pool is already gone")

    def never() -> Any:
        raise AssertionError("not opened")

    download = Download(never, on_close=on_close)
    with pytest.raises(OSError, match="already gone"):
        download.close()
    download.close()

    async def flow() -> None:
        adownload = AsyncDownload(never, on_close=aon_close)
        with pytest.raises(OSError, match="already gone"):
            await adownload.close()
        await adownload.close()

    asyncio.run(flow())
    assert calls == ["sync", "async"]
