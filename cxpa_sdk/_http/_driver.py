"""Performing a flow's steps with httpx: `drive` (sync) and `adrive` (async), the only I/O of a call.

The flows (`_engine`) decide; these drivers send, read bodies (decoded and bounded by `_decoding`,
checked against the deadline between reads), close and sleep. What goes wrong in a step is thrown
back into the flow, outside the driver's `except`, so the flow's error never chains the driver's.
The SDK's own pools (`SdkClient`, `AsyncSdkClient`) take a request straight to their transport; a
client brought with `http_client=` gets it through its `send`, with its own hooks, auth and mounts.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, cast

import httpx2

from .._core._decoding import Decoder, DecodingError
from .._core._engine import BodyTooLarge, Close, Flow, Notify, ReadBody, Send, Sleep, Step, T
from .._core._exchange import Request, SendFailed
from .._logging import logger
from ._httpx import httpx_request, send_failed
from ._reply import AsyncReply
from ._transport import AsyncSdkClient, SdkClient

# What goes wrong in a step and is thrown into the flow instead of raised: the flow turns each into a typed error.
_THROWN = (httpx2.TransportError, SendFailed, BodyTooLarge, DecodingError)


class _Steps(Iterator[Step], Generic[T]):
    """A flow's steps, each one after the flow was sent the last one's result or thrown its error.

    `drive` and `adrive` share it; they differ only in how they perform a step. The error is thrown
    in when the driver's `except` has ended, so that the flow's own error does not chain the
    driver's. Results and errors are handed over through lists, popped as they go in, so that no
    frame still holds an answer's bytes when the flow raises (a traceback formatted with its locals
    would show them).
    """

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self._sent: list[Any] = [None]  # a generator's first step is its answer to None
        self._thrown: list[Exception] = []
        self.value: T  # the flow's result, once it returned

    def __next__(self) -> Step:
        """The flow's next step; StopIteration, with the flow's result in `value`, once it returned."""
        try:
            if self._thrown:
                return self._flow.throw(self._thrown.pop())
            return self._flow.send(self._sent.pop())
        except StopIteration as stop:
            self.value = stop.value
            raise

    def send(self, result: Any) -> None:
        """What the step got, for the flow."""
        self._sent.append(result)

    def throw(self, exc: Exception) -> None:
        """What went wrong in the step, for the flow: a transport's error as SendFailed, others untraced."""
        self._thrown.append(send_failed(exc) if isinstance(exc, httpx2.TransportError) else exc.with_traceback(None))


def drive(flow: Flow[T], client: httpx2.Client, sleep: Callable[[float], None] = time.sleep) -> T:
    """Perform a flow's steps with a sync httpx client; its result."""
    steps = _Steps(flow)
    try:
        for step in steps:
            try:
                steps.send(_perform(step, client, sleep))
            except _THROWN as exc:
                steps.throw(exc)
        return steps.value
    finally:
        flow.close()


async def adrive(flow: Flow[T], client: httpx2.AsyncClient, sleep: Callable[[float], Any]) -> T:
    """Perform a flow's steps with an async httpx client; its result."""
    steps = _Steps(flow)
    try:
        for step in steps:
            try:
                steps.send(await _aperform(step, client, sleep))
            except _THROWN as exc:
                steps.throw(exc)
        return steps.value
    finally:
        flow.close()


def _perform(step: Step, client: httpx2.Client, sleep: Callable[[float], None]) -> Any:
    """One step's I/O with a sync client; what it got (None for a step that gets nothing)."""
    match step:
        case Send(request=request):
            return _send(client, request)
        case ReadBody():
            return _read_sync(step)
        case Close(response=response):
            cast("httpx2.Response", response).close()
        case Notify():
            _notify(step)
        case Sleep(seconds=seconds):
            sleep(seconds)
    return None


