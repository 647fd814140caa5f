"""File agents over real HTTP: the local platform triggers a `file_download` agent served by a Runtime under uvicorn.

The file reaches the caller of `trigger_run_and_download` whole, with its name, media type and
length; an async generator, a sync generator, whole bytes, an `AgentFile` and `AgentFile.from_path`
all work. Whatever goes wrong (an exception before or after the first byte, a chunk that is no
bytes, a length the bytes do not match) fails the run with the reason and cuts the answer, so the
caller never keeps a partial file. A cancel stops a streaming run, async or sync. A hostile file
name cannot add a header.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_support import eventually, runtime_for, serving, settled

from cxpa_sdk import APIStatusError, Cxpa, IncompleteDownloadError, InvalidArgumentError
from cxpa_sdk.runtime import AgentFile, RunContext, Runtime, SyncRunContext
from cxpa_sdk.runtime._files import file_of, head_of
from cxpa_sdk.testing import LocalPlatform

MIB = 1024 * 1024


def _download(client: Cxpa, agent_id: int, body: dict[str, Any], target: Path) -> tuple[Any, Path]:
    with client.trigger_run_and_download(agent_id, body) as download:
        return download, download.save(target)


def test_async_generator_streams_its_file_and_the_run_completes(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """Yielded chunks arrive in order, chunked, under the agent's default name and type; the run completes."""
    runtime = runtime_for(platform)

    @runtime.file_agent("csv-report", filename="report.csv", content_type="text/csv")
    async def csv_report(run: RunContext) -> AsyncIterator[bytes]:
        await run.output({"progress": 0.0})
        for row in range(run.input["rows"]):
            yield f"{row},{row * row}\n".encode()

    with serving(runtime, platform) as url:
        agent = platform.add_agent("csv-report", f"{url}/agents/csv-report", output_kind="file_download")
        download, path = _download(client, agent.id, {"rows": 1000}, tmp_path)
        row = settled(platform, download.run_id, "completed", "failed")
    expected = "".join(f"{i},{i * i}\n" for i in range(1000)).encode()
    assert path.read_bytes() == expected
    assert download.filename == "report.csv"
    assert download.content_type.startswith("text/csv")
    assert download.content_length is None  # a generator's length is not known: chunked
    assert row["status"] == "completed"
    assert row["output_data"] == {"filename": "report.csv", "contentType": "text/csv", "sizeBytes": len(expected)}


