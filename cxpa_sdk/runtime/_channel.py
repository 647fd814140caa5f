"""A file run's bytes on their way from the run's task to the trigger's HTTP answer, one chunk at a time.

The run's task (the producer) opens the channel with the answer's head, puts each chunk, and ends
it or cuts it; the answer (the consumer) waits for the head, then sends each chunk as it comes. At
most one chunk waits between them, so memory stays flat for any size and a slow reader slows the
producer. When the platform stops reading (`gone`), the producer's next put raises `CallerGone`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import cast

from ._files import FileHead

_END = object()


class CallerGone(Exception):
    """The platform stopped reading the file's answer: the producer stops (the platform ends the run)."""


class FileCut(Exception):
    """The file's answer is cut, so that the platform sees a body that did not end (the run was failed)."""


class FileChannel:
    """One file run's head and chunks, from its producer to its answer, with at most one chunk in between."""

    def __init__(self) -> None:
        self._head: asyncio.Future[FileHead] = asyncio.get_running_loop().create_future()
        self._chunks: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
        self._gone = False

    def __repr__(self) -> str:
        return f"FileChannel(opened={self._head.done()}, gone={self._gone})"

    # -- the producer (the run's task) ---------------------------------------------------------

    def open(self, head: FileHead) -> None:
        """Give the answer its head: it starts sending."""
        if not self._head.done():
            self._head.set_result(head)

    async def put(self, chunk: bytes) -> None:
        """Hand one chunk on, waiting while the one before is not yet sent.

        Raises:
            CallerGone: The platform stopped reading.
        """
        if self._gone:
            raise CallerGone
        await self._chunks.put(chunk)
        if self._gone:
            raise CallerGone

    async def end(self) -> None:
        """The file is whole: the answer ends."""
        if not self._gone:
            await self._chunks.put(_END)

    def cut(self, reason: BaseException) -> None:
        """End the answer without its end: before the head, the answer is an error; after it, the body is cut."""
        if not self._head.done():
            self._head.set_exception(FileCut(str(reason)))
            return
        while not self._chunks.empty():  # what waits will not be sent: make room for the cut
            self._chunks.get_nowait()
        self._chunks.put_nowait(FileCut(str(reason)))

    # -- the consumer (the answer) -------------------------------------------------------------

    async def head(self) -> FileHead:
        """The answer's head, once the producer has it.

        Raises:
            FileCut: The run ended before its file began.
        """
        return await self._head

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's chunks as the producer puts them.

        Raises:
            FileCut: The producer cut the file: the answer must not end as if whole.
        """
        while True:
            item = await self._chunks.get()
            if item is _END:
                return
            if isinstance(item, FileCut):
                raise item
            yield cast(bytes, item)

    def leave(self) -> None:
        """The platform stopped reading: the producer's next put raises CallerGone."""
        self._gone = True
        if not self._head.done():
            self._head.cancel()
        while not self._chunks.empty():
            self._chunks.get_nowait()
