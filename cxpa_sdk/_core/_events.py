"""A run's progress events as I/O-free flows: reads after a cursor, each under the NAT-safe window, bounded.

`EventReader.read()` is one read (a flow): the events endpoint (`get_run_events`, an extension of the
seed's contract) with `after=` the last cursor and `waitMs`; on an older platform without it, held run
reads (`get_run` with `waitMs`) from which the changes are inferred. The clients loop `read()` until
`ended`, yielding each event; the reader raises WaitTimeoutError, with the cursor to resume from, once
the iteration's `timeout` passed, whatever the platform does (its reads end by the timeout plus
`_operations.WAIT_GRACE_S`).

What the platform says is checked before it is yielded: each event at most once (by its cursor), in
the platform's order, nothing after `ended`, and an `ended` event about this run with a terminal
status. A page that repeats only events already yielded is no progress: it is paced like an empty
one, and `MAX_STALLED_PAGES` of them in a row are an InvalidResponseError, never a loop.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from .. import _config as check
from .._errors import APITimeoutError, InvalidResponseError, NotFoundError, WaitTimeoutError
from .._logging import gave_up, logger
from ..types import Run, RunEvent, RunStatus
from ._engine import Flow, Settings, Sleep
from ._operations import _read_run, naming_run, pace, read_events, wait_deadline, window_ms

# The codes with which a platform that has the events endpoint says the run itself is missing; any
# other 404 of the route (an unknown path: `not_found`, or a proxy's page) means an older platform.
_MISSING = frozenset({"run_not_found", "agent_not_found"})
# On an older platform, held run reads return only when the run ends or the window closes: a short
# window shows its progress within about 2 s, at one request per window.
FALLBACK_WINDOW_MS = 2_000
# The cursors of events inferred on an older platform: the state seen after the event, so that
# `after=` one of them resumes there (`<prefix><status>:<output digest>:<waiting token>`).
FALLBACK_PREFIX = "cxpa-fallback:"
# Pages in a row that repeat only events already yielded before the reader gives up on the platform.
MAX_STALLED_PAGES = 3


class _Seen(NamedTuple):
    """What an older platform's run read showed: its status, a digest of its output, its waiting token."""

    status: str
    output: str
    token: str

    @property
    def cursor(self) -> str:
        """The state as a cursor (visible ASCII, like every cursor: the token is a digest)."""
        return f"{FALLBACK_PREFIX}{self.status}:{self.output}:{self.token}"

    @classmethod
    def parse(cls, cursor: str) -> _Seen | None:
        """The state a fallback cursor names, or None for a platform's own cursor."""
        if not cursor.startswith(FALLBACK_PREFIX):
            return None
        status, _, rest = cursor.removeprefix(FALLBACK_PREFIX).partition(":")
        output, _, token = rest.partition(":")
        return cls(status, output, token)


