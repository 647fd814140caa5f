"""Waiting on runs without polling or threads: futures in the waiter's event loop, woken on each change."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection

from ._files import FileStream, settle
from ._runs import RunRecord


class Waiting:
    """The part of `PlatformCore` that wakes waiters (a mixin: it shares the state)."""

    lock: threading.RLock
    loop: asyncio.AbstractEventLoop | None
    runs: dict[str, RunRecord]
    _waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]]
    _file_slots: dict[str, asyncio.Future[FileStream | None]]

    def _notify(self, run_id: str) -> None:
        """Wake everything waiting on a run (call with the lock held)."""
        for loop, future in self._waiters.pop(run_id, []):
            loop.call_soon_threadsafe(_wake, future)
        run = self.runs.get(run_id)
        slot = self._file_slots.get(run_id)
        if slot is not None and run is not None and run.terminal and self.loop is not None:
            self.loop.call_soon_threadsafe(settle, slot)

    async def wait_until_terminal(self, run_id: str, timeout_s: float) -> RunRecord:
        """The run once it has ended, or as it stands after `timeout_s` seconds: no polling, no thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                run = self.runs[run_id]
                left = deadline - loop.time()
                if run.terminal or left <= 0:
                    return run
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                with self.lock:
                    waiting = self._waiters.get(run_id, [])
                    if (loop, future) in waiting:
                        waiting.remove((loop, future))

    async def wait_until_any_terminal(self, run_ids: Collection[str], timeout_s: float) -> None:
        """Return once any of the runs has ended, or after `timeout_s` seconds: one future for them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                left = deadline - loop.time()
                if left <= 0 or any(self.runs[run_id].terminal for run_id in run_ids):
                    return
                future: asyncio.Future[None] = loop.create_future()
                for run_id in run_ids:
                    self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                pass
            finally:
                with self.lock:
                    for run_id in run_ids:
                        waiting = self._waiters.get(run_id)
                        if waiting and (loop, future) in waiting:
                            waiting.remove((loop, future))

    async def wait_for_events(self, run_id: str, after: int, timeout_s: float) -> None:
        """Return once the run has more than `after` events, or after `timeout_s` seconds: no polling, no thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                left = deadline - loop.time()
                if len(self.runs[run_id].events) > after or left <= 0:
                    return
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                pass
            finally:  # also when the caller went away (the task cancelled)
                with self.lock:
                    waiting = self._waiters.get(run_id, [])
                    if (loop, future) in waiting:
                        waiting.remove((loop, future))


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