async def _aperform(step: Step, client: httpx2.AsyncClient, sleep: Callable[[float], Any]) -> Any:
    """One step's I/O with an async client; what it got (None for a step that gets nothing)."""
    match step:
        case Send(request=request):
            return await _asend(client, request)
        case ReadBody():
            return await _read_async(step)
        case Close(response=response):
            await cast("AsyncReply", response).aclose()
        case Notify():
            await _anotify(step)
        case Sleep(seconds=seconds):
            await sleep(seconds)
    return None


def _send(client: httpx2.Client, request: Request) -> httpx2.Response:
    """Send on the SDK's own pool directly, or through a brought client's `send` (its hooks, auth and mounts)."""
    if isinstance(client, SdkClient):
        return client.send_own(request)
    return client.send(httpx_request(request, client.headers), stream=True)


async def _asend(client: httpx2.AsyncClient, request: Request) -> AsyncReply:
    """The async twin of `_send` (the SDK's own pool may be aiohttp's)."""
    if isinstance(client, AsyncSdkClient):
        return await client.send_own(request)
    return await client.send(httpx_request(request, client.headers), stream=True)


def _hook_failed(hook: Any, method: str, exc: BaseException) -> None:
    """A hook raised: log it and go on (a hook never breaks a call's promises)."""
    logger.warning(
        "cxpa_sdk: hook %s.%s raised %s: %s (the call goes on)", type(hook).__name__, method, type(exc).__name__, exc
    )


def _notify(step: Notify) -> None:
    """Call each hook's method with the event (sync clients: an `async def` hook is refused, logged)."""
    for hook in step.hooks:
        try:
            result = getattr(hook, step.method)(step.event)
        except Exception as exc:
            _hook_failed(hook, step.method, exc)
            continue
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            refused = TypeError("an async hook needs an async client (AsyncCxpa, AsyncAgentClient)")
            _hook_failed(hook, step.method, refused)


async def _anotify(step: Notify) -> None:
    """Call each hook's method with the event, awaiting an `async def` one."""
    for hook in step.hooks:
        try:
            result = getattr(hook, step.method)(step.event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            _hook_failed(hook, step.method, exc)


class _Body:
    """An answer's body as it is read: decoded, refused past the limit, checked against the deadline."""

    def __init__(self, step: ReadBody) -> None:
        encoding = step.response.headers.get("content-encoding")
        self._decoder = None if encoding is None else Decoder(encoding)
        self._step = step
        self._data = bytearray()

    def _take(self, pieces: Iterable[bytes]) -> None:
        for piece in pieces:
            self._data += piece
            if len(self._data) > self._step.limit:
                raise BodyTooLarge

    def add(self, raw: bytes) -> None:
        """The next raw bytes; then, between reads, the deadline (a brought client's sockets don't end by it)."""
        self._take((raw,) if self._decoder is None else self._decoder.feed(raw))
        if time.monotonic() >= self._step.deadline:
            raise SendFailed("ReadTimeout", "the call's deadline passed", never_sent=False, timed_out=True)

    def finish(self) -> bytearray:
        """The whole decoded body, once the raw one ended."""
        if self._decoder is not None:
            self._take(self._decoder.finish())
        return self._data


def _already_read(response: httpx2.Response | AsyncReply, limit: int) -> bytearray:
    """The body of a response read before the SDK saw it (a mock transport's), decoded by httpx already."""
    if len(response.content) > limit:
        raise BodyTooLarge
    return bytearray(response.content)


def _read_sync(step: ReadBody) -> bytearray:
    response = cast("httpx2.Response", step.response)  # a sync driver's answers are httpx2's
    if response.is_stream_consumed:
        return _already_read(response, step.limit)
    try:
        body = _Body(step)
        for raw in response.iter_raw():
            body.add(raw)
        return body.finish()
    finally:
        response.close()


async def _read_async(step: ReadBody) -> bytearray:
    response = cast("AsyncReply", step.response)  # an async driver's answers are httpx2's or aiohttp's
    if response.is_stream_consumed:
        return _already_read(response, step.limit)
    try:
        body = _Body(step)
        async for raw in response.aiter_raw():
            body.add(raw)
        return body.finish()
    finally:
        await response.aclose()