def _digest(output: Any) -> str:
    """A short digest of an output, to see when it changed (None and an absent output alike)."""
    import hashlib  # noqa: PLC0415 - only an older platform's fallback needs it (import time)

    text = json.dumps(output, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def inferred(run: Run, seen: _Seen | None) -> tuple[list[RunEvent], _Seen]:
    """The events an older platform's run read shows since `seen` (None: nothing seen yet), and the state now.

    An output that changed is one `output` event (outputs between two reads are coalesced into the
    last); a new status (or a new waiting token) is `ended` with the Run, `waiting` with the token,
    or `status`. The events carry no time (`at` is None).
    """
    events = []
    output = _digest(run.output_data)
    token = _digest(run.waiting.token_id) if run.waiting is not None else ""
    if seen is None:
        seen = _Seen("", _digest(None), "")
    if output != seen.output:
        seen = seen._replace(output=output)
        status = RunStatus(seen.status) if seen.status else run.status
        events.append(RunEvent(seen.cursor, "output", None, status, output=run.output_data))
    if run.status.value != seen.status or token != seen.token:
        seen = _Seen(run.status.value, output, token)
        if run.status.terminal:
            events.append(RunEvent(seen.cursor, "ended", None, run.status, run=run))
        elif run.waiting is not None:
            events.append(RunEvent(seen.cursor, "waiting", None, run.status, waiting=run.waiting))
        else:
            events.append(RunEvent(seen.cursor, "status", None, run.status))
    return events, seen


class EventReader:
    """One iteration over a run's events: where it is (the cursor), until when, and how it reads.

    The arguments are checked on construction; the deadline starts with the first read.
    """

    def __init__(
        self, settings: Settings, agent_id: int, run_id: str, *, after: str | None = None, timeout: float = 300.0
    ) -> None:
        self._settings = settings
        self.agent_id = check.agent_id(agent_id)
        self.run_id = check.run_id(run_id)
        self.cursor = None if after is None else check.cursor(after)
        self.wait_s = check.seconds(timeout, "timeout")
        self.ended = False
        self.status: RunStatus | None = None
        self._seen = None if self.cursor is None else _Seen.parse(self.cursor)
        self._fallback = self._seen is not None  # a fallback cursor is resumed with run reads
        self._yielded: set[str] = set() if self.cursor is None else {self.cursor}  # cursors of events given
        self._stalled = 0  # pages in a row that repeated only events already yielded
        self._floor = 0.0
        self._wait_end = 0.0
        self._deadline = 0.0

    def read(self) -> Flow[list[RunEvent]]:
        """One read: the events after the cursor (none when the window closed first).

        Raises:
            WaitTimeoutError: The iteration's timeout passed before the run's last event (with the
                cursor to resume from).
            NotFoundError: No such run (or agent).
        """
        if not self._deadline:
            self._wait_end = self._settings.clock() + self.wait_s
            self._deadline = wait_deadline(self._settings, self._wait_end)
        left = self._wait_end - self._settings.clock()
        if left <= 0:
            raise self._timed_out()
        try:
            if not self._fallback:
                try:
                    return (yield from naming_run(self.run_id, self._read_events(left)))
                except NotFoundError as exc:
                    if exc.code in _MISSING:
                        raise
                    logger.debug("get_run_events answered 404 %s: an older platform; reading the run", exc.code)
                    self._fallback = True
            return (yield from naming_run(self.run_id, self._read_run(left)))
        except APITimeoutError as exc:
            if self._settings.clock() < self._wait_end:
                raise
            raise self._timed_out() from exc  # the platform was silent until the iteration's clock ran out

    def _timed_out(self) -> WaitTimeoutError:
        status = "unknown" if self.status is None else self.status.value
        resume = "" if self.cursor is None else f"; resume with after={self.cursor!r}"
        return gave_up(
            WaitTimeoutError(
                f"the events of run {self.run_id} did not end within {self.wait_s:g} s (it is {status}){resume}",
                run_id=self.run_id,
                status=status,
                cursor=self.cursor,
            )
        )

    def _pause(self, window_s: float, took_s: float) -> Flow[None]:
        """Wait before the next read when this one came back early with nothing (a window not held)."""
        wait, self._floor = pace(self._floor, window_s, took_s)
        wait = min(wait, self._wait_end - self._settings.clock())
        if wait > 0:
            yield Sleep(wait)

    def _read_events(self, left: float) -> Flow[list[RunEvent]]:
        window = window_ms(left)
        started = self._settings.clock()
        page = yield from read_events(
            self._settings, self.agent_id, self.run_id, after=self.cursor, wait_ms=window, deadline=self._deadline
        )
        events = self._new(page.events)
        if page.ended and page.events and not self.ended:
            raise self._invalid("says the run ended, but its events hold no `ended` event")
        self.ended = self.ended or page.ended
        if events:
            self.status = events[-1].status
            self.cursor = events[-1].cursor  # the last event yielded: never a cursor that went back
            self._floor, self._stalled = 0.0, 0
        elif not self.ended:
            if page.events:  # only events already yielded: no progress
                self._stalled += 1
                if self._stalled >= MAX_STALLED_PAGES:
                    raise self._invalid(f"repeated only events already read, {self._stalled} pages in a row")
            yield from self._pause(window / 1000, self._settings.clock() - started)
        return events

    def _new(self, page: list[RunEvent]) -> list[RunEvent]:
        """The events of a page not yielded before, up to and including `ended` (always the last), checked."""
        events = []
        for event in page:
            if event.cursor in self._yielded:
                continue
            self._yielded.add(event.cursor)
            events.append(event)
            if event.type == "ended":
                self._check_end(event)
                self.ended = True
                break
        return events

    def _check_end(self, event: RunEvent) -> None:
        """An `ended` event must say the run is terminal, and carry this run's terminal Run if it carries one."""
        run = event.run
        if not event.status.terminal:
            raise self._invalid(f"has an `ended` event with status {event.status}, which is not terminal")
        if run is not None and (run.run_id, run.agent_id) != (self.run_id, self.agent_id):
            raise self._invalid(f"has an `ended` event carrying run {run.run_id} of agent {run.agent_id}")
        if run is not None and run.status != event.status:
            raise self._invalid(f"has an `ended` event of status {event.status} carrying a {run.status} run")

    def _invalid(self, problem: str) -> InvalidResponseError:
        """The error for an events answer that breaks the events' promises (a read: nothing was changed)."""
        return InvalidResponseError(
            f"the events of run {self.run_id} (agent {self.agent_id}) after cursor {self.cursor!r} {problem}",
            status_code=200,
            run_id=self.run_id,
            applied=True,
        )

    def _read_run(self, left: float) -> Flow[list[RunEvent]]:
        # The first read answers at once (the run as it stands); then held reads of a short window.
        window = 0 if self._seen is None else min(FALLBACK_WINDOW_MS, window_ms(left))
        started = self._settings.clock()
        run = yield from _read_run(self._settings, self.agent_id, self.run_id, window, self._deadline)
        events, self._seen = inferred(run, self._seen)
        if events:
            self.cursor = events[-1].cursor
        self.status = run.status
        self.ended = run.status.terminal
        if window and not self.ended:
            yield from self._pause(window / 1000, self._settings.clock() - started)
        return events
