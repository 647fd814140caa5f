"""Running one run's function and reporting its end: `started`, then `complete` or `fail`, nothing after a cancel.

An async function runs as a task on the server's event loop; a sync one on the host's thread pool,
reporting from its thread with the sync client. Either way: `started` on entry, the return value is
`complete` (with `run.outputs` when set), an exception is `fail` (type, message, traceback), and a
cancelled run sends nothing more. A report the platform refuses is logged, never raised into the
server.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from .._errors import CxpaError, InvalidArgumentError, InvalidArgumentTypeError, RunCancelledError
from .._logging import logger
from ..types import ResumePayload, TriggerPayload
from ._clients import RunClients
from ._context import RunContext, SyncRunContext
from ._input import InvalidInputError, parse_input
from ._state import RunState

AsyncCall = Callable[[RunContext[Any]], Awaitable[Any]]
SyncCall = Callable[[SyncRunContext[Any]], Any]


async def run_async(
    call: AsyncCall,
    payload: TriggerPayload | ResumePayload,
    state: RunState,
    clients: RunClients,
    model: type | None = None,
) -> None:
    """Run an async function on this loop and report its end; a cancel delivery ends it silently.

    With a `model`, the run's input is checked against it after `started`; a bad one fails the run
    (`InvalidInputError`, naming the field) and the function is not called.
    """
    try:
        context: RunContext[Any] = RunContext(payload, state, dict(payload.input or {}), clients)
    except CxpaError as exc:
        logger.error("run %s cannot report: %s", state.run_id, exc)
        return
    try:
        try:
            await _run_async(call, context, state, model)
        finally:
            await context._close()
    except asyncio.CancelledError:
        if not state.was_cancelled():
            raise  # not a cancel delivery's (the server is stopping): let it through
        logger.debug("run %s was cancelled: its function was stopped, nothing more is sent", state.run_id)


async def _run_async(call: AsyncCall, context: RunContext[Any], state: RunState, model: type | None) -> None:
    try:
        if not state.was_cancelled():
            await context._start()
            if model is not None:
                context._input = parse_input(model, context._input)
            result = await call(context)
    except RunCancelledError:
        return  # the platform said so: the run has ended, nothing more is sent
    except InvalidInputError as exc:  # the input, not the function: no traceback of the check's
        await _report(state, context._fail(str(exc), "InvalidInputError"))
        return
    except Exception as exc:  # the function's failure is the run's: reported, not raised
        if not state.was_cancelled():
            await _report(state, context._fail(exc))
        return
    if not state.was_cancelled():
        await _report_result(state, context, result)


async def _report_result(state: RunState, context: RunContext, result: Any) -> None:
    try:
        await context._complete(result)
    except (InvalidArgumentError, InvalidArgumentTypeError) as exc:  # the return value is no output
        await _report(state, context._fail(exc, "InvalidOutputError"))
    except CxpaError as exc:
        _log_unreported(state, exc)


async def _report(state: RunState, report: Awaitable[None]) -> None:
    try:
        await report
    except CxpaError as exc:
        _log_unreported(state, exc)


def run_sync(
    call: SyncCall,
    payload: TriggerPayload | ResumePayload,
    state: RunState,
    clients: RunClients,
    model: type | None = None,
) -> None:
    """Run a sync function on this (pool) thread and report its end; a cancel delivery sends nothing more.

    A `model` is as `run_async`'s.
    """
    try:
        context: SyncRunContext[Any] = SyncRunContext(payload, state, dict(payload.input or {}), clients)
    except CxpaError as exc:
        logger.error("run %s cannot report: %s", state.run_id, exc)
        return
    try:
        _run_sync(call, context, state, model)
    finally:
        context._close()


def _run_sync(call: SyncCall, context: SyncRunContext[Any], state: RunState, model: type | None) -> None:
    try:
        if state.was_cancelled():
            return
        context._start()
        if model is not None:
            context._input = parse_input(model, context._input)
        result = call(context)
    except RunCancelledError:
        return  # the platform or a cancel delivery said so: nothing more is sent
    except InvalidInputError as exc:  # the input, not the function: no traceback of the check's
        _report_sync(state, functools.partial(context._fail, str(exc), "InvalidInputError"))
        return
    except Exception as exc:  # the function's failure is the run's: reported, not raised
        if not state.was_cancelled():
            _report_sync(state, functools.partial(context._fail, exc))
        return
    if state.was_cancelled():
        return
    try:
        context._complete(result)
    except (InvalidArgumentError, InvalidArgumentTypeError) as exc:
        _report_sync(state, functools.partial(context._fail, exc, "InvalidOutputError"))
    except CxpaError as exc:
        _log_unreported(state, exc)


def _report_sync(state: RunState, report: Callable[[], None]) -> None:
    try:
        report()
    except CxpaError as exc:
        _log_unreported(state, exc)


def _log_unreported(state: RunState, error: CxpaError) -> None:
    if isinstance(error, RunCancelledError):
        logger.debug("run %s was cancelled before its end was reported", state.run_id)
    else:
        logger.warning("could not report the end of run %s: %s", state.run_id, error)
