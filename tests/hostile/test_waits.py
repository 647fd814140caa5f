"""Waits believe only what the platform can prove: their clock, their pacing, their answers, their events.

Every public waiting method (sync, async, async on aiohttp, and the async client's shared waits)
against raw-socket servers that never answer, answer at once with nothing that matters, list
unfinished or unasked runs as ended, answer about another run, or send events that repeat, cycle,
go on after the end or name another run. The table in tests/hostile/README.md maps each method to
the cases here.
"""

from __future__ import annotations

import gc
import json
import logging
import pickle
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hostile.hostile_server import (
    GRACE,
    MODES,
    HostileServer,
    Request,
    both,
    envelope,
    json_response,
    perform,
    run_row,
)

from cxpa_sdk import (
    Cxpa,
    InvalidResponseError,
    NotFoundError,
    WaitTimeoutError,
    _waits,
    aio,
    as_completed,
    wait_all,
)
from cxpa_sdk._core._operations import WAIT_GRACE_S

WAIT_S = 0.5  # the waits' timeout in the clock tests
DEFAULT_DEADLINE = 120.0  # the client's default deadline: a wait's clock must not stretch to it
MAX_RATE = 10  # requests a second a wait may make against a platform that answers at once
SHARED = "async-shared"
"""The async client past its held waits: every wait shares batched `wait_for_runs` requests."""
WAIT_MODES = [*MODES, SHARED]


