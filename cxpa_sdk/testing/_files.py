"""Files on their way from a runtime to the caller of trigger-and-download: handed over, or drained."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.concurrency import iterate_in_threadpool

from ._runs import RunRecord, error_of
from ._runtime import RuntimeFile


@dataclass
class FileStream:
    """A file on its way from a runtime to the caller of trigger-and-download."""

    chunks: AsyncIterator[bytes]
    filename: str
    content_type: str
    content_length: int | None
    close: Callable[[], Awaitable[None]] | None = None

    @classmethod
    def of(cls, file: RuntimeFile) -> FileStream:
        """Stream a Python runtime's file, pulling each chunk on a worker thread."""
        return cls(iterate_in_threadpool(iter(file.chunks)), file.filename, file.content_type, file.content_length)


class FileRelay:
    """The part of `PlatformCore` that relays files (a mixin: it shares the state)."""

    lock: threading.RLock
    runs: dict[str, RunRecord]
    _file_slots: dict[str, asyncio.Future[FileStream | None]]

    if TYPE_CHECKING:

        def fail(self, run_id: str, error: dict[str, Any]) -> None:
            """Fail the run with `error` (the platform's own, in `_core`)."""

        def _notify(self, run_id: str) -> None: ...

        def _spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...

    def deliver_file(self, run_id: str, stream: FileStream) -> None:
        """Hand a runtime's file to the waiting download, or drain it when nobody is downloading (loop thread)."""
        with self.lock:
            slot = self._file_slots.pop(run_id, None)
        if slot is not None and not slot.done():
            slot.set_result(stream)
        else:
            self._spawn(self.drain(run_id, stream))

    async def drain(self, run_id: str, stream: FileStream) -> None:
        """Read a file nobody downloads to its end, and record its metadata."""
        size = 0
        try:
            async for chunk in stream.chunks:
                size += len(chunk)
        except Exception as exc:
            self.fail(run_id, error_of(exc))
            return
        finally:
            if stream.close is not None:
                await stream.close()
        self.complete_file(run_id, stream, size)

    async def wait_for_file(self, run_id: str, timeout_s: float) -> FileStream | None:
        """The run's file once its runtime produces it; None when the run ends without one.

        Raises:
            TimeoutError: `timeout_s` seconds passed first (a file arriving later is drained).
        """
        with self.lock:
            slot = self._file_slots.get(run_id)
        if slot is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(slot), timeout_s)
        finally:
            with self.lock:
                self._file_slots.pop(run_id, None)

    def complete_file(self, run_id: str, stream: FileStream, size: int) -> None:
        """End a file run completed once its whole file was streamed; the platform keeps metadata only."""
        with self.lock:
            run = self.runs[run_id]
            if run.terminal:
                return
            run.output_data = {"filename": stream.filename, "contentType": stream.content_type, "sizeBytes": size}
            run.move_to("completed")
            self._notify(run_id)


def settle(slot: asyncio.Future[FileStream | None]) -> None:
    """End a download's wait for a file with no file (its run ended without one)."""
    if not slot.done():
        slot.set_result(None)
