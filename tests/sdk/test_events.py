"""Progress events (`run_events`): every change in order, resumable, retried without loss, bounded, with a fallback."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from sdk_support import MODES, Api

from cxpa_sdk import (
    AgentClient,
    BadRequestError,
    Cxpa,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidResponseError,
    NotFoundError,
    RunEvent,
    RunStatus,
    WaitTimeoutError,
)
from cxpa_sdk._core._events import inferred
from cxpa_sdk.testing import LocalPlatform, RuntimeCall
from cxpa_sdk.testing import _runs as platform_runs
from cxpa_sdk.types import Run

OUTPUTS = 10
APPROVAL = 6  # the built-in agent that waits on token `tok_<runId>` until resumed
# What a run of the progress agent below goes through, event by event (`run` is the final output).
EXPECTED = [
    ("status", "queued", None),
    ("status", "running", None),
    *[("output", "running", {"page": page}) for page in range(OUTPUTS)],
    ("waiting", "waiting", None),
    ("status", "running", None),
    ("output", "running", {"pages": OUTPUTS, "approved_by": "dana"}),
    ("ended", "completed", None),
]

# Each run's gate: the runtime sends its second half of outputs once the test has seen the first.
_gates: dict[str, threading.Event] = {}


def _gate(run_id: str) -> threading.Event:
    return _gates.setdefault(run_id, threading.Event())


def progress(call: RuntimeCall) -> None:
    """A runtime that sends OUTPUTS outputs in two quick bursts, waits on a token, is resumed and completes."""
    with AgentClient.from_payload(call.payload, base_url=call.base_url) as agent:  # sends `started`
        for page in range(OUTPUTS):
            if page == OUTPUTS // 2 and not _gate(call.run_id).wait(30):
                raise TimeoutError("the test never opened the gate")
            agent.output({"page": page}, outputs=page + 1)
        agent.waiting(f"tok_{call.run_id}", "approve the pages")
        resumed = call.wait_for_resume(timeout=30)
        agent.started()
        agent.complete({"pages": OUTPUTS, **(resumed or {})}, outputs=OUTPUTS)


def follow(
    api: Api, agent_id: int, run_id: str, seen: list[RunEvent], react: Callable[[RunEvent], None], **kw: Any
) -> None:
    """Iterate `run_events` in the api's mode, appending each event to `seen` and calling `react` on it."""
    if api.mode == "sync":
        for event in api.client.run_events(agent_id, run_id, **kw):
            seen.append(event)
            react(event)
        return

    async def collect() -> None:
        async for event in api.client.run_events(agent_id, run_id, **kw):
            seen.append(event)
            react(event)

    api.runner.run(collect())