@pytest.fixture
def shared(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's mode; in SHARED mode the async client holds no wait of its own (all share batches)."""
    mode: str = request.param
    if mode == SHARED:
        monkeypatch.setattr(_waits, "HELD_WAITS", 0)
        return "async"
    return mode


every_wait_mode = pytest.mark.parametrize("shared", WAIT_MODES, indirect=True)


# Servers ------------------------------------------------------------------------------------------

Route = Callable[[Request], bytes | None]


def routed(route: Route) -> Callable[[socket.socket, Request, threading.Event], bool]:
    """A keep-alive handler sending `route(request)`; None: say nothing until teardown (at most 30 s)."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> bool:
        answer = route(request)
        if answer is None:
            stop.wait(30)
            return False
        conn.sendall(answer)
        return True

    return handler


def held(request: Request, answer: bytes) -> bytes:
    """`answer` after holding the request for its waitMs (at most 2 s), as a platform does when nothing changes."""
    wait_ms = int(request.query.get("waitMs", "0") or json.loads(request.body or b"{}").get("waitMs", 0))
    time.sleep(min(wait_ms / 1000, 2.0))
    return answer


def batch(ended: list[dict[str, Any]] | None = None, missing: list[dict[str, Any]] | None = None) -> bytes:
    """A `wait_for_runs` answer."""
    return json_response(200, {"ended": ended or [], "missing": missing or []})


def row(status: str = "completed", run_id: str = "run_1", agent_id: int = 1) -> dict[str, Any]:
    """A Run row of `run_id` of `agent_id`."""
    return {**run_row(status, run_id), "agent_id": agent_id}


def event(cursor: str, kind: str = "status", status: str = "running", **more: Any) -> dict[str, Any]:
    """A RunEvent."""
    return {"cursor": cursor, "type": kind, "at": "2026-11-28T10:00:00Z", "status": status, **more}


def ended(cursor: str, run: dict[str, Any] | None = None, status: str = "completed") -> dict[str, Any]:
    """An `ended` event carrying `run` (default: run_1 completed)."""
    return event(cursor, "ended", status, run=row(status) if run is None else run)


def page(events: list[dict[str, Any]], cursor: str, done: bool = False) -> bytes:
    """A `get_run_events` answer."""
    return json_response(200, {"events": events, "cursor": cursor, "ended": done})


def silent(request: Request) -> None:
    """Accept every request and never answer it."""


# The waiting methods --------------------------------------------------------------------------------


def _list(client: Any, make: Callable[[], Any]) -> Any:
    """`list(make())` (sync), or the awaitable collecting the async iterator `make()` returns."""
    if isinstance(client, Cxpa):
        return list(make())

    async def collect() -> list[Any]:
        return [item async for item in make()]

    return collect()


def _as_completed(client: Any, runs: list[str], timeout: float) -> Any:
    handles = [client.run(1, run) for run in runs]
    function = as_completed if isinstance(client, Cxpa) else aio.as_completed
    return _list(client, lambda: function(handles, timeout=timeout))


def _wait_all(client: Any, runs: list[str], timeout: float) -> Any:
    handles = [client.run(1, run) for run in runs]
    return (wait_all if isinstance(client, Cxpa) else aio.wait_all)(handles, timeout=timeout)


WAITS: dict[str, Callable[[Any, float], Any]] = {
    "wait_for_run": lambda c, t: c.wait_for_run(1, "run_1", timeout=t),
    "handle.wait": lambda c, t: c.run(1, "run_1").wait(t),
    "handle.result": lambda c, t: c.run(1, "run_1").result(t),
    "as_completed": lambda c, t: _as_completed(c, ["run_1"], t),
    "wait_all": lambda c, t: _wait_all(c, ["run_1"], t),
}
"""The methods that wait for runs to end, each on run_1 of agent 1 with a timeout in seconds."""
BATCHED = ["as_completed", "wait_all"]
"""The methods that use `wait_for_runs` on the sync client (every method does in SHARED mode)."""


def events_of(client: Any, timeout: float, after: str | None = None) -> Any:
    """Every event of run_1 as a list (async: the awaitable of it)."""
    return _list(client, lambda: client.run_events(1, "run_1", after=after, timeout=timeout))


BATCH_CASES = [("sync", name) for name in BATCHED] + [(SHARED, name) for name in WAITS]
"""(mode, method) where the method waits with `wait_for_runs`; elsewhere each run is read on its own."""
batched_waits = pytest.mark.parametrize(
    ("shared", "name"), BATCH_CASES, indirect=["shared"], ids=[f"{mode}-{name}" for mode, name in BATCH_CASES]
)


# 1. The clock -------------------------------------------------------------------------------------


@every_wait_mode
@pytest.mark.parametrize("name", list(WAITS))
def test_a_wait_keeps_its_clock_against_a_silent_platform(shared: str, name: str) -> None:
    """Clock: against a platform that never answers, each wait raises WaitTimeoutError at its timeout plus the grace."""
    with HostileServer(routed(silent)) as server:
        outcome = perform(shared, server, lambda c: WAITS[name](c, WAIT_S), deadline=DEFAULT_DEADLINE, max_retries=2)
    error = outcome.raised(WaitTimeoutError)
    assert error.run_id == "run_1"
    assert outcome.elapsed <= WAIT_S + WAIT_GRACE_S + GRACE, f"{name} took {outcome.elapsed:.2f} s"


@both
def test_trigger_and_wait_keeps_its_clock_when_the_platform_falls_silent(mode: str) -> None:
    """Clock: after its 202, trigger_run_and_wait against run reads that never answer returns WaitTimedOut in time."""
    timed_out = json_response(202, {"timedOut": True, "runId": "run_1", "status": "running"})
    with HostileServer(routed(lambda r: timed_out if r.method == "POST" else None)) as server:
        action = lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=int(WAIT_S * 1000))  # noqa: E731
        outcome = perform(mode, server, action, deadline=DEFAULT_DEADLINE, max_retries=2)
    assert outcome.error is None, outcome.describe()
    assert (outcome.value.timed_out, outcome.value.run_id) == (True, "run_1")
    assert outcome.elapsed <= WAIT_S + WAIT_GRACE_S + GRACE, f"took {outcome.elapsed:.2f} s"
    assert [r.method for r in server.requests].count("POST") == 1, "the run was triggered twice"


@both
def test_events_keep_their_clock_and_carry_the_cursor_against_a_silent_platform(mode: str) -> None:
    """Clock: events that stop coming end in WaitTimeoutError at the timeout plus grace, with the cursor to resume."""
    first = page([event("c1", "status", "running"), event("c2", "output", "running", output={"n": 1})], "c2")

    def route(request: Request) -> bytes | None:
        return first if "after" not in request.query else None

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S), deadline=DEFAULT_DEADLINE, max_retries=2)
    error = outcome.raised(WaitTimeoutError)
    assert error.cursor == "c2", f"resume cursor {error.cursor!r}"
    assert outcome.elapsed <= WAIT_S + WAIT_GRACE_S + GRACE, f"took {outcome.elapsed:.2f} s"


@both
def test_the_documented_resume_loop_survives_a_silent_platform(mode: str) -> None:
    """Clock: the docs' loop (catch WaitTimeoutError, resume after=exc.cursor) gets every event once across silences."""
    pages = {None: page([event("c1")], "c1"), "c1": None, "c1#2": page([ended("c2")], "c2", done=True)}
    seen: list[str | None] = []

    def route(request: Request) -> bytes | None:
        after = request.query.get("after")
        seen.append(after)
        return pages["c1#2"] if seen.count("c1") > 1 and after == "c1" else pages[after]

    def resume(client: Any) -> Any:
        if isinstance(client, Cxpa):
            got, after = [], None
            for _ in range(3):
                try:
                    for item in client.run_events(1, "run_1", after=after, timeout=WAIT_S):
                        got.append(item.cursor)
                except WaitTimeoutError as exc:
                    after = exc.cursor
                else:
                    return got
            return got

        async def loop() -> list[str]:
            got, after = [], None
            for _ in range(3):
                try:
                    async for item in client.run_events(1, "run_1", after=after, timeout=WAIT_S):
                        got.append(item.cursor)
                except WaitTimeoutError as exc:
                    after = exc.cursor
                else:
                    return got
            return got

        return loop()

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, resume, deadline=DEFAULT_DEADLINE, max_retries=0)
    assert outcome.error is None, outcome.describe()
    assert outcome.value == ["c1", "c2"]


