"""A waiting run is resumed through the public endpoint: sync and async clients, handles, the CLI, the test kit.

Over real HTTP against the local platform. The `approval` agent (a Python runtime) waits on token
`tok_<runId>` and completes with the resumer's output; the URL runtime at the end finishes from the
resume payload alone (it carries the run's input) and verifies that the delivery was signed.
"""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from delivery_support import new_secret

from cxpa_sdk import (
    AgentClient,
    AsyncCxpa,
    ConflictError,
    Cxpa,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    ResumePayload,
    RunStatus,
    TriggerPayload,
    parse_runtime_payload,
)
from cxpa_sdk._cli._main import run as cxpa
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import LocalPlatform

APPROVAL = 6


def waiting(client: Cxpa, agent_id: int = APPROVAL, run_input: dict[str, Any] | None = None) -> str:
    """A run of the agent, once it waits on its token; its id."""
    run_id = client.trigger_run(agent_id, run_input or {}).run_id
    deadline = time.monotonic() + 20
    while client.get_run(agent_id, run_id).status != RunStatus.WAITING:
        assert time.monotonic() < deadline, "the run never waited"
        time.sleep(0.01)
    return run_id


def test_the_sync_client_resumes_a_waiting_run(cxpa_client: Cxpa) -> None:
    """resume_run answers the Run still waiting with its token taken; the runtime then completes it with the output."""
    run_id = waiting(cxpa_client)
    resumed = cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}", {"approvedBy": "dana"})
    assert (resumed.run_id, resumed.waiting) == (run_id, None)
    assert resumed.request_id is not None
    done = cxpa_client.wait_for_run(APPROVAL, run_id, timeout=20)
    assert (done.status, done.output_data) == (RunStatus.COMPLETED, {"approved": True, "approvedBy": "dana"})


def test_the_async_client_and_its_handle_resume(cxpa_platform: LocalPlatform) -> None:
    """AsyncCxpa.resume_run and AsyncRunHandle.resume do the same over the async client."""

    async def go() -> list[Any]:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            outputs = []
            for by_handle in (False, True):
                handle = await client.trigger_run(APPROVAL, {})
                while (await handle.refresh()).status != RunStatus.WAITING:
                    await asyncio.sleep(0.01)
                token = f"tok_{handle.run_id}"
                if by_handle:
                    await handle.resume(token, {"by": "handle"})
                    assert handle.status == RunStatus.WAITING  # what the answer said, remembered
                else:
                    await client.resume_run(APPROVAL, handle.run_id, token, {"by": "client"})
                outputs.append((await handle.result(timeout=20)).output_data)
            return outputs

    assert asyncio.run(go()) == [{"approved": True, "by": "client"}, {"approved": True, "by": "handle"}]


def test_the_sync_handle_resumes(cxpa_client: Cxpa) -> None:
    """RunHandle.resume, on a handle rebuilt from a stored reference in the way an approval page would."""
    run_id = waiting(cxpa_client)
    handle = cxpa_client.run(APPROVAL, run_id)
    handle.resume(f"tok_{run_id}")  # no output: the runtime sees {}
    assert handle.result(timeout=20).output_data == {"approved": True}