def driver(
    platform: LocalPlatform, run_id: str, *, on_half: Callable[[], None] = lambda: None
) -> Callable[[RunEvent], None]:
    """What the test does as events arrive: open the gate after the first half, resume the wait."""

    def react(event: RunEvent) -> None:
        if event.type == "output" and event.output == {"page": OUTPUTS // 2 - 1}:
            on_half()
            _gate(run_id).set()
        if event.type == "waiting":
            assert event.waiting is not None
            platform.resume(event.waiting.token_id, {"approved_by": "dana"})

    return react


def shape(events: list[RunEvent]) -> list[tuple[str, str, Any]]:
    """Each event's type, status and output."""
    return [(e.type, e.status.value, e.output) for e in events]


@pytest.fixture
def progress_agent(cxpa_platform: LocalPlatform) -> int:
    """A fresh agent running `progress`."""
    return cxpa_platform.add_agent("progress", progress).id


def test_every_event_arrives_once_in_order(api: Api, progress_agent: int) -> None:
    """Status changes, each quick output, the wait with its token, the resume, the end: none lost or repeated."""
    run_id = api.trigger_run(progress_agent, {}).run_id
    seen: list[RunEvent] = []
    follow(api, progress_agent, run_id, seen, driver(api.platform, run_id), timeout=60)
    assert shape(seen) == EXPECTED
    assert len({e.cursor for e in seen}) == len(seen)
    waiting = next(e for e in seen if e.type == "waiting")
    assert waiting.waiting is not None
    assert (waiting.waiting.token_id, waiting.waiting.description) == (f"tok_{run_id}", "approve the pages")
    end = seen[-1]
    assert isinstance(end.run, Run)
    assert (end.run.run_id, end.run.status, end.run.output_data) == (run_id, RunStatus.COMPLETED, EXPECTED[-2][2])
    assert all(e.at is not None for e in seen)
    assert [e.cursor for e in seen] == [e["cursor"] for e in api.platform.run_events(run_id)]


def test_resuming_from_a_cursor_gives_exactly_the_rest(api: Api) -> None:
    """`after=` any event's cursor yields the events after it, and after the last one nothing."""
    run_id = api.trigger_run(APPROVAL, {}).run_id
    seen: list[RunEvent] = []
    follow(api, APPROVAL, run_id, seen, driver(api.platform, run_id), timeout=30)
    assert [e.type for e in seen] == ["status", "status", "waiting", "status", "output", "ended"]
    for k, event in enumerate(seen):
        rest: list[RunEvent] = []
        follow(api, APPROVAL, run_id, rest, lambda e: None, after=event.cursor, timeout=10)
        assert rest == seen[k + 1 :], k


def test_a_dropped_connection_and_a_503_mid_stream_lose_and_repeat_nothing(api: Api, progress_agent: int) -> None:
    """A held read whose answer is dropped, and a 503, are retried with the same cursor: the same events, once."""
    run_id = api.trigger_run(progress_agent, {}).run_id
    rules = []

    def arm() -> None:  # the next read fails with a 503, the one after is applied and its answer dropped
        rules.append(api.platform.faults.fail_next(1, status=503, path="*/events"))
        rules.append(api.platform.faults.drop_next(1, path="*/events"))

    seen: list[RunEvent] = []
    follow(api, progress_agent, run_id, seen, driver(api.platform, run_id, on_half=arm), timeout=60)
    assert [rule.hits for rule in rules] == [1, 1]
    assert shape(seen) == EXPECTED


def test_the_deadline_ends_it_with_the_cursor_to_resume_from(api: Api) -> None:
    """A run that waits too long: WaitTimeoutError with run id, status and cursor; resuming from it yields the rest."""
    run_id = api.trigger_run(APPROVAL, {}).run_id
    seen: list[RunEvent] = []
    with pytest.raises(WaitTimeoutError) as caught:
        follow(api, APPROVAL, run_id, seen, lambda e: None, timeout=1.0)
    assert [e.type for e in seen] == ["status", "status", "waiting"]
    error = caught.value
    assert (error.run_id, error.status, error.cursor) == (run_id, "waiting", seen[-1].cursor)
    assert repr(seen[-1].cursor) in str(error)
    api.cancel_run(APPROVAL, run_id)
    rest: list[RunEvent] = []
    follow(api, APPROVAL, run_id, rest, lambda e: None, after=error.cursor, timeout=10)
    assert [(e.type, e.status) for e in rest] == [("ended", RunStatus.CANCELLED)]


def test_a_missing_run_and_a_foreign_cursor_are_typed_errors(api: Api) -> None:
    """No such run: NotFoundError run_not_found; an `after` that is not the run's cursor: BadRequestError naming it."""
    run_id = api.trigger_run(1, {"echo": True}).run_id
    with pytest.raises(NotFoundError) as missing:
        follow(api, 1, "run_nope", [], lambda e: None, timeout=5)
    assert missing.value.code == "run_not_found"
    with pytest.raises(BadRequestError, match="after"):
        follow(api, 1, run_id, [], lambda e: None, after="999999", timeout=5)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"after": ""}, InvalidArgumentError),
        ({"after": 3}, InvalidArgumentTypeError),
        ({"after": "a\nb"}, InvalidArgumentError),
        ({"timeout": 0}, InvalidArgumentError),
        ({"timeout": "5"}, InvalidArgumentTypeError),
    ],
    ids=["empty-after", "int-after", "control-in-after", "zero-timeout", "str-timeout"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_bad_arguments_fail_at_the_call_before_anything_is_sent(
    mode: str, arguments: dict[str, Any], error: type[Exception]
) -> None:
    """The arguments are checked when run_events is called, not at the first iteration; nothing is sent."""
    sent: list[httpx2.Request] = []
    transport = httpx2.MockTransport(lambda request: sent.append(request) or httpx2.Response(500))
    from cxpa_sdk import AsyncCxpa  # noqa: PLC0415 - only this test builds an async client on a mock

    client: Any = (
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=httpx2.Client(transport=transport))
        if mode == "sync"
        else AsyncCxpa(
            base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=httpx2.AsyncClient(transport=transport)
        )
    )
    with pytest.raises(error):
        client.run_events(1, "run_1", **arguments)
    assert sent == []