# 2. Pacing on progress ----------------------------------------------------------------------------

UNASKED = {
    "one": batch(ended=[row("completed", "run_other")]),
    "flood": batch(
        ended=[row("completed", f"run_{n}") for n in range(2, 1500)],
        missing=[{"agentId": 1, "runId": f"gone_{n}", "code": "run_not_found", "message": "no"} for n in range(500)],
    ),
}


@batched_waits
@pytest.mark.parametrize("answer", list(UNASKED))
def test_a_batch_answer_about_unasked_runs_is_paced(shared: str, name: str, answer: str) -> None:
    """Pacing: a batch endpoint answering at once with runs nobody asked for is asked at most a few times a second."""

    def route(req: Request) -> bytes | None:
        return UNASKED[answer] if req.path == "/api/runs/wait" else json_response(200, row("running"))

    wait_s = 2.0
    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, lambda c: WAITS[name](c, wait_s), nosleep=False)
    outcome.raised(WaitTimeoutError)
    batches = server.paths.count("/api/runs/wait")
    assert batches <= MAX_RATE * wait_s, f"{batches} batch requests in a {wait_s:g} s wait"


@both
def test_events_that_answer_at_once_with_nothing_new_are_paced(mode: str) -> None:
    """Pacing: an events endpoint answering every read at once with no event is asked at most a few times a second."""
    with HostileServer(routed(lambda r: page([], r.query.get("after", "c0")))) as server:
        outcome = perform(mode, server, lambda c: events_of(c, 2.0), nosleep=False)
    outcome.raised(WaitTimeoutError)
    assert server.count <= MAX_RATE * 2, f"{server.count} reads in a 2 s iteration"


INCOMPLETE = {
    "run-without-status": json_response(200, {k: v for k, v in row("completed").items() if k != "status"}),
    "batch-without-ended": json_response(200, {"missing": []}),
    "page-without-cursor": json_response(200, {"events": [], "ended": False}),
    "event-without-cursor": json_response(200, {"events": [{"type": "status", "status": "running"}], "cursor": "c"}),
}


@pytest.mark.parametrize("shared", ["sync", SHARED, "async-aiohttp"], indirect=True)
@pytest.mark.parametrize("absent", list(INCOMPLETE))
def test_an_answer_missing_a_field_is_refused(shared: str, absent: str) -> None:
    """Absent: a run read, batch answer or events page without a required field is an InvalidResponseError."""
    answer = INCOMPLETE[absent]

    def route(req: Request) -> bytes:
        return answer

    def action(client: Any) -> Any:
        if absent.endswith("cursor"):
            return events_of(client, WAIT_S)
        if absent.startswith("batch"):
            return _wait_all(client, ["run_1"], WAIT_S)
        return client.wait_for_run(1, "run_1", timeout=WAIT_S)

    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, action)
    outcome.raised(InvalidResponseError)


