"""The local platform sends a trigger or resume again to a URL runtime that answers 429 or 503 (not taken now).

The same delivery (body and `webhook-id`), freshly timestamped and signed, after the answer's
Retry-After clamped to `max_retry_after_s`, at most `delivery_attempts` times; then the run ends
failed ("stayed busy"). Against a runtime on 127.0.0.1 that answers from a script.
"""

from __future__ import annotations

import email.utils
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from delivery_support import new_secret

from cxpa_sdk import AgentClient, Cxpa, InMemorySeenDeliveries, ResumePayload, TriggerPayload, verify_delivery
from cxpa_sdk.testing import LocalPlatform
from cxpa_sdk.testing._dispatch import DeliveryRetry

SETTLE_S = 15.0  # the longest a test waits for something to arrive, in seconds
Answer = tuple[int, list[str]]  # a status and its Retry-After values (one header each)


@dataclass
class Script:
    """What the scripted runtime answers, in order (then 202 when `then_busy` is False), and what it got."""

    answers: list[Answer]
    then_busy: bool = False
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    on_first: list[Callable[[bytes], object]] = field(default_factory=list)  # run on the first body, before answering

    def next_answer(self) -> Answer:
        """The answer to the delivery just received."""
        index = len(self.deliveries) - 1
        if index < len(self.answers):
            return self.answers[index]
        return (503, ["0"]) if self.then_busy else (202, [])


