"""What both run handles share: a triggered run as an object to wait for, read, cancel and follow.

`Cxpa.trigger_run` returns a `RunHandle` (`_sync_handles`; `AsyncCxpa.trigger_run` an
`AsyncRunHandle`, `_async_handles`), and `client.run(agent_id, run_id)` rebuilds one from a stored
`to_dict()` in any process. A handle holds no connection: it is its client, the agent id and the run
id. Here: a handle's identity, the pieces of `as_completed`, and the clients' wait strategies.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from . import _config as check
from ._core import _operations as ops
from ._core._seam import Seam
from ._errors import InvalidArgumentTypeError, WaitTimeoutError
from ._logging import gave_up
from .types import Run, RunStatus, TriggeredRun, WaitTimedOut


class _HandleBase:
    """What both handles share: the run's identity, its last known status, and the trigger's answer."""

    __slots__ = ("agent_id", "attempts", "extra", "replayed", "request_id", "run_id", "status")

    agent_id: int
    run_id: str
    status: RunStatus | None
    request_id: str | None
    replayed: bool
    attempts: int
    extra: Mapping[str, Any]

    def __init__(
        self,
        agent_id: int,
        run_id: str,
        status: RunStatus | None,
        *,
        request_id: str | None = None,
        replayed: bool = False,
        attempts: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.extra = extra or {}
        self.run_id = run_id
        self.status = status
        self.request_id = request_id
        self.replayed = replayed
        self.attempts = attempts

    def to_dict(self) -> dict[str, Any]:
        """The handle as a small JSON-safe reference: `{"agent_id": ..., "run_id": ...}`.

        Store it anywhere; `client.run(**reference)` rebuilds the handle, in this process or another.
        """
        return {"agent_id": self.agent_id, "run_id": self.run_id}

    def _seen(self, run: Run) -> Run:
        self.status = run.status
        return run

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _HandleBase):
            return NotImplemented
        return (self.agent_id, self.run_id) == (other.agent_id, other.run_id)

    def __hash__(self) -> int:
        return hash((self.agent_id, self.run_id))

    def __repr__(self) -> str:
        status = None if self.status is None else self.status.value
        return f"{type(self).__name__}(agent_id={self.agent_id}, run_id={self.run_id!r}, status={status!r})"


@contextmanager
def noting_run(agent_id: int, known: Sequence[str], idempotency_key: str | None = None) -> Iterator[None]:
    """On an interrupt or a cancelled task while waiting, a note on it naming the run that goes on.

    KeyboardInterrupt and asyncio.CancelledError carry no run id; the note (shown under the
    traceback) says which run is still running and how to wait for it again, or, before the
    platform named the run, which Idempotency-Key asks for the same run again. CxpaErrors name
    their run themselves (`run_id`).
    """
    try:
        yield
    except BaseException as stop:
        asyncio = sys.modules.get("asyncio")  # a task can only be cancelled where asyncio is loaded
        if not (
            isinstance(stop, KeyboardInterrupt) or (asyncio is not None and isinstance(stop, asyncio.CancelledError))
        ):
            raise
        if known:
            stop.add_note(
                f"run {known[-1]} of agent {agent_id} goes on (stopping a wait never cancels a run): wait for it "
                f"again with client.run({agent_id}, {known[-1]!r}).wait()"
            )
        elif idempotency_key is not None:
            stop.add_note(
                f"the run's id was not known yet (the platform names it when it answers); the same call, with the "
                f"same arguments and idempotency_key={idempotency_key!r}, gets that run rather than starting another"
            )
        raise


def trigger_answer(triggered: TriggeredRun) -> dict[str, Any]:
    """What a handle keeps of the trigger's answer: `RunHandle(client, agent_id, run_id, status, **it)`."""
    return {
        "request_id": triggered.request_id,
        "replayed": triggered.replayed,
        "attempts": triggered.attempts,
        "extra": triggered.extra,
    }


def checked_reference(agent_id: object, run_id: object) -> tuple[int, str]:
    """A handle's agent id and run id, checked as every call checks them."""
    return check.agent_id(agent_id), check.run_id(run_id)


def _handles(handles: Iterable[Any], kind: type[_HandleBase]) -> list[Any]:
    found = list(handles)
    for handle in found:
        if not isinstance(handle, kind):
            raise InvalidArgumentTypeError(f"expected {kind.__name__} objects, not {type(handle).__name__}")
    return found


def _by_run(handles: Iterable[Any]) -> dict[tuple[int, str], Any]:
    """The handles by their run, in the order given (a run handed in twice is waited for once)."""
    return {(handle.agent_id, handle.run_id): handle for handle in handles}


def _timed_out(pending: Mapping[tuple[int, str], _HandleBase], timeout: float) -> WaitTimeoutError:
    """The error of an `as_completed` whose clock ran out: it names every run still going, in `pending`."""
    first = next(iter(pending.values()))
    names = ", ".join(handle.run_id for handle in list(pending.values())[:5])
    more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
    status = "unknown" if first.status is None else first.status.value
    return gave_up(
        WaitTimeoutError(
            f"{len(pending)} run(s) did not end within {timeout:g} s: {names}{more}",
            run_id=first.run_id,
            status=status,
            pending=tuple(pending),
        )
    )


class AsyncWaits(Protocol):
    """An async client's wait strategy (`_waits.SharedWaits`: the waits of an event loop share batched requests)."""

    async def trigger_run_and_wait(
        self, agent_id: int, input: Mapping[str, Any], *, timeout_ms: int | None, idempotency_key: str, known: list[str]
    ) -> Run | WaitTimedOut:
        """Trigger and wait; `known` receives the run id as soon as it is known."""

    async def wait_for_run(self, agent_id: int, run_id: str, wait_s: float) -> Run:
        """Wait for a run (checked ids) to end within `wait_s` seconds; WaitTimeoutError after."""


class DirectWaits:
    """A sync client's wait strategy: each wait holds its own connection (a held run read), no sharing.

    What the async client's strategy (`AsyncWaits`) is on this side: the async one shares batched
    requests between the waits of an event loop; a thread holds one connection per wait anyway.
    """

    __slots__ = ("_seam",)

    def __init__(self, seam: Seam) -> None:
        self._seam = seam

    def trigger_run_and_wait(
        self, agent_id: int, input: Mapping[str, Any], *, timeout_ms: int | None, idempotency_key: str, known: list[str]
    ) -> Run | WaitTimedOut:
        """Trigger and wait on one connection; `known` receives the run id as soon as it is known."""
        seam = self._seam
        flow = ops.trigger_run_and_wait(
            seam.settings, agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key, known=known
        )
        return seam.run(flow)

    def wait_for_run(self, agent_id: int, run_id: str, wait_s: float) -> Run:
        """Wait for a run (checked ids) to end within `wait_s` seconds; WaitTimeoutError after."""
        seam = self._seam
        return seam.run(ops.wait_for_run(seam.settings, agent_id, run_id, timeout=wait_s))