# 3. "Ended" must be proven ------------------------------------------------------------------------


@batched_waits
def test_a_running_run_listed_as_ended_is_not_an_end(shared: str, name: str) -> None:
    """Ended: a batch answer listing the asked run as `running` under `ended` never ends a wait; it times out."""

    def route(req: Request) -> bytes | None:
        if req.path == "/api/runs/wait":
            return batch(ended=[row("running")])
        return json_response(200, row("running"))

    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, lambda c: WAITS[name](c, WAIT_S), nosleep=False)
    outcome.raised(WaitTimeoutError)
    assert outcome.elapsed >= WAIT_S, f"the wait ended after {outcome.elapsed:.2f} s, before its timeout"


@both
@pytest.mark.parametrize("status", ["running", "waiting", "sleeping"])
def test_an_ended_event_with_an_unfinished_status_is_refused(mode: str, status: str) -> None:
    """Ended: an `ended` event whose status is not terminal is an InvalidResponseError, never yielded as the end."""
    bad = page([event("c1"), ended("c2", run=row("completed"), status=status)], "c2", done=True)
    with HostileServer(routed(lambda r: bad)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S))
    error = outcome.raised(InvalidResponseError)
    assert error.run_id == "run_1"


@both
def test_a_page_that_says_ended_without_an_ended_event_is_refused(mode: str) -> None:
    """Ended: a page with events, `ended: true` and no `ended` event is an InvalidResponseError."""
    bad = page([event("c1")], "c1", done=True)
    with HostileServer(routed(lambda r: bad)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S))
    outcome.raised(InvalidResponseError)


# 4. Entries nobody asked for ----------------------------------------------------------------------


@batched_waits
def test_an_unasked_missing_entry_is_ignored(shared: str, name: str) -> None:
    """Routing: a `missing` entry for a run nobody asked for is ignored; the asked run's end still arrives."""
    answers = iter([batch(missing=[{"agentId": 1, "runId": "run_zzz", "code": "run_not_found", "message": "no"}])])

    def route(req: Request) -> bytes | None:
        if req.path == "/api/runs/wait":
            return next(answers, batch(ended=[row("completed")]))
        return json_response(200, row("running"))

    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, lambda c: WAITS[name](c, 3.0), nosleep=False)
    assert outcome.error is None, outcome.describe()
    runs = outcome.value if isinstance(outcome.value, list) else [outcome.value]
    assert [(run.run_id, run.status.value) for run in runs] == [("run_1", "completed")]


@pytest.mark.parametrize("shared", ["sync", SHARED], indirect=True)
def test_entries_about_other_runs_never_reach_another_wait(shared: str) -> None:
    """Routing: each run's result is its own even when the answer lists runs in another order, twice, or unasked."""
    answers = iter(
        [
            batch(ended=[row("completed", "run_x"), row("failed", "run_2"), row("completed", "run_2")]),
            batch(ended=[row("completed", "run_1", agent_id=2), row("completed", "run_1")]),
        ]
    )

    def route(req: Request) -> bytes | None:
        if req.path == "/api/runs/wait":
            return next(answers, batch())
        run_id = req.path.rsplit("/", 1)[-1]
        return held(req, json_response(200, row("running", run_id)))

    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, lambda c: _wait_all(c, ["run_1", "run_2"], 3.0), nosleep=False)
    assert outcome.error is None, outcome.describe()
    assert [(r.agent_id, r.run_id, r.status.value) for r in outcome.value] == [
        (1, "run_1", "completed"),
        (1, "run_2", "failed"),
    ]


# 5. Answers bound to their request ----------------------------------------------------------------


OTHER_RUN = json_response(200, row("completed", "run_B"))
OTHER_AGENT = json_response(200, row("completed", "run_1", agent_id=2))


