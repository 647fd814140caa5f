"""Inline agents: runs that end inside the platform's core, with no runtime thread and no HTTP callback.

An inline agent (`LocalPlatform.add_agent(name, inline=True)`) completes each run with its input as
output, after the agent's `inline_delay_s` (or the run's own `input.seconds`) timed on the
platform's event loop (`loop.call_later`): a run costs a record and a timer, so the platform
sustains runs by the hundred thousand, and the waits on them (`wait_for_run`, `wait_for_runs`) are
woken by the run's end as any other. A run longer than the agent's maxRunDurationMs fails at that
bound, as a runtime's would; a cancelled run stays cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from ._runs import Agent, RunRecord

INLINE_SECONDS = "seconds"
"""The input field that sets one run's delay, in seconds (a number >= 0), in place of the agent's."""


def inline_delay_s(agent: Agent, input_data: dict[str, Any]) -> float | None:
    """How long an inline run lasts, in seconds: `input.seconds`, else the agent's delay; None when invalid."""
    value = input_data.get(INLINE_SECONDS, agent.inline_delay_s)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
        return None
    return float(value)


class InlineRuns:
    """The part of `PlatformCore` that ends inline agents' runs on its event loop (a mixin: it shares the state)."""

    lock: threading.RLock
    loop: asyncio.AbstractEventLoop | None
    runs: dict[str, RunRecord]

    if TYPE_CHECKING:

        def _notify(self, run_id: str) -> None:
            """Wake everything waiting on a run (`_waiting`)."""

    def _start_inline(self, agent: Agent, run: RunRecord) -> None:
        """Time the run's end on the platform's loop: no thread; from the loop itself, no wake-up write either."""
        loop = self.loop
        if loop is None:
            raise RuntimeError("the platform is not serving: use LocalPlatform.serve()")
        delay = inline_delay_s(agent, run.input_data)
        bound = agent.max_run_duration_ms / 1000
        error: dict[str, Any] | None = None
        if delay is None:
            delay, error = 0.0, _bad_seconds()
        elif delay > bound:
            delay, error = bound, _too_long(agent)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_later(delay, self._end_inline, run.id, error)
        else:
            loop.call_soon_threadsafe(lambda: loop.call_later(delay, self._end_inline, run.id, error))

    def _end_inline(self, run_id: str, error: dict[str, Any] | None) -> None:
        """Complete the run with its input as output (or fail it with `error`), unless it ended already."""
        with self.lock:
            run = self.runs.get(run_id)
            if run is None or run.terminal:
                return
            run.move_to("running")
            if error is not None:
                run.error = error
                run.move_to("failed")
            else:
                run.output_data = run.input_data
                run.record("output", run.input_data)
                run.move_to("completed")
            self._notify(run_id)


def _bad_seconds() -> dict[str, Any]:
    return {"name": "ValueError", "message": f"input.{INLINE_SECONDS}: must be a number >= 0"}


def _too_long(agent: Agent) -> dict[str, Any]:
    return {"name": "TimeoutError", "message": f"the run exceeded maxRunDurationMs ({agent.max_run_duration_ms} ms)"}
