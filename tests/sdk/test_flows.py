"""The sans-I/O core driven by hand: no socket, no sleeping, a clock that only a Sleep step moves.

As h11 is tested by feeding its state machine bytes, these tests feed a call's flow scripted answers
(`Canned` replies: a status, headers and bytes, no HTTP library) and read the steps it yields: what it sends, how long
it sleeps, when it gives up. The clock is the one in `Settings.clock`; `perform` advances it by
each Sleep and by the time a scripted request "takes", so deadlines and pacing are exact.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest

from cxpa_sdk import APIStatusError, APITimeoutError, RunStatus, WaitTimeoutError
from cxpa_sdk._core import _operations as ops
from cxpa_sdk._core._engine import Close, Flow, Notify, ReadBody, Send, Settings, Sleep
from cxpa_sdk._core._exchange import Request
from cxpa_sdk._core._retry import RetryPolicy
from cxpa_sdk.types import Run


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        """The time now."""
        return self.now


class Script:
    """What the flow did: the requests it sent (with the clock at each), and the sleeps it asked for."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, Request]] = []
        self.slept: list[float] = []


class Timeouts(NamedTuple):
    """Each phase's timeout, as the core reads them."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


class Headers(dict[str, str]):
    """An answer's headers, looked up by name in any case."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """The header's value, or `default`."""
        return super().get(key.lower(), default)

    def multi_items(self) -> list[tuple[str, str]]:
        """Every header as a (name, value) pair."""
        return list(self.items())


class Canned:
    """An answer built in memory: what the core reads of one (status, headers) and its body's bytes."""

    def __init__(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.content = json.dumps(data).encode()
        self.headers = Headers({name.lower(): value for name, value in (headers or {}).items()})
        self.headers["content-type"] = "application/json"


def query(request: Request) -> dict[str, list[str]]:
    """The request's query parameters."""
    return parse_qs(urlsplit(request.url).query)


Answer = Canned | Exception


def perform(
    flow: Flow[Any], answers: Sequence[Answer], clock: Clock, *, takes: float = 0.0, script: Script | None = None
) -> tuple[Any, Script]:
    """Drive `flow` with `answers` in order (an exception is thrown in as a transport error would be).

    Each request takes `takes` seconds of the clock; each Sleep moves the clock by its seconds. The
    flow's result and what it did (also in `script`, when given: read it after the flow raised); what
    it raises, raises.
    """
    script, queue = script or Script(), list(answers)
    step = next(flow)
    try:
        for _ in range(10_000):  # bounded: a flow that never ends fails the test instead of hanging it
            result: Any = None
            match step:
                case Send(request=request):
                    script.sent.append((clock.now, request))
                    clock.now += takes
                    answer = queue.pop(0)
                    if isinstance(answer, Exception):
                        step = flow.throw(answer)
                        continue
                    result = answer
                case ReadBody(response=response):
                    result = bytearray(response.content)
                case Sleep(seconds=seconds):
                    assert seconds > 0
                    script.slept.append(seconds)
                    clock.now += seconds
                case Close() | Notify():
                    pass
            step = flow.send(result)
        raise AssertionError("the flow did not end within 10,000 steps")
    except StopIteration as stop:
        return stop.value, script


def settings(clock: Clock, *, deadline: float = 120.0, max_retries: int = 2) -> Settings:
    """Settings of a client on a platform that is never reached: a seeded jitter, the test's clock."""
    return Settings(
        base_url="http://platform.invalid",
        authorization="Bearer k-test",
        timeout=Timeouts(connect=5.0, read=60.0, write=60.0, pool=None),
        deadline=deadline,
        retry=RetryPolicy(max_retries=max_retries),
        rng=random.Random(7),
        clock=clock,
    )


def error(status: int, code: str = "unavailable", headers: dict[str, str] | None = None) -> Canned:
    """An error answer in the platform's envelope."""
    return Canned(status, {"error": {"code": code, "message": "try later"}}, headers)


TRIGGERED = Canned(202, {"runId": "run_1", "status": "queued"})


def run_row(status: str = "running", run_id: str = "run_1") -> dict[str, Any]:
    """A Run row as the spec's Run schema has it."""
    terminal = status in ("completed", "failed", "cancelled")
    return {
        "id": run_id,
        "agent_id": 1,
        "status": status,
        "input_data": {},
        "output_data": {"ok": True} if status == "completed" else None,
        "outputs": None,
        "error": None,
        "external_run_id": None,
        "waiting": None,
        "created_at": "2026-11-28T10:00:00Z",
        "started_at": "2026-11-28T10:00:01Z",
        "finished_at": "2026-11-28T10:00:09Z" if terminal else None,
    }


# -- the retry loop ------------------------------------------------------------------------------------


def test_retries_resend_the_same_request_after_jittered_backoff() -> None:
    """503, 503, 202: three sends with one Idempotency-Key, two sleeps within the doubling backoff, the run."""
    clock = Clock()
    flow = ops.trigger_run(settings(clock), 1, {"a": 1})
    triggered, script = perform(flow, [error(503), error(503), TRIGGERED], clock)
    assert triggered.run_id == "run_1"
    assert triggered.attempts == 3
    keys = {request.headers["Idempotency-Key"] for _, request in script.sent}
    assert len(keys) == 1
    assert len(script.slept) == 2
    assert 0 < script.slept[0] <= 0.5
    assert 0 < script.slept[1] <= 1.0
    assert clock.now == pytest.approx(5_000.0 + sum(script.slept))


def test_retry_after_is_honoured_exactly() -> None:
    """A 429 with `Retry-After: 3` is waited out for 3 s of the clock, not a jittered backoff."""
    clock = Clock()
    flow = ops.trigger_run(settings(clock), 1, {})
    _, script = perform(flow, [error(429, "rate_limited", {"Retry-After": "3"}), TRIGGERED], clock)
    assert script.slept == [3.0]


def test_retries_run_out_with_the_last_answer() -> None:
    """Three 503s with two retries allowed: the last 503 is raised, after 3 attempts, with no sleep after it."""
    clock = Clock()
    flow = ops.trigger_run(settings(clock), 1, {})
    with pytest.raises(APIStatusError) as raised:
        perform(flow, [error(503), error(503), error(503)], clock)
    assert raised.value.status_code == 503
    assert raised.value.attempts == 3


def test_a_refusal_is_never_retried() -> None:
    """A 400 in the envelope is raised at once: one send, no sleep."""
    clock = Clock()
    flow = ops.trigger_run(settings(clock), 1, {})
    with pytest.raises(APIStatusError) as raised:
        perform(flow, [error(400, "invalid_request")], clock)
    assert (raised.value.status_code, raised.value.attempts, raised.value.applied) == (400, 1, False)


# -- the deadline --------------------------------------------------------------------------------------


def test_each_attempt_gets_at_most_the_time_left_and_none_starts_after_the_deadline() -> None:
    """Deadline 10 s, every request takes 4 s and fails: the third attempt's timeouts are cut to what is left."""
    clock, script = Clock(), Script()
    flow = ops.trigger_run(settings(clock, deadline=10.0, max_retries=5), 1, {})
    with pytest.raises((APIStatusError, APITimeoutError)):
        perform(flow, [error(503)] * 6, clock, takes=4.0, script=script)
    end = 5_000.0 + 10.0
    assert len(script.sent) >= 2
    for at, request in script.sent:
        assert at < end
        assert max(request.timeouts.values()) <= end - at + 1e-9
        assert request.deadline == end
    assert clock.now <= end + 4.0  # the last attempt ended by its cut timeouts (here: by `takes`)


def test_a_deadline_that_passed_during_backoff_sends_nothing_more() -> None:
    """Deadline 5 s, a 503 with Retry-After 4 after 2 s: the retry would start past the deadline, so it is not made."""
    clock = Clock()
    flow = ops.trigger_run(settings(clock, deadline=5.0, max_retries=5), 1, {})
    with pytest.raises(APIStatusError) as raised:
        perform(flow, [error(503, headers={"Retry-After": "4"})] * 6, clock, takes=2.0)
    assert raised.value.attempts == 1  # 2 s + 4 s of Retry-After > 5 s: raised instead of sleeping
    assert clock.now == 5_002.0


# -- poll pacing ---------------------------------------------------------------------------------------


def test_a_wait_on_a_platform_that_answers_at_once_is_paced() -> None:
    """Every held read comes back at once (a platform that ignores waitMs): the wait backs off to 2 s reads."""
    clock, script = Clock(), Script()
    running = Canned(200, run_row("running"))
    flow = ops.wait_for_run(settings(clock), 1, "run_1", timeout=30.0)
    with pytest.raises(WaitTimeoutError) as raised:
        perform(flow, [running] * 1000, clock, script=script)
    assert raised.value.status == "running"
    assert clock.now == pytest.approx(5_030.0)  # the wait ends on its own clock, not earlier
    assert script.slept[:5] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])  # the floor doubles from 0.1 s
    assert all(0 < pause <= ops.PACE_MAX_S for pause in script.slept)
    assert len(script.sent) <= 5 + 30 / ops.PACE_MAX_S + 1