@pytest.mark.parametrize("answer", [OTHER_RUN, OTHER_AGENT], ids=["another-run", "another-agent"])
@pytest.mark.parametrize("name", ["wait_for_run", "handle.result", "refresh", "cancel", "trigger_run_and_wait"])
@both
def test_an_answer_about_another_run_is_refused(mode: str, name: str, answer: bytes) -> None:
    """Binding: a run read or cancel answered with another run's (or agent's) row is an InvalidResponseError."""
    actions: dict[str, Callable[[Any], Any]] = {
        "wait_for_run": lambda c: c.wait_for_run(1, "run_1", timeout=WAIT_S),
        "handle.result": lambda c: c.run(1, "run_1").result(WAIT_S),
        "refresh": lambda c: c.run(1, "run_1").refresh(),
        "cancel": lambda c: c.run(1, "run_1").cancel(),
        "trigger_run_and_wait": lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=int(WAIT_S * 1000)),
    }
    timed_out = json_response(202, {"timedOut": True, "runId": "run_1", "status": "running"})

    def route(req: Request) -> bytes | None:
        return timed_out if req.path.endswith("/trigger-and-wait") else answer

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, actions[name])
    error = outcome.raised(InvalidResponseError)
    assert error.run_id == "run_1"
    assert "run_B" in str(error) or "agent 2" in str(error), str(error)


@both
def test_a_trigger_and_wait_200_must_be_an_ended_run_of_the_agent(mode: str) -> None:
    """Binding: trigger_run_and_wait's 200 of another agent's run, or of a running run, is an InvalidResponseError."""
    for answer in (OTHER_AGENT, json_response(200, row("running"))):
        with HostileServer(routed(lambda r, a=answer: a)) as server:
            outcome = perform(mode, server, lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=500))
        outcome.raised(InvalidResponseError)


@both
@pytest.mark.parametrize(
    "run",
    [row("completed", "run_B"), row("completed", "run_1", agent_id=2), row("failed")],
    ids=["another-run", "another-agent", "another-status"],
)
def test_an_ended_event_about_another_run_is_refused(mode: str, run: dict[str, Any]) -> None:
    """Binding: an `ended` event carrying another run's Run (or another status) is an InvalidResponseError."""
    bad = page([ended("c1", run=run, status="completed")], "c1", done=True)
    with HostileServer(routed(lambda r: bad)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S))
    outcome.raised(InvalidResponseError)


@both
def test_a_callback_answer_about_another_run_is_refused(mode: str) -> None:
    """Binding: a callback answered about another run is an InvalidResponseError naming the run reported on."""
    answer = json_response(200, {"runId": "run_B", "status": "completed"})
    with HostileServer(routed(lambda r: answer)) as server:
        outcome = perform(mode, server, lambda c: c.complete({"ok": True}), agent=True)
    error = outcome.raised(InvalidResponseError)
    assert error.run_id == "run_1"


# 6. Events at most once, in order, nothing after the end ------------------------------------------


def cycling(cursors: list[str]) -> Route:
    """An events endpoint whose cursors cycle: after c[i] comes the event of c[i+1], wrapping round."""

    def route(request: Request) -> bytes:
        after = request.query.get("after")
        nxt = cursors[0] if after is None else cursors[(cursors.index(after) + 1) % len(cursors)]
        return page([event(nxt)], nxt)

    return route


@both
def test_cycling_cursors_yield_each_event_once_then_fail(mode: str) -> None:
    """Once: cursors that cycle (A, B, A, B) yield A and B once, then an InvalidResponseError, in few requests."""
    got: list[str] = []

    def action(client: Any) -> Any:
        if isinstance(client, Cxpa):
            for item in client.run_events(1, "run_1", timeout=5):
                got.append(item.cursor)
            return None

        async def collect() -> None:
            async for item in client.run_events(1, "run_1", timeout=5):
                got.append(item.cursor)

        return collect()

    with HostileServer(routed(cycling(["A", "B"]))) as server:
        outcome = perform(mode, server, action, nosleep=False)
    outcome.raised(InvalidResponseError)
    assert got == ["A", "B"]
    assert server.count <= 8, f"{server.count} reads"


@both
def test_a_repeated_event_and_events_after_the_end_are_not_yielded(mode: str) -> None:
    """Once: a cursor repeated in one page is yielded once, and nothing after `ended` is yielded."""
    answer = page([event("A"), event("A"), event("B"), ended("C"), event("D"), ended("E")], "E", done=True)
    with HostileServer(routed(lambda r: answer)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S))
    assert outcome.error is None, outcome.describe()
    assert [(e.cursor, e.type) for e in outcome.value] == [("A", "status"), ("B", "status"), ("C", "ended")]


