"""Draining a runtime host on shutdown: its working runs get a drain time, then are failed "runtime shut down".

Runs suspended in `wait_for_token` are let go without a report: they wait on the platform, and
their resume goes to the agent's `on_resume` handler in whichever process it reaches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from .._errors import CxpaError
from .._logging import logger
from ._clients import RunClients
from ._state import RunState

REPORT_GRACE_S = 5.0  # how long the drain waits for the stopped runs' tasks to end, in seconds
SHUTDOWN_ERROR = "RuntimeShutDown"


async def drain(runs: Mapping[str, RunState], seconds: float, clients: RunClients) -> None:
    """Give the working runs `seconds` to end, then stop each one left and fail it; let the waiting ones go."""
    working = [state.runner for state in runs.values() if not state.waiting() and state.runner is not None]
    if working:
        logger.info("the runtime is shutting down: %d runs get %g s to end", len(working), seconds)
        await asyncio.wait(working, timeout=seconds)
    left = list(runs.values())
    for state in left:
        waiting = state.waiting()
        state.cancel()  # the function stops (async) or sees `cancelled` (sync); the host reports nothing for it
        if not waiting:
            await _fail(state, seconds, clients)
    runners = [state.runner for state in left if state.runner is not None]
    if runners:
        await asyncio.wait(runners, timeout=REPORT_GRACE_S)


async def _fail(state: RunState, seconds: float, clients: RunClients) -> None:
    """Fail a run the shutdown stopped, with a message saying so."""
    message = f"runtime shut down: the run did not end within the drain time of {seconds:g} s"
    try:
        client = clients.for_async(state.payload)
    except CxpaError as exc:
        logger.warning("could not fail run %s on shutdown: %s", state.run_id, exc)
        return
    try:
        await client.fail(message, name=SHUTDOWN_ERROR)
    except CxpaError as exc:
        logger.warning("could not fail run %s on shutdown: %s", state.run_id, exc)
    finally:
        await client.aclose()
