"""Running one file agent's run: `started`, then its file streamed into the trigger's answer, chunk by chunk.

The function (async, sync, or a generator of either kind) makes an `AgentFile`; its bytes go into
the run's `FileChannel`, one chunk at a time, so memory stays flat for any size. The platform
completes the run when the whole file has reached its caller: the host sends no `complete`. A
failure (an exception, no file, a chunk that is no bytes, a length the bytes do not match) is
reported with `fail`, then the answer is cut, so the platform never takes a partial file for a
whole one. A cancel stops the function and cuts the answer without a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterator
from concurrent.futures import Executor
from typing import Any

from .._errors import CxpaError, RunCancelledError
from .._logging import logger
from ..types import ResumePayload, TriggerPayload
from ._channel import CallerGone, FileChannel
from ._clients import RunClients
from ._context import RunContext, SyncRunContext
from ._files import AgentFile, InvalidOutputError, checked_chunk, file_of, head_of, sliced
from ._input import InvalidInputError, parse_input
from ._state import RunState, cancelled_error

_DONE = object()


class FileRun:
    """One file run: the function, its context and the channel its bytes go into."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        payload: TriggerPayload | ResumePayload,
        state: RunState,
        channel: FileChannel,
        pool: Executor,
        defaults: tuple[str, str],
    ) -> None:
        self._function = function
        self._payload = payload
        self._state = state
        self._channel = channel
        self._pool = pool
        self._defaults = defaults
        self._is_async = inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)

    def __repr__(self) -> str:
        return f"FileRun(run_id={self._state.run_id!r})"

    async def run(self, clients: RunClients, model: type | None) -> None:
        """Run the function and stream its file; report `started`, and `fail` when it goes wrong."""
        try:
            context = self._context(clients)
        except CxpaError as exc:
            logger.error("run %s cannot report: %s", self._state.run_id, exc)
            self._channel.cut(exc)
            return
        try:
            await self._stream(context, model)
        finally:
            await self._call(context._close)

    def _context(self, clients: RunClients) -> RunContext[Any] | SyncRunContext[Any]:
        raw = dict(self._payload.input or {})
        if self._is_async:
            return RunContext(self._payload, self._state, raw, clients)
        return SyncRunContext(self._payload, self._state, raw, clients)

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call one of the context's own functions: awaited (async context), or on the host's pool (sync)."""
        if self._is_async:
            return await function(*args)
        context = contextvars.copy_context()  # the run's span stays current on the pool's thread
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, function, *args)

    async def _stream(self, context: RunContext[Any] | SyncRunContext[Any], model: type | None) -> None:
        state, channel = self._state, self._channel
        try:
            if state.was_cancelled():
                channel.cut(cancelled_error(state.run_id))
                return
            await self._call(context._client.started)
            if model is not None:
                context._input = parse_input(model, context._input)
            file = await self._file(context)
            await self._send(file)
        except CallerGone:
            logger.info("the platform stopped reading the file of run %s: it ends the run", state.run_id)
        except (RunCancelledError, asyncio.CancelledError) as exc:
            channel.cut(exc)
            if isinstance(exc, asyncio.CancelledError) and not state.was_cancelled():
                raise
        except InvalidInputError as exc:
            await self._fail(context, str(exc), "InvalidInputError")
        except InvalidOutputError as exc:
            await self._fail(context, str(exc), "InvalidOutputError")
        except Exception as exc:  # the function's failure is the run's: reported, then the answer is cut
            await self._fail(context, exc, None)

    async def _file(self, context: RunContext[Any] | SyncRunContext[Any]) -> AgentFile:
        function = self._function
        if inspect.isasyncgenfunction(function):
            result = function(context)
        elif inspect.iscoroutinefunction(function):
            result = await function(context)
        else:
            result = await self._call(function, context)
        return file_of(result, *self._defaults)

    async def _send(self, file: AgentFile) -> None:
        head = head_of(file)
        self._channel.open(head)
        sent = 0
        held: bytes | None = None  # the last chunk goes only once the source ended well: no whole-looking cut
        async with contextlib.aclosing(self._chunks(file)) as chunks:
            async for chunk in chunks:
                if not chunk:
                    continue
                if head.length is not None and sent + len(chunk) > head.length:
                    raise InvalidOutputError(f"the file runs past its length of {head.length} bytes")
                if held is not None:
                    await self._channel.put(held)
                held, sent = chunk, sent + len(chunk)
        if head.length is not None and sent != head.length:
            raise InvalidOutputError(f"the file ended after {sent} of its {head.length} bytes")
        if held is not None:
            await self._channel.put(held)
        await self._channel.end()

    async def _chunks(self, file: AgentFile) -> AsyncGenerator[bytes]:
        """The file's chunks, each checked; a sync iterable's pulled on the pool; the source closed at the end."""
        content = file.content
        if isinstance(content, bytes):
            for chunk in sliced(content):
                yield chunk
            return
        if isinstance(content, AsyncIterable):
            try:
                async for chunk in content:
                    yield checked_chunk(chunk)
            finally:
                await _aclose(content)
            return
        loop = asyncio.get_running_loop()
        iterator: Iterator[Any] = await loop.run_in_executor(self._pool, iter, content)
        try:
            while not self._state.was_cancelled():
                pulled: object = await loop.run_in_executor(self._pool, _next, iterator)
                if pulled is _DONE:
                    return
                yield checked_chunk(pulled)
            raise cancelled_error(self._state.run_id)  # a sync function cannot be interrupted: it stops between chunks
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                await loop.run_in_executor(self._pool, close)

    async def _fail(
        self, context: RunContext[Any] | SyncRunContext[Any], error: BaseException | str, name: str | None
    ) -> None:
        """Report the failure (unless the run was cancelled), then cut the answer."""
        if not self._state.was_cancelled():
            try:
                await self._call(context._fail, error, name)
            except CxpaError as exc:
                logger.warning("could not report the failure of run %s: %s", self._state.run_id, exc)
        self._channel.cut(error if isinstance(error, BaseException) else InvalidOutputError(error))


def _next(iterator: Iterator[object]) -> object:
    """The iterator's next chunk, or _DONE at its end (a StopIteration cannot cross a future)."""
    return next(iterator, _DONE)


async def _aclose(content: AsyncIterable[bytes]) -> None:
    close = getattr(content, "aclose", None)
    if callable(close):
        await close()
