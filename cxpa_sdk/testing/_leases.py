"""The local platform's run leases (an extension of the seed's contract): who holds one, and failing those that lapse.

A runtime asks for a lease with its `started` (`leaseSeconds`), or with its answer to the trigger's
or the resume's delivery (the `CXPA-Lease-Seconds` header: the run holds it while it awaits its
`started` in the runtime, queued or resumed); every callback renews it, `waiting` and the run's end
give it up. A lease that lapses fails its run `RuntimeLost`. One timer on the serving loop watches
every lease: it is armed for the earliest expiry, and a renewal only moves a number (the timer, when
it fires, finds the lease renewed and looks again later), so a callback costs no timer work and no
run has a thread or a task of its own.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .._runtime._agent_base import LEASE_HEADER, MAX_LEASE_S, MIN_LEASE_S

logger = logging.getLogger("cxpa_sdk.testing")
LEASE_LOST = "RuntimeLost"
AWAITING_START = frozenset({"queued", "resumed"})  # the phases in which a delivery's answer may give a lease
HOLDING = AWAITING_START | {"running"}  # the phases (`RunRecord.lease_phase`) in which a run may hold a lease


def delivered_lease(values: list[str]) -> int | None:
    """The lease a runtime's answer to a delivery gives (its LEASE_HEADER values), None when it gives none fit.

    One value (repeats of it count as one) of whole seconds, MIN_LEASE_S to MAX_LEASE_S, in ASCII
    digits; anything else is no lease (a runtime's answer must not break the platform).
    """
    distinct = {value.strip() for value in values}
    if not distinct:
        return None
    value = distinct.pop() if len(distinct) == 1 else ""
    if len(value) <= len(str(MAX_LEASE_S)) and value.isascii() and value.isdigit():
        seconds = int(value)
        if MIN_LEASE_S <= seconds <= MAX_LEASE_S:
            return seconds
    logger.debug("a runtime's %s header is no lease, ignored: %r", LEASE_HEADER, values[:3])
    return None


def lapsed_error(seconds: int) -> dict[str, str]:
    """The error a run whose lease lapsed is failed with: what a person reads in its Run row."""
    return {
        "name": LEASE_LOST,
        "message": f"the runtime stopped reporting: no callback for {seconds} s (its lease lapsed)",
    }


class Leases:
    """The leases of one platform's runs: `after(event)` on each callback, a lapse fails the run through `fail`.

    Its state is guarded by the platform's lock (callers hold it); the timer runs on the serving loop.
    """

    def __init__(
        self,
        lock: threading.RLock,
        loop: Callable[[], asyncio.AbstractEventLoop | None],
        fail: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._lock = lock
        self._loop = loop
        self._fail = fail
        self._held: dict[str, tuple[int, float, int]] = {}  # run id -> (seconds, expires at (monotonic), generation)
        self._due: list[tuple[float, int, str]] = []  # (expires at, generation, run id): at most one live per run
        self._generation = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self.offered = True  # False: a platform without leases (`LocalPlatform(leases=False)`) ignores them

    def __repr__(self) -> str:
        return f"Leases(held={len(self._held)})"

    def held(self, run_id: str) -> int | None:
        """The lease a run holds now, in seconds (None: none)."""
        with self._lock:
            lease = self._held.get(run_id)
            return None if lease is None else lease[0]

    def after(self, run_id: str, event: dict[str, Any], phase: str) -> None:
        """Apply a callback `event` that left its run in `phase` (`lease_phase`; call with the lock held).

        `started` takes the lease it asks for (none without `leaseSeconds`); any other event (a
        queued or resumed run's `heartbeat`) renews a held one; a run neither queued, resumed nor
        running after it (waiting on a token, ended) holds none.
        """
        if phase not in HOLDING:
            self._held.pop(run_id, None)
        elif event.get("type") == "started":
            self._take(run_id, event.get("leaseSeconds"))
        elif (lease := self._held.get(run_id)) is not None:
            seconds, _, generation = lease
            self._held[run_id] = (seconds, time.monotonic() + seconds, generation)

    def delivered(self, run_id: str, values: list[str], phase: str) -> None:
        """A runtime took the run's trigger or resume delivery, its answer's LEASE_HEADER `values` (lock held).

        A fit lease is taken while the run awaits its `started` (`phase` queued, or resumed); a
        running run's lease is its `started`'s (which may have arrived first), a run waiting on a
        token or ended holds none, and a platform without leases takes none.
        """
        if not values or not self.offered:
            return
        seconds = delivered_lease(values)
        if seconds is not None and phase in AWAITING_START:
            self._take(run_id, seconds)

    def _take(self, run_id: str, seconds: int | None) -> None:
        if seconds is None:
            self._held.pop(run_id, None)
            return
        self._generation += 1
        expires = time.monotonic() + seconds
        self._held[run_id] = (seconds, expires, self._generation)
        heapq.heappush(self._due, (expires, self._generation, run_id))
        if expires < self._timer_at and (loop := self._loop()) is not None:
            self._timer_at = expires
            loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:
        """(On the loop) set the one timer for the earliest expiry."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not self._due:
                self._timer_at = float("inf")
                return
            at = self._due[0][0]
            self._timer_at = at
            self._timer = asyncio.get_running_loop().call_later(max(0.0, at - time.monotonic()), self._check)

    def _check(self) -> None:
        """(On the loop) fail every run whose lease lapsed; put the renewed ones back in line."""
        lapsed: list[tuple[str, int]] = []
        with self._lock:
            self._timer = None
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                _, generation, run_id = heapq.heappop(self._due)
                lease = self._held.get(run_id)
                if lease is None or lease[2] != generation:
                    continue  # given up, or taken again (its own entry is in line)
                seconds, expires, _ = lease
                if expires > now:
                    heapq.heappush(self._due, (expires, generation, run_id))
                else:
                    del self._held[run_id]
                    lapsed.append((run_id, seconds))
            for run_id, seconds in lapsed:
                self._fail(run_id, lapsed_error(seconds))
        self._arm()

    def stop(self) -> None:
        """Forget every lease and the timer (the platform stops serving)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_at = None, float("inf")
            self._held.clear()
            self._due.clear()