def test_sync_function_returning_an_agent_file_with_its_own_name_and_length(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """A sync function's AgentFile (a sync iterable, a non-ASCII name, a length) reaches the caller as given."""
    runtime = runtime_for(platform)
    threads: list[str] = []

    def chunks(count: int) -> Iterator[bytes]:
        threads.append(threading.current_thread().name)
        for index in range(count):
            yield bytes([index % 256]) * 1000

    @runtime.file_agent("sync-file")
    def sync_file(run: SyncRunContext) -> AgentFile:
        count = run.input["chunks"]
        name = "résumé Q3.bin"
        return AgentFile(chunks(count), filename=name, content_type="application/x-demo", length=count * 1000)

    with serving(runtime, platform) as url:
        agent = platform.add_agent("sync-file", f"{url}/agents/sync-file", output_kind="file_download")
        download, path = _download(client, agent.id, {"chunks": 300}, tmp_path)
        row = settled(platform, download.run_id, "completed", "failed")
    assert path.read_bytes() == b"".join(bytes([i % 256]) * 1000 for i in range(300))
    assert download.filename == "résumé Q3.bin"
    assert download.content_length == 300_000
    assert row["status"] == "completed"
    assert threads[0].startswith("cxpa-runtime")  # the sync generator ran on the pool


def test_whole_bytes_and_a_path(platform: LocalPlatform, client: Cxpa, tmp_path: Path) -> None:
    """Returned bytes are sent with their length; AgentFile.from_path takes the file's name, type and size."""
    source = tmp_path / "source" / "notes.txt"
    source.parent.mkdir()
    source.write_bytes(b"line\n" * 200_000)  # ~1 MB: several chunks
    runtime = runtime_for(platform)

    @runtime.file_agent("whole")
    async def whole(run: RunContext) -> bytes:
        return b"%d" % run.input["n"]

    @runtime.file_agent("from-path")
    def from_path(run: SyncRunContext) -> AgentFile:
        return AgentFile.from_path(source)

    with serving(runtime, platform) as url:
        whole_agent = platform.add_agent("whole", f"{url}/agents/whole", output_kind="file_download")
        path_agent = platform.add_agent("from-path", f"{url}/agents/from-path", output_kind="file_download")
        whole_download, whole_path = _download(client, whole_agent.id, {"n": 12345}, tmp_path / "a")
        path_download, saved = _download(client, path_agent.id, {}, tmp_path / "b")
    assert whole_path.read_bytes() == b"12345"
    assert whole_download.filename == "output.bin"
    assert whole_download.content_length == 5
    assert saved.read_bytes() == source.read_bytes()
    assert (path_download.filename, path_download.content_length) == ("notes.txt", 1_000_000)
    assert path_download.content_type.startswith("text/plain")  # the platform adds a charset to text types


def _failing_agents(runtime: Runtime) -> None:
    """File agents that go wrong in each way the host must catch."""

    @runtime.file_agent("fails-early")
    async def fails_early(run: RunContext) -> bytes:
        raise LookupError("no such report")

    @runtime.file_agent("fails-midway")
    async def fails_midway(run: RunContext) -> AsyncIterator[bytes]:
        yield b"x" * MIB
        raise LookupError("the source went away")

    @runtime.file_agent("short")
    def short(run: SyncRunContext) -> AgentFile:
        return AgentFile(iter([b"x" * 1000]), length=5000)

    @runtime.file_agent("long")
    async def long(run: RunContext) -> AgentFile:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"y" * 1000

        return AgentFile(chunks(), length=5000)

    @runtime.file_agent("not-bytes")
    def not_bytes(run: SyncRunContext) -> Iterator[Any]:
        yield b"fine"
        yield "text is no bytes"

    @runtime.file_agent("no-file")
    async def no_file(run: RunContext) -> Any:
        return {"json": "is no file"}


@pytest.mark.parametrize(
    ("name", "error_name", "message"),
    [
        ("fails-early", "LookupError", "no such report"),
        ("fails-midway", "LookupError", "the source went away"),
        ("short", "InvalidOutputError", "the file ended after 1000 of its 5000 bytes"),
        ("long", "InvalidOutputError", "the file runs past its length of 5000 bytes"),
        ("not-bytes", "InvalidOutputError", "a file agent yields bytes, not str"),
        ("no-file", "InvalidOutputError", "a file agent returns bytes or an AgentFile, or yields bytes, not dict"),
    ],
)
def test_a_file_gone_wrong_fails_the_run_and_leaves_no_file(  # noqa: PLR0917 - fixtures and one case
    platform: LocalPlatform, client: Cxpa, tmp_path: Path, name: str, error_name: str, message: str
) -> None:
    """The run fails with the host's reason (not only "cut short"); the caller's save raises and writes nothing."""
    runtime = runtime_for(platform)
    _failing_agents(runtime)
    target = tmp_path / "out"
    target.mkdir()
    with serving(runtime, platform) as url:
        agent = platform.add_agent(name, f"{url}/agents/{name}", output_kind="file_download")
        with pytest.raises((IncompleteDownloadError, APIStatusError)) as caught:
            with client.trigger_run_and_download(agent.id, {}) as download:
                download.save(target)
        run_id = getattr(caught.value, "run_id", None) or platform.runs(agent.id)[-1]["id"]
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "failed"
    assert row["error"]["name"] == error_name
    assert message in row["error"]["message"]
    assert list(target.iterdir()) == []  # no partial file, no temporary file left behind


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_cancel_stops_a_streaming_file_run(platform: LocalPlatform, client: Cxpa, kind: str) -> None:
    """A cancel delivery stops the generator (async at its next await, sync between chunks); nothing more is sent."""
    runtime = runtime_for(platform)
    produced: list[int] = []
    stopped = threading.Event()

    if kind == "async":

        @runtime.file_agent("endless")
        async def endless(run: RunContext) -> AsyncIterator[bytes]:
            try:
                while True:
                    produced.append(1)
                    yield b"z" * 65536
                    await asyncio.sleep(0.001)
            finally:
                stopped.set()

    else:

        @runtime.file_agent("endless")
        def endless_sync(run: SyncRunContext) -> Iterator[bytes]:
            try:
                while True:
                    produced.append(1)
                    yield b"z" * 65536
            finally:
                stopped.set()

    with serving(runtime, platform) as url:
        agent = platform.add_agent("endless", f"{url}/agents/endless", output_kind="file_download")
        with client.trigger_run_and_download(agent.id, {}) as download:
            chunks = download.iter_bytes()
            next(chunks)
            client.cancel_run(agent.id, download.run_id)
            with pytest.raises(IncompleteDownloadError):
                for _ in chunks:
                    pass
        eventually(stopped.is_set, "the generator was closed")
        row = settled(platform, download.run_id, "cancelled", "failed", "completed")
    assert row["status"] == "cancelled"
    count = len(produced)
    eventually(lambda: len(produced) == count, "nothing more is produced")


def test_a_hostile_file_name_cannot_add_a_header(platform: LocalPlatform, client: Cxpa, tmp_path: Path) -> None:
    """CR, LF and quotes in a name are dropped (the name is made safe) or encoded: no header is added."""
    evil = 'evil"\r\nSet-Cookie: a=b\r\n\r\n.txt'
    head = head_of(file_of(AgentFile(b"data", filename=evil), "output.bin", "application/octet-stream"))
    assert [name for name, _ in head.headers] == ["content-type", "content-disposition", "content-length"]
    assert all(c.isprintable() and c.isascii() for _, value in head.headers for c in value)
    runtime = runtime_for(platform)

    @runtime.file_agent("hostile-name")
    async def hostile_name(run: RunContext) -> AgentFile:
        return AgentFile(b"data", filename=evil)

    with serving(runtime, platform) as url:
        agent = platform.add_agent("hostile-name", f"{url}/agents/hostile-name", output_kind="file_download")
        download, path = _download(client, agent.id, {}, tmp_path)
    assert download.server_filename == "evil___Set-Cookie_ a=b____.txt"  # made safe before it was sent
    assert path.parent == tmp_path
    assert path.read_bytes() == b"data"


def test_file_agent_declarations_are_checked() -> None:
    """A bad default name or media type is refused when declared; a file agent takes no resume handler."""
    runtime = Runtime(base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidArgumentError, match="content_type"):
        runtime.file_agent("bad-type", content_type="text/plain\r\nX-Evil: 1")
    with pytest.raises(InvalidArgumentError, match="filename"):
        runtime.file_agent("bad-name", filename="")

    @runtime.file_agent("fine")
    async def fine(run: RunContext) -> bytes:
        return b""

    with pytest.raises(InvalidArgumentError, match="takes no resume handler"):
        fine.on_resume(lambda run, payload: None)


def test_digest_of_a_large_streamed_file(platform: LocalPlatform, client: Cxpa) -> None:
    """64 MiB through the host, the platform and the download, byte for byte (the heavy test goes to 1 GiB)."""
    runtime = runtime_for(platform)
    block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB of varied bytes

    @runtime.file_agent("big")
    async def big(run: RunContext) -> AgentFile:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(1024):
                yield block

        return AgentFile(chunks(), length=1024 * len(block))

    with serving(runtime, platform) as url:
        agent = platform.add_agent("big", f"{url}/agents/big", output_kind="file_download")
        digest = hashlib.sha256()
        with client.trigger_run_and_download(agent.id, {}) as download:
            for chunk in download.iter_bytes():
                digest.update(chunk)
    expected = hashlib.sha256(block * 1024).hexdigest()
    assert digest.hexdigest() == expected
