"""The seam between the shells and the core: the settings a client's flows take, and how it performs one.

Module functions, handles, shared waits and downloads reach a client through its `_seam` only, not
through its other private attributes: what they may use of it is this small, named surface.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ._engine import Flow, Settings, T


class Seam:
    """A sync client as the core sees it: `settings`, and `run(flow)` to perform a flow on its pool."""

    __slots__ = ("_perform", "settings")

    def __init__(self, settings: Settings, perform: Callable[[Flow[Any]], Any]) -> None:
        self.settings = settings
        self._perform = perform

    def run(self, flow: Flow[T]) -> T:
        """Perform `flow` on the client's pool; its result."""
        result: T = self._perform(flow)
        return result


class AsyncSeam:
    """An async client as the core sees it: `settings`, and `await run(flow)` to perform a flow on its pool."""

    __slots__ = ("_perform", "settings")

    def __init__(self, settings: Settings, perform: Callable[[Flow[Any]], Awaitable[Any]]) -> None:
        self.settings = settings
        self._perform = perform

    async def run(self, flow: Flow[T]) -> T:
        """Perform `flow` on the client's pool for the running event loop; its result."""
        result: T = await self._perform(flow)
        return result