def _mock_client(answers: Iterator[bytes]) -> Cxpa:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=next(answers))

    return Cxpa(
        base_url="http://127.0.0.1:1",
        ingest_api_key="k",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )


GOOD_EVENT = b'{"cursor": "1", "type": "status", "at": "2026-11-28T10:00:00Z", "status": "queued"}'


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b'{"events": [], "cursor": "1"}',
        b'{"events": [{"type": "status", "at": "2026-11-28T10:00:00Z", "status": "queued"}],'
        b' "cursor": "1", "ended": false}',
        b'{"events": [' + GOOD_EVENT + b'], "cursor": "1", "ended": "no"}',
        b'{"events": [{"cursor": "1", "type": "status", "at": "yesterday", "status": "queued"}],'
        b' "cursor": "1", "ended": false}',
    ],
    ids=["not-json", "no-ended", "event-without-cursor", "ended-not-boolean", "bad-time"],
)
def test_an_answer_outside_the_schema_is_invalid_response(body: bytes) -> None:
    """Malformed bytes or a RunEvents that breaks the schema: InvalidResponseError, nothing yielded."""
    with _mock_client(iter([body])) as client, pytest.raises(InvalidResponseError):
        list(client.run_events(1, "run_1", timeout=5))


def test_an_answer_that_does_not_move_its_cursor_is_invalid_response() -> None:
    """Events without a new cursor would repeat forever: InvalidResponseError after the first page."""
    page = b'{"events": [' + GOOD_EVENT + b'], "cursor": "1", "ended": false}'
    seen: list[RunEvent] = []
    with _mock_client(iter([page, page])) as client, pytest.raises(InvalidResponseError, match="did not move"):
        seen.extend(client.run_events(1, "run_1", timeout=5))
    assert [e.cursor for e in seen] == ["1"]


def test_an_unknown_event_type_and_status_pass_through() -> None:
    """A type or status a newer platform adds arrives as its string, and the iteration goes on to the end."""
    page = (
        b'{"events": [{"cursor": "1", "type": "heartbeat", "at": "2026-11-28T10:00:00Z", "status": "paused"},'
        b' {"cursor": "2", "type": "ended", "at": "2026-11-28T10:00:01Z", "status": "cancelled"}],'
        b' "cursor": "2", "ended": true}'
    )
    with _mock_client(iter([page])) as client:
        events = list(client.run_events(1, "run_1", timeout=5))
    assert [(e.type, e.status.value, e.status.known) for e in events] == [
        ("heartbeat", "paused", False),
        ("ended", "cancelled", True),
    ]


# -- an older platform, without the events endpoint -----------------------------------------------


@pytest.fixture(scope="module")
def older_platform() -> Iterator[LocalPlatform]:
    """A LocalPlatform served as an older platform: no events endpoint."""
    platform = LocalPlatform(events=False)
    with platform.serve():
        yield platform


@pytest.fixture(params=MODES)
def older(request: pytest.FixtureRequest, older_platform: LocalPlatform, slept: list[float]) -> Iterator[Api]:
    """The clients of every mode on the older platform."""
    made = Api(request.param, older_platform, slept)
    yield made
    made.close()
    older_platform.reset_faults()


def test_the_older_platform_answers_404_as_for_an_unknown_path(older_platform: LocalPlatform) -> None:
    """Its events path is an unknown route (404 not_found), unlike a missing run (404 run_not_found)."""
    headers = {"Authorization": f"Bearer {older_platform.ingest_key}"}
    with httpx2.Client(base_url=older_platform.base_url, headers=headers) as http:
        run_id = http.post("/api/agents/1/runs/trigger", json={"input": {}}).json()["runId"]
        route = http.get(f"/api/agents/1/runs/{run_id}/events")
        run = http.get("/api/agents/1/runs/run_nope")
    assert (route.status_code, route.json()["error"]["code"]) == (404, "not_found")
    assert (run.status_code, run.json()["error"]["code"]) == (404, "run_not_found")