def test_the_cli_resumes(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """`cxpa resume AGENT RUN TOKEN --output JSON` prints the Run; a bad --output is a usage error (exit 2)."""
    run_id = waiting(cxpa_client)
    target = ["--base-url", cxpa_platform.base_url, "--ingest-key", cxpa_platform.ingest_key]
    bad = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    assert cxpa(["resume", *target, str(APPROVAL), run_id, f"tok_{run_id}", "--output", "[1]"], bad) == 2
    assert "--output must be a JSON object" in bad.stderr.getvalue()
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    argv = ["resume", *target, str(APPROVAL), run_id, f"tok_{run_id}", "--output", '{"approvedBy": "cli"}']
    assert cxpa(argv, streams) == 0, streams.stderr.getvalue()
    assert json.loads(streams.stdout.getvalue())["status"] == "waiting"
    assert cxpa_client.wait_for_run(APPROVAL, run_id, timeout=20).output_data == {"approved": True, "approvedBy": "cli"}
    again = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    assert cxpa(["resume", *target, str(APPROVAL), run_id, f"tok_{run_id}"], again) == 4
    assert again.stderr.getvalue().startswith("cxpa: run_finished:")


def test_unknown_runs_and_tokens_are_404_and_a_token_taken_is_409(cxpa_client: Cxpa) -> None:
    """404 run_not_found and token_not_found; 409 not_waiting for a token resumed already; run_finished once ended."""
    with pytest.raises(NotFoundError) as unknown_run:
        cxpa_client.resume_run(APPROVAL, "run_nobody", "tok_x")
    assert unknown_run.value.code == "run_not_found"
    run_id = waiting(cxpa_client)
    with pytest.raises(NotFoundError) as unknown_token:
        cxpa_client.resume_run(APPROVAL, run_id, "tok_never_waited_on")
    assert (unknown_token.value.code, unknown_token.value.applied) == ("token_not_found", False)
    cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}")
    with pytest.raises(ConflictError) as taken:  # another key: another request, and the token is gone
        cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}")
    # The token is gone either way; the runtime may already have finished the run in between (a race
    # the test cannot order), and the platform then says so instead.
    assert taken.value.code in {"not_waiting", "run_finished"}
    assert taken.value.run_id == run_id
    cxpa_client.wait_for_run(APPROVAL, run_id, timeout=20)
    with pytest.raises(ConflictError) as ended:
        cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}")
    assert ended.value.code == "run_finished"


def test_a_retried_resume_is_applied_once(cxpa_client: Cxpa) -> None:
    """The same Idempotency-Key again replays the first answer instead of a 409: a retried resume is safe."""
    run_id = waiting(cxpa_client)
    first = cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}", {"n": 1}, idempotency_key="resume-once")
    again = cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}", {"n": 1}, idempotency_key="resume-once")
    assert (first.replayed, again.replayed) == (False, True)
    assert cxpa_client.wait_for_run(APPROVAL, run_id, timeout=20).output_data == {"approved": True, "n": 1}


def test_the_test_kit_resume_takes_the_same_path(cxpa_client: Cxpa, cxpa_platform: LocalPlatform) -> None:
    """LocalPlatform.resume takes the token as the endpoint does: a public resume of it after is a 409."""
    run_id = waiting(cxpa_client)
    assert cxpa_platform.resume(f"tok_{run_id}", {"via": "kit"}) == run_id
    with pytest.raises(ConflictError) as taken:
        cxpa_client.resume_run(APPROVAL, run_id, f"tok_{run_id}")
    # not_waiting while the resumed run still runs; run_finished if its runtime was quicker (a race).
    assert taken.value.code in {"not_waiting", "run_finished"}
    with pytest.raises(KeyError):
        cxpa_platform.resume(f"tok_{run_id}")
    assert cxpa_client.wait_for_run(APPROVAL, run_id, timeout=20).output_data == {"approved": True, "via": "kit"}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((1, "run_1", "tok with space"), InvalidArgumentError),
        ((1, "run_1", ""), InvalidArgumentError),
        ((1, "run_1", ".."), InvalidArgumentError),
        ((1, "run_1", "t" * 257), InvalidArgumentError),
        ((1, "run_1", "tok_é"), InvalidArgumentError),
        ((1, "run_1", 7), InvalidArgumentTypeError),
        ((1, "run 1", "tok"), InvalidArgumentError),
        ((0, "run_1", "tok"), InvalidArgumentError),
        ((1, "run_1", "tok", ["not", "an", "object"]), InvalidArgumentTypeError),
    ],
    ids=["space", "empty", "dot-dot", "too-long", "non-ascii", "not-a-str", "bad-run-id", "bad-agent", "output-list"],
)
def test_bad_arguments_are_refused_before_anything_is_sent(args: tuple[Any, ...], error: type[Exception]) -> None:
    """Token ids pass the id rule (as run ids do), output is a JSON object: typed errors, nothing sent."""
    with Cxpa(base_url="http://127.0.0.1:9", ingest_api_key="k", max_retries=0) as client:  # nothing listens there
        with pytest.raises(error):
            client.resume_run(*args)