@both
def test_a_page_that_goes_back_is_no_progress(mode: str) -> None:
    """Once: a page that answers with events already yielded is skipped; the reader stays on its own cursor."""
    answers = iter([page([event("A"), event("B")], "B"), page([event("A")], "A")])

    def route(request: Request) -> bytes:
        return next(answers, page([ended("C")], "C", done=True))

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, 5.0), nosleep=False)
    assert outcome.error is None, outcome.describe()
    assert [e.cursor for e in outcome.value] == ["A", "B", "C"]
    assert [r.query.get("after") for r in server.requests] == [None, "B", "B"]


# 7. What the SDK accepts it accepts back ----------------------------------------------------------


@both
@pytest.mark.parametrize("cursor", [".", "..", "~", "a" * 256, "%2F..?#&="], ids=["dot", "dots", "tilde", "256", "url"])
def test_every_cursor_the_platform_sends_can_be_resumed_from(mode: str, cursor: str) -> None:
    """Ids: a cursor the platform sent (any of the rule's) comes back as exc.cursor and resumes with after=, as sent."""
    first = page([event(cursor)], cursor)

    def route(request: Request) -> bytes | None:
        return first if "after" not in request.query else page([], request.query["after"])

    def action(client: Any) -> Any:
        if isinstance(client, Cxpa):
            try:
                list(client.run_events(1, "run_1", timeout=0.3))
            except WaitTimeoutError as exc:
                return list(client.run_events(1, "run_1", after=exc.cursor, timeout=0.3))
            return None

        async def resume() -> Any:
            try:
                [e async for e in client.run_events(1, "run_1", timeout=0.3)]
            except WaitTimeoutError as exc:
                return [e async for e in client.run_events(1, "run_1", after=exc.cursor, timeout=0.3)]
            return None

        return resume()

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, action, nosleep=False)
    outcome.raised(WaitTimeoutError)  # the resumed iteration times out too: the point is that it was accepted
    assert cursor in [r.query.get("after") for r in server.requests]


@both
@pytest.mark.parametrize(
    "cursor", ["a" * 257, "x\u0085y", "a b", "x\u2028y", ""], ids=["257", "nel", "space", "ls", "empty"]
)
def test_a_cursor_outside_the_rule_is_refused_on_receipt(mode: str, cursor: str) -> None:
    """Ids: a cursor outside the cursor rule is an InvalidResponseError when it arrives, never a dead resume."""
    bad = page([event(cursor or "c1")], cursor)
    with HostileServer(routed(lambda r: bad)) as server:
        outcome = perform(mode, server, lambda c: events_of(c, WAIT_S))
    outcome.raised(InvalidResponseError)


BAD_RUN_IDS = {"129": "r" * 129, "nel": "run\u0085x", "ls": "run\u2028x", "dot": ".", "dots": "..", "space": "a b"}


@both
@pytest.mark.parametrize("run_id", list(BAD_RUN_IDS.values()), ids=list(BAD_RUN_IDS))
def test_a_run_id_outside_the_rule_is_refused_on_receipt(mode: str, run_id: str) -> None:
    """Ids: a trigger answer naming a run id outside the rule is an InvalidResponseError: no handle holds it."""
    answer = json_response(202, {"runId": run_id, "status": "queued"})
    with HostileServer(routed(lambda r: answer)) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run(1, {}))
    outcome.raised(InvalidResponseError)
    assert server.count == 1


@both
@pytest.mark.parametrize("run_id", ["~run", "run_" + "z" * 124, "a%2F..?#"], ids=["tilde", "128", "url"])
def test_every_run_id_the_rule_allows_works_everywhere(mode: str, run_id: str) -> None:
    """Ids: a run id within the rule, from the platform, works for refresh and for client.run(**handle.to_dict())."""

    def route(request: Request) -> bytes:
        if request.method == "POST":
            return json_response(202, {"runId": run_id, "status": "queued"})
        return json_response(200, row("completed", run_id))

    def action(client: Any) -> Any:
        if isinstance(client, Cxpa):
            handle = client.trigger_run(1, {})
            return client.run(**handle.to_dict()).refresh().run_id

        async def go() -> str:
            handle = await client.trigger_run(1, {})
            return (await client.run(**handle.to_dict()).refresh()).run_id

        return go()

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, action)
    assert outcome.error is None, outcome.describe()
    assert outcome.value == run_id
    assert len(server.requests[-1].path.split("/")) == 6, server.requests[-1].path