class Scripted(http.server.BaseHTTPRequestHandler):
    """A URL runtime that keeps each delivery and answers it from the script."""

    script: Script
    lock = threading.Lock()

    def do_POST(self) -> None:
        """Keep the delivery; answer the script's next status with its Retry-After headers."""
        body = self.rfile.read(int(self.headers["content-length"]))
        with self.lock:
            self.script.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, retry_after = self.script.next_answer()
            first = len(self.script.deliveries) == 1
        for action in self.script.on_first if first else ():
            action(body)
        self.send_response(status)
        for value in retry_after:
            self.send_header("Retry-After", value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def script() -> Script:
    """The runtime's script (each test sets its answers)."""
    return Script([])


@pytest.fixture
def runtime_url(script: Script) -> Iterator[str]:
    """The scripted runtime's URL on 127.0.0.1."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("S", (Scripted,), {"script": script}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def arrived(script: Script, count: int) -> list[tuple[dict[str, str], bytes]]:
    """The first `count` deliveries, once they arrived (within SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while len(script.deliveries) < count:
        assert time.monotonic() < deadline, f"{len(script.deliveries)} of {count} deliveries arrived"
        time.sleep(0.01)
    return script.deliveries[:count]


def ended(platform: LocalPlatform, run_id: str) -> dict[str, object]:
    """The run's row once it has ended (within SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while (row := platform.run(run_id))["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"run {run_id} is still {row['status']}"
        time.sleep(0.01)
    return row


def test_busy_answers_are_retried_with_the_same_id_and_fresh_signatures(script: Script, runtime_url: str) -> None:
    """503, 429 then 202: three attempts of one delivery, one webhook-id, each signed at its own second; it goes on."""
    script.answers = [(503, ["1"]), (429, ["1"])]
    secret = new_secret()
    platform = LocalPlatform(signing_secret=secret, builtin_agents=False, max_retry_after_s=1.0)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("busy-then-free", runtime_url)
        run_id = client.trigger_run(agent.id, {"topic": "Q3"}).run_id
        got = arrived(script, 3)
        payloads = [
            verify_delivery(body, headers, secrets=secret, seen=InMemorySeenDeliveries()) for headers, body in got
        ]
        with AgentClient.from_payload(got[-1][1], base_url=platform.base_url) as reporter:
            reporter.complete({"done": True})
        row = ended(platform, run_id)
    assert {headers["webhook-id"] for headers, _ in got} == {got[0][0]["webhook-id"]}
    assert len({body for _, body in got}) == 1
    stamps = [int(headers["webhook-timestamp"]) for headers, _ in got]
    assert stamps[0] < stamps[1] < stamps[2]  # each attempt is signed afresh (a Retry-After of 1 s between)
    assert all(isinstance(p, TriggerPayload) and p.run_id == run_id for p in payloads)
    assert (row["status"], row["output_data"]) == ("completed", {"done": True})
    assert len(script.deliveries) == 3


def test_a_busy_answer_to_the_resume_notification_is_retried(script: Script, runtime_url: str) -> None:
    """The trigger taken, the resume answered 503: the resume is sent again under its own one webhook-id; it goes on."""
    script.answers = [(202, []), (503, ["0"])]
    secret = new_secret()
    platform = LocalPlatform(signing_secret=secret, builtin_agents=False)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("busy-on-resume", runtime_url)
        run_id = client.trigger_run(agent.id, {}).run_id
        ((_, trigger),) = arrived(script, 1)
        with AgentClient.from_payload(trigger, base_url=platform.base_url) as reporter:
            reporter.waiting("tok_busy", "approve")
            client.resume_run(agent.id, run_id, "tok_busy", {"approvedBy": "dana"})
            (_, *resumes) = arrived(script, 3)
            reporter.started()
            reporter.complete({"resumed": True})
        row = ended(platform, run_id)
    payloads = [verify_delivery(b, h, secrets=secret, seen=InMemorySeenDeliveries()) for h, b in resumes]
    assert all(isinstance(p, ResumePayload) and p.token_id == "tok_busy" for p in payloads)
    assert len({headers["webhook-id"] for headers, _ in resumes}) == 1
    assert (row["status"], row["output_data"]) == ("completed", {"resumed": True})


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date that far from now."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def test_hostile_retry_afters_are_clamped_or_defaulted(script: Script, runtime_url: str) -> None:
    """Garbage, absent, negative, fractional, huge, repeated and far-future Retry-Afters: each waits at most the cap."""
    script.answers = [
        (503, ["soon"]),
        (429, []),
        (503, ["-3"]),
        (503, ["1.5"]),
        (503, ["99999999999999999999999"]),
        (503, ["2", "7"]),
        (503, [http_date(86_400)]),
    ]
    platform = LocalPlatform(builtin_agents=False, max_retry_after_s=0.02)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("hostile-retry-after", runtime_url)
        run_id = client.trigger_run(agent.id, {}).run_id
        (*_, (_, last)) = arrived(script, 8)
        with AgentClient.from_payload(last, base_url=platform.base_url) as reporter:
            reporter.complete({"attempts": len(script.deliveries)})
        row = ended(platform, run_id)
    assert (row["status"], row["output_data"]) == ("completed", {"attempts": 8})


def test_a_runtime_busy_forever_fails_the_run_after_the_last_attempt(script: Script, runtime_url: str) -> None:
    """503 to every attempt: exactly `delivery_attempts` deliveries, then the run fails naming the status and count."""
    script.then_busy = True
    platform = LocalPlatform(signing_secret=new_secret(), builtin_agents=False, delivery_attempts=3)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("always-busy", runtime_url)
        row = ended(platform, client.trigger_run(agent.id, {}).run_id)
    assert row["status"] == "failed"
    assert row["error"] == {
        "name": "RuntimeError",
        "message": f"the runtime at {runtime_url} stayed busy: it answered 503 to all 3 attempts at the trigger",
    }
    assert len(script.deliveries) == 3
    assert len({headers["webhook-id"] for headers, _ in script.deliveries}) == 1


def test_a_platform_without_the_extension_fails_at_the_first_busy_answer(script: Script, runtime_url: str) -> None:
    """delivery_attempts=1 is an older platform: one 429 and the run fails, as at any error answer."""
    script.answers = [(429, ["1"])]
    platform = LocalPlatform(builtin_agents=False, delivery_attempts=1)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("older", runtime_url)
        row = ended(platform, client.trigger_run(agent.id, {}).run_id)
    assert row["error"] == {"name": "RuntimeError", "message": f"the runtime at {runtime_url} answered 429"}
    assert len(script.deliveries) == 1


def test_a_run_cancelled_while_its_runtime_is_busy_is_sent_no_more(script: Script, runtime_url: str) -> None:
    """Cancelled before its busy answer arrives: no more attempts, only the cancel notification; a later run is sent."""
    script.answers = [(503, ["0"])]
    platform = LocalPlatform(builtin_agents=False)
    with platform.serve(), Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        agent = platform.add_agent("cancelled-while-busy", runtime_url)
        script.on_first.append(lambda body: client.cancel_run(agent.id, json.loads(body)["runId"]))
        run_id = client.trigger_run(agent.id, {}).run_id
        arrived(script, 2)  # the trigger, then the cancel notification (sent while the trigger is answered)
        later = client.trigger_run(agent.id, {}).run_id
        arrived(script, 3)  # the later run's trigger: the cancelled run's task had its chance to send again
        row = platform.run(run_id)
    kinds = [(json.loads(body)["runId"], json.loads(body).get("type")) for _, body in script.deliveries]
    assert kinds == [(run_id, None), (run_id, "cancelled"), (later, None)]
    assert row["status"] == "cancelled"


@pytest.mark.parametrize(
    ("values", "wait"),
    [
        ([], 1.0),
        (["3"], 3.0),
        ([" 3 "], 3.0),
        (["3", "3"], 3.0),
        (["3", "4"], 1.0),
        (["soon"], 1.0),
        (["-3"], 1.0),
        (["1.5"], 1.0),
        (["\u0663"], 1.0),  # an Arabic-Indic digit three: not delay-seconds
        (["99999999999999999999999"], 60.0),
        ([email.utils.formatdate(0, usegmt=True)], 0.0),  # a date in the past: at once
        (["Sun, 06 Nov 1994 08:49:37"], 1.0),  # a date with no zone
    ],
    ids=[
        "absent",
        "seconds",
        "spaced",
        "repeated",
        "disagreeing",
        "garbage",
        "negative",
        "fraction",
        "non-ascii-digit",
        "huge",
        "past-date",
        "zoneless-date",
    ],
)
def test_the_wait_between_attempts(values: list[str], wait: float) -> None:
    """Retry-After as delay-seconds or an HTTP-date; anything else is 1 s; never past 60 s."""
    assert DeliveryRetry().wait_s(values) == wait


def test_a_future_date_is_waited_for_up_to_the_cap() -> None:
    """An HTTP-date 30 s ahead is about 30 s; a day ahead is the cap."""
    assert 25 < DeliveryRetry().wait_s([http_date(30)]) <= 30
    assert DeliveryRetry(max_wait_s=5).wait_s([http_date(86_400)]) == 5


@pytest.mark.parametrize(
    "options",
    [
        {"delivery_attempts": 0},
        {"max_retry_after_s": -1},
        {"max_retry_after_s": float("inf")},
        {"max_retry_after_s": float("nan")},
    ],
)
def test_bounds_that_are_no_bounds_are_refused(options: dict[str, float]) -> None:
    """Attempts below 1 and waits negative, infinite or NaN are refused at construction."""
    with pytest.raises(ValueError, match="delivery attempts"):
        LocalPlatform(builtin_agents=False, **options)  # type: ignore[arg-type]