def test_a_runtime_waits_only_on_a_token_it_could_be_resumed_by(
    cxpa_client: Cxpa, cxpa_platform: LocalPlatform
) -> None:
    """waiting() checks its token id by the same rule, so no run can wait on a token resume_run would refuse."""
    errors: list[BaseException] = []

    def runtime(call: Any) -> None:
        with AgentClient.from_payload(call.payload, base_url=call.base_url) as agent:
            try:
                agent.waiting("tok with a space", "approve")
            except InvalidArgumentError as exc:
                errors.append(exc)
            agent.complete({})

    agent = cxpa_platform.add_agent("strict-tokens", runtime)
    cxpa_client.trigger_run_and_wait(agent.id, {}, timeout_ms=20_000)
    assert len(errors) == 1
    assert "token_id" in str(errors[0])


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A URL runtime that keeps every delivery (headers and raw body) and reports from the payload alone."""

    deliveries: list[tuple[dict[str, str], bytes]]
    secret: str
    base_url: str

    def do_POST(self) -> None:
        """Keep the delivery, verify it, answer 202, then work on it."""
        body = self.rfile.read(int(self.headers["content-length"]))
        self.deliveries.append((dict(self.headers.items()), body))
        payload = parse_runtime_payload(body, headers=self.headers.items(), secrets=self.secret)
        self.send_response(202)
        self.end_headers()
        threading.Thread(target=self.work, args=(payload,), daemon=True).start()

    def work(self, payload: Any) -> None:
        """Wait on a token when triggered; complete from the resume payload alone when resumed."""
        if isinstance(payload, TriggerPayload):
            with AgentClient.from_payload(payload, base_url=self.base_url) as agent:
                agent.waiting(f"tok_{payload.run_id}", "approve")
        elif isinstance(payload, ResumePayload):
            with AgentClient.from_payload(payload, base_url=self.base_url) as agent:
                agent.complete({"input": payload.input, "output": payload.output})

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def url_runtime(cxpa_platform: LocalPlatform) -> Iterator[tuple[int, type[_Recorder]]]:
    """A recording URL runtime, trusted by an agent whose deliveries are signed with its own secret."""
    secret = new_secret()
    handler = type("Recorder", (_Recorder,), {"deliveries": [], "secret": secret, "base_url": cxpa_platform.base_url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    agent = cxpa_platform.add_agent("recorded", f"http://127.0.0.1:{server.server_address[1]}/", signing_secret=secret)
    yield agent.id, handler
    server.shutdown()
    server.server_close()


def test_a_url_runtime_finishes_from_the_resume_payload_alone(
    cxpa_client: Cxpa, url_runtime: tuple[int, type[_Recorder]]
) -> None:
    """The resume payload carries the run's input beside the output: the runtime keeps no state; both were signed."""
    agent_id, recorder = url_runtime
    run_id = waiting(cxpa_client, agent_id, {"topic": "Q3"})
    cxpa_client.resume_run(agent_id, run_id, f"tok_{run_id}", {"approvedBy": "dana"})
    done = cxpa_client.wait_for_run(agent_id, run_id, timeout=20)
    assert done.output_data == {"input": {"topic": "Q3"}, "output": {"approvedBy": "dana"}}
    kinds = [json.loads(body).get("type") for _, body in recorder.deliveries]
    assert kinds == [None, "resumed"]
    assert all(headers["webhook-signature"].startswith("v1,") for headers, _ in recorder.deliveries)
