"""Concurrency limits of a runtime host (per agent, and for all agents): slots to work in, and a bounded queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from .. import _config as check
from .._errors import InvalidArgumentError


class Limit:
    """At most `max_concurrency` runs at once (None: no limit), at most `max_queued` more waiting (None: no bound).

    `in_flight` counts the runs taken and not ended: working or waiting their turn. Used on the
    serving event loop only; the semaphore is made there, at first use.
    """

    def __init__(self, max_concurrency: int | None, max_queued: int | None, what: str) -> None:
        self.max_concurrency: int | None = (
            None if max_concurrency is None else check.positive_int(max_concurrency, "max_concurrency")
        )
        self.max_queued: int | None = None if max_queued is None else check.non_negative_int(max_queued, "max_queued")
        if self.max_queued is not None and self.max_concurrency is None:
            raise InvalidArgumentError(
                f"max_queued bounds the runs waiting for a max_concurrency slot of {what}: set both"
            )
        self.in_flight: int = 0
        self._slots: asyncio.Semaphore | None = None

    def full(self) -> bool:
        """Whether a new run would find no slot and no place in the queue."""
        if self.max_concurrency is None or self.max_queued is None:
            return False
        return self.in_flight >= self.max_concurrency + self.max_queued

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots while the block runs (waiting for one first when all are taken)."""
        if self.max_concurrency is None:
            yield
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        async with self._slots:
            yield