def test_a_wait_held_by_the_platform_is_not_paced() -> None:
    """Reads held for their whole window (the platform honours waitMs) follow each other with no sleep."""
    clock = Clock()
    running = Canned(200, run_row("running"))
    done = Canned(200, run_row("completed"))
    flow = ops.wait_for_run(settings(clock), 1, "run_1", timeout=200.0)
    run, script = perform(flow, [running, running, done], clock, takes=50.0)
    assert isinstance(run, Run)
    assert run.status is RunStatus.COMPLETED
    assert script.slept == []
    assert [query(request)["waitMs"][0] for _, request in script.sent] == ["50000", "50000", "50000"]


# -- a batch wait --------------------------------------------------------------------------------------


def waited(ended: list[dict[str, Any]], missing: list[dict[str, Any]] | None = None) -> Canned:
    """A RunsWaited answer."""
    return Canned(200, {"ended": ended, "missing": missing or []})


def test_a_batch_wait_takes_only_the_runs_it_asked_about() -> None:
    """An answer that lists an unasked run and a running 'ended' run settles only the asked, ended one."""
    clock = Clock()
    keys = [(1, "run_1"), (1, "run_2")]
    answer = waited([run_row("completed", "run_9"), run_row("running", "run_2"), run_row("completed", "run_1")])
    (found, floor), script = perform(ops.wait_many(settings(clock), keys, wait_end=5_060.0, floor=0.0), [answer], clock)
    assert [run.run_id for run in found] == ["run_1"]
    assert len(script.sent) == 1
    assert script.slept == []  # progress was made: no pause
    assert floor == 0.0