def test_an_older_platform_falls_back_to_run_reads(older: Api) -> None:
    """Without the endpoint: the wait (with its token), the outputs as seen, and the end with the final Run."""
    run_id = older.trigger_run(APPROVAL, {}).run_id
    seen: list[RunEvent] = []
    follow(older, APPROVAL, run_id, seen, driver(older.platform, run_id), timeout=30)
    assert seen[-1].type == "ended"
    assert seen[-1].run is not None
    assert seen[-1].run.output_data == {"approved": True, "approved_by": "dana"}
    assert "waiting" in [e.type for e in seen]
    waiting = next(e for e in seen if e.type == "waiting")
    assert waiting.waiting is not None
    assert waiting.waiting.token_id == f"tok_{run_id}"
    assert all(e.at is None for e in seen)
    assert len({e.cursor for e in seen}) == len(seen)
    with pytest.raises(NotFoundError) as missing:
        follow(older, APPROVAL, "run_nope", [], lambda e: None, timeout=5)
    assert missing.value.code == "run_not_found"


def test_an_older_platform_resumes_from_its_cursor_without_repeating(older: Api) -> None:
    """The fallback's WaitTimeoutError carries a cursor; resuming from it yields only what changed since."""
    run_id = older.trigger_run(APPROVAL, {}).run_id
    seen: list[RunEvent] = []
    with pytest.raises(WaitTimeoutError) as caught:
        follow(older, APPROVAL, run_id, seen, lambda e: None, timeout=1.0)
    assert seen[-1].type == "waiting"
    assert caught.value.cursor == seen[-1].cursor
    older.platform.resume(f"tok_{run_id}", {"approved_by": "lee"})
    rest: list[RunEvent] = []
    follow(older, APPROVAL, run_id, rest, lambda e: None, after=caught.value.cursor, timeout=30)
    assert "waiting" not in [e.type for e in rest]
    assert rest[-1].type == "ended"
    assert rest[-1].run is not None
    assert rest[-1].run.output_data == {"approved": True, "approved_by": "lee"}


def test_inferred_events_coalesce_outputs_and_resume_from_their_cursor() -> None:
    """From run reads: a changed output is one `output` event, a new status one event; a cursor resumes the state."""
    base = Run.from_json(
        {
            "id": "run_1",
            "agent_id": 1,
            "status": "running",
            "input_data": {},
            "output_data": None,
            "outputs": None,
            "error": None,
            "external_run_id": None,
            "waiting": None,
            "created_at": "2026-11-28T10:00:00Z",
            "started_at": None,
            "finished_at": None,
        }
    )
    first, seen = inferred(base, None)
    assert [(e.type, e.status) for e in first] == [("status", RunStatus.RUNNING)]
    same, seen = inferred(base, seen)
    assert same == []
    import dataclasses  # noqa: PLC0415 - only this test builds runs by hand

    later = dataclasses.replace(base, output_data={"page": 3})
    events, seen = inferred(later, seen)
    assert [(e.type, e.output) for e in events] == [("output", {"page": 3})]
    done = dataclasses.replace(later, status=RunStatus.COMPLETED, output_data={"pages": 4})
    events, _ = inferred(done, seen)
    assert [(e.type, e.status) for e in events] == [("output", RunStatus.RUNNING), ("ended", RunStatus.COMPLETED)]
    resumed, _ = inferred(done, type(seen).parse(events[0].cursor))
    assert [e.type for e in resumed] == ["ended"]


def test_a_run_keeps_a_bounded_number_of_events_and_always_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_EVENTS - 1, further events are counted, not kept; the `ended` event is always kept."""
    monkeypatch.setattr(platform_runs, "MAX_EVENTS", 5)
    run = platform_runs.RunRecord("run_1", 1, {})
    run.move_to("running")
    for page in range(10):
        run.record("output", {"page": page})
    run.move_to("completed")
    assert [e["type"] for e in run.events] == ["status", "status", "output", "output", "ended"]
    assert run.events_dropped == 8
    assert run.events_page(0)["ended"] is True
    assert run.events_page(5) == {"events": [], "cursor": "5", "ended": True}