# 8. A platform's id never leaves its path segment -------------------------------------------------


@both
@pytest.mark.parametrize("run_id", [".", "..", "../../x", "a/b", "a?b", "a#b", "%2e%2e"])
def test_a_trigger_and_wait_follow_up_stays_on_the_runs_path(mode: str, run_id: str) -> None:
    """Paths: a 202 naming a dot segment is refused; any other id is one segment of the run's path, never another."""
    timed_out = json_response(202, {"timedOut": True, "runId": run_id, "status": "running"})

    def route(request: Request) -> bytes:
        return timed_out if request.method == "POST" else json_response(200, row("completed", run_id))

    with HostileServer(routed(route)) as server:
        outcome = perform(mode, server, lambda c: c.trigger_run_and_wait(1, {}, timeout_ms=500))
    for request in server.requests[1:]:
        assert request.target.startswith("/api/agents/1/runs/"), request.target
        assert len(request.path.split("/")) == 6, request.target
    if run_id in (".", ".."):
        outcome.raised(InvalidResponseError)
        assert server.count == 1


# 9. as_completed keeps track of every run on a timeout ------------------------------------------------


def half_finish(request: Request) -> bytes:
    """Runs run_0..run_4 are completed; run_5..run_9 run on (each read held for its window)."""
    if request.path == "/api/runs/wait":
        asked = [item["runId"] for item in json.loads(request.body)["runs"]]
        done = [row("completed", run) for run in asked if int(run[-1]) < 5]
        return batch(ended=done) if done else held(request, batch())
    run_id = request.path.rsplit("/", 1)[-1]
    if int(run_id[-1]) < 5:
        return json_response(200, row("completed", run_id))
    return held(request, json_response(200, row("running", run_id)))


@every_wait_mode
@pytest.mark.parametrize("function", ["as_completed", "wait_all"])
def test_a_timeout_names_every_run_still_going(shared: str, function: str, caplog: pytest.LogCaptureFixture) -> None:
    """Tracking: with 5 of 10 runs outliving the timeout, the error's `pending` names exactly those 5, every time."""
    runs = [f"run_{n}" for n in range(10)]
    call = _as_completed if function == "as_completed" else _wait_all
    for _ in range(3):
        with caplog.at_level(logging.ERROR, logger="asyncio"), HostileServer(routed(half_finish)) as server:
            outcome = perform(shared, server, lambda c: call(c, runs, 1.5), deadline=DEFAULT_DEADLINE)
            gc.collect()
        error = outcome.raised(WaitTimeoutError)
        assert set(error.pending) == {(1, f"run_{n}") for n in range(5, 10)}, error.pending
        assert outcome.elapsed <= 1.5 + WAIT_GRACE_S + GRACE
        assert not [r for r in caplog.records if "never retrieved" in r.getMessage()], caplog.text


def test_pending_survives_pickling() -> None:
    """Tracking: WaitTimeoutError.pending crosses processes (pickles) with the rest of the error."""
    error = WaitTimeoutError("late", run_id="run_5", status="running", pending=((1, "run_5"), (2, "run_6")))
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own error, pickled here
    assert again.pending == ((1, "run_5"), (2, "run_6"))
    assert again.run_id == "run_5"


# The platform's own missing entries still raise for their run -------------------------------------


@every_wait_mode
def test_a_missing_entry_for_an_asked_run_raises_for_it(shared: str) -> None:
    """Routing: a `missing` entry for the asked run raises NotFoundError naming it."""
    answer = batch(missing=[{"agentId": 1, "runId": "run_1", "code": "run_not_found", "message": "gone"}])

    def route(req: Request) -> bytes:
        if req.path == "/api/runs/wait":
            return answer
        return json_response(404, envelope("run_not_found", "gone", "run_1"))

    with HostileServer(routed(route)) as server:
        outcome = perform(shared, server, lambda c: _wait_all(c, ["run_1"], 2.0))
    error = outcome.raised(NotFoundError)
    assert error.run_id == "run_1"
