"""Performing a flow's steps with httpx: `drive` (sync) and `adrive` (async), the only I/O of a call.

The flows (`_engine`) decide; these drivers send, read bodies (decoded and bounded by `_decoding`,
checked against the deadline between reads), close and sleep. What goes wrong in a step is thrown
back into the flow, outside the driver's `except`, so the flow's error never chains the driver's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from ._decoding import Decoder, DecodingError
from ._engine import BodyTooLarge, Close, Flow, ReadBody, Send, T

# What a driver throws into the flow instead of raising: the flow turns each into a typed error.
_THROWN = (httpx.TransportError, BodyTooLarge, DecodingError)


def with_client_headers(request: httpx.Request, client_headers: httpx.Headers) -> httpx.Request:
    """The request with its httpx client's headers beneath its own, merged as httpx's `build_request` does.

    That sends the SDK's User-Agent, and the headers of a client brought with `http_client=`; the
    headers a call sets (Authorization, Idempotency-Key, Accept...) win.
    """
    own = {name.lower() for name, _ in request.headers.raw}
    missing = [(name, value) for name, value in client_headers.raw if name.lower() not in own]
    if missing:
        request.headers = httpx.Headers(missing + request.headers.raw)
    return request


def drive(flow: Flow[T], client: httpx.Client, sleep: Callable[[float], None] = time.sleep) -> T:
    """Perform a flow's steps with a sync httpx client; its result."""
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Send):
                    result: Any = client.send(with_client_headers(step.request, client.headers), stream=True)
                elif isinstance(step, ReadBody):
                    result = _read_sync(step)
                elif isinstance(step, Close):
                    step.response.close()
                    result = None
                else:
                    sleep(step.seconds)
                    result = None
            except _THROWN as exc:
                thrown = [exc.with_traceback(None)]
            else:
                # Handed over through a list, so that no local of this frame still holds an answer's
                # bytes when the flow raises (a traceback formatted with its locals would show them).
                sent, result = [result], None
                step = flow.send(sent.pop())
                continue
            # Thrown outside the `except`, so that the flow's error does not chain the driver's.
            step = flow.throw(thrown.pop())
    except StopIteration as stop:
        value: T = stop.value
        return value
    finally:
        flow.close()


async def adrive(flow: Flow[T], client: httpx.AsyncClient, sleep: Callable[[float], Any]) -> T:
    """Perform a flow's steps with an async httpx client; its result."""
    try:
        step = next(flow)
        while True:
            try:
                if isinstance(step, Send):
                    result: Any = await client.send(with_client_headers(step.request, client.headers), stream=True)
                elif isinstance(step, ReadBody):
                    result = await _read_async(step)
                elif isinstance(step, Close):
                    await step.response.aclose()
                    result = None
                else:
                    await sleep(step.seconds)
                    result = None
            except _THROWN as exc:
                thrown = [exc.with_traceback(None)]
            else:
                sent, result = [result], None
                step = flow.send(sent.pop())
                continue
            step = flow.throw(thrown.pop())
    except StopIteration as stop:
        value: T = stop.value
        return value
    finally:
        flow.close()


def _add(body: bytearray, pieces: Iterable[bytes], step: ReadBody) -> None:
    """Append decoded pieces, refusing the answer once it passes the limit."""
    for piece in pieces:
        body += piece
        if len(body) > step.limit:
            raise BodyTooLarge


def _check_deadline(step: ReadBody) -> None:
    """Between reads: the SDK's own sockets end by the deadline; a brought client's are checked here."""
    if time.monotonic() >= step.deadline:
        raise httpx.ReadTimeout("the call's deadline passed")


def _already_read(step: ReadBody) -> bytearray:
    """The body of a response read before the SDK saw it (a mock transport's), decoded by httpx already."""
    if len(step.response.content) > step.limit:
        raise BodyTooLarge
    return bytearray(step.response.content)


def _read_sync(step: ReadBody) -> bytearray:
    response = step.response
    if response.is_stream_consumed:
        return _already_read(step)
    body = bytearray()
    try:
        encoding = response.headers.get("content-encoding")
        decoder = None if encoding is None else Decoder(encoding)
        for raw in response.iter_raw():
            _add(body, (raw,) if decoder is None else decoder.feed(raw), step)
            _check_deadline(step)
        if decoder is not None:
            _add(body, decoder.finish(), step)
    finally:
        response.close()
    return body


async def _read_async(step: ReadBody) -> bytearray:
    response = step.response
    if response.is_stream_consumed:
        return _already_read(step)
    body = bytearray()
    try:
        encoding = response.headers.get("content-encoding")
        decoder = None if encoding is None else Decoder(encoding)
        async for raw in response.aiter_raw():
            _add(body, (raw,) if decoder is None else decoder.feed(raw), step)
            _check_deadline(step)
        if decoder is not None:
            _add(body, decoder.finish(), step)
    finally:
        await response.aclose()
    return body