def test_a_batch_wait_without_progress_is_paced_and_bounded_by_its_clock() -> None:
    """A round that settled nothing, answered at once, pauses by the pace floor; never past the wait's end."""
    clock = Clock()
    keys = [(1, "run_1")]
    flow = ops.wait_many(settings(clock), keys, wait_end=5_000.05, floor=1.0)
    (found, floor), script = perform(flow, [waited([])], clock)
    assert found == []
    assert floor == ops.PACE_MAX_S  # doubled from 1.0
    assert script.slept == [pytest.approx(0.05)]  # cut to the wait's end
    body = script.sent[0][1].body
    assert b'"runId":"run_1"' in body


def test_a_batch_wait_names_a_missing_run() -> None:
    """A `missing` entry for an asked run becomes its NotFoundError; one for another run is dropped."""
    clock = Clock()
    keys = [(1, "run_1")]
    answer = waited(
        [],
        [
            {"agentId": 1, "runId": "run_7", "code": "run_not_found", "message": "no such run"},
            {"agentId": 1, "runId": "run_1", "code": "run_not_found", "message": "no such run"},
        ],
    )
    (found, _), _ = perform(ops.wait_many(settings(clock), keys, wait_end=5_060.0, floor=0.0), [answer], clock)
    assert len(found) == 1
    assert isinstance(found[0], Exception)
    assert found[0].run_id == "run_1"
