"""A newer platform's unknown properties are kept in `extra`, over real HTTP, instead of dropped or refused."""

import asyncio
import copy
import dataclasses
import json
import pickle
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any

import pytest
from sdk_support import MODES, Api, served

from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    Credential,
    RegisteredRun,
    Run,
    RunStatus,
    TriggeredRun,
    WaitTimedOut,
)
from cxpa_sdk._core import _operations as ops
from cxpa_sdk._schema import validate

SECRET = "SENTINEL-newer-secret"
RUN = {
    "id": "run_1",
    "agent_id": 1,
    "status": "failed",
    "input_data": {"topic": "Q3"},
    "output_data": None,
    "outputs": None,
    "error": {"message": "boom", "code": "E42"},
    "external_run_id": None,
    "waiting": {"token_id": "tok_1", "description": "approve", "expiresAt": "2026-12-01T00:00:00Z"},
    "created_at": "2026-01-01T00:00:00Z",
    "started_at": None,
    "finished_at": "2026-01-01T00:00:01Z",
    "costUsd": 0.42,
    "labels": {"team": "finance"},
}
# What a newer platform answers on each route: the spec's properties, and one this SDK does not know.
ANSWERS: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {
    ("POST", "/api/agents/1/runs/trigger"): (202, {"runId": "run_1", "status": "queued", "priority": 3}),
    ("POST", "/api/agents/1/runs/trigger-and-wait"): (200, RUN),
    ("POST", "/api/agents/2/runs/trigger-and-wait"): (
        202,
        {"timedOut": True, "runId": "run_2", "status": "running", "etaMs": 900},
    ),
    ("GET", "/api/agents/1/runs/run_1"): (200, RUN),
    ("POST", "/api/agents/1/runs/run_1/cancel"): (200, RUN),
    ("POST", "/api/agents/1/runs/register"): (
        201,
        {"runId": "run_1", "credentialsToken": "ctok-1", "expiresInSeconds": 60, "refreshToken": SECRET},
    ),
    ("POST", "/api/agents/1/runs/ingest"): (200, {"runId": "run_1", "status": "completed", "version": 7}),
    ("POST", "/api/runs/run_1/callback"): (200, {"runId": "run_1", "status": "running", "cancelRequested": False}),
    ("GET", "/api/credentials/conn_1/resolve"): (
        200,
        {"connectionId": "conn_1", "type": "oauth2", "values": {"token": "v"}, "expiresAt": None, "refresh": SECRET},
    ),
}


class NewerPlatform(BaseHTTPRequestHandler):
    """Answers each known route with a valid body that carries a property this SDK does not know."""

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, body = ANSWERS.get(
            (method, self.path.split("?", 1)[0]), (404, {"error": {"code": "x", "message": "x"}})
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", "req_newer")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer("GET")

    def do_POST(self) -> None:
        """Answer a POST."""
        self._answer("POST")

    def log_message(self, *args: Any) -> None:
        """Log nothing (the test output stays clean)."""


@pytest.fixture(scope="module")
def newer_url() -> Iterator[str]:
    """The base URL of a platform newer than this SDK (on 127.0.0.1)."""
    with served(NewerPlatform) as url:
        yield url


@pytest.fixture(params=MODES)
def newer(request: pytest.FixtureRequest, newer_url: str) -> Iterator[Api]:
    """Cxpa, AsyncCxpa and AsyncCxpa on aiohttp against the newer platform."""
    made = Api(request.param, SimpleNamespace(base_url=newer_url, ingest_key="ingest-key"), [])  # type: ignore[arg-type]
    yield made
    made.close()


def test_a_run_keeps_unknown_properties_at_every_level(newer: Api) -> None:
    """get_run, cancel_run and trigger_run_and_wait keep the row's, the error's and the token's unknown properties."""
    for run in (newer.get_run(1, "run_1"), newer.cancel_run(1, "run_1"), newer.trigger_run_and_wait(1, {"a": 1})):
        assert isinstance(run, Run)
        assert run.status == RunStatus.FAILED
        assert run.extra == {"costUsd": 0.42, "labels": {"team": "finance"}}
        assert run.error is not None
        assert run.error.extra == {"code": "E42"}
        assert run.waiting is not None
        assert run.waiting.extra == {"expiresAt": "2026-12-01T00:00:00Z"}
        assert run.request_id == "req_newer"


def test_the_small_results_keep_unknown_properties(newer: Api) -> None:
    """TriggeredRun, WaitTimedOut, RegisteredRun and IngestedRun keep what they do not know."""
    # The trigger's own answer (trigger_run wraps it in a RunHandle, which keeps the run's reference).
    triggered = newer._run(ops.trigger_run(newer.client._settings, 1, {"a": 1}))
    assert isinstance(triggered, TriggeredRun)
    assert triggered.extra == {"priority": 3}
    timed_out = newer.trigger_run_and_wait(2, {"a": 1}, timeout_ms=1)
    assert isinstance(timed_out, WaitTimedOut)
    assert timed_out.extra == {"etaMs": 900}
    registered = newer.register_run(1, "ext_1")
    assert registered.extra == {"refreshToken": SECRET}
    assert SECRET not in repr(registered)
    assert newer.ingest_run(1, "ext_1", "completed").extra == {"version": 7}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_runtime_answers_keep_unknown_properties(newer_url: str, mode: str) -> None:
    """A callback's answer and a credential keep theirs; the credential's never shows in repr."""
    options: dict[str, Any] = {
        "api_key": "agent-key",
        "run_id": "run_1",
        "base_url": newer_url,
        "credentials_token": "ctok-1",
    }
    if mode == "sync":
        with AgentClient(**options) as agent:
            accepted, credential = agent.output({"p": 1}), agent.resolve_credential("conn_1")
            agent.complete({"p": 2})
    else:

        async def flow() -> tuple[Any, Any]:
            async with AsyncAgentClient(**options) as agent:
                found = await agent.output({"p": 1}), await agent.resolve_credential("conn_1")
                await agent.complete({"p": 2})
                return found

        accepted, credential = asyncio.run(flow())
    assert accepted.extra == {"cancelRequested": False}
    assert credential.extra == {"refresh": SECRET}
    assert SECRET not in repr(credential)
    assert SECRET not in str(credential)


def test_validation_accepts_unknown_properties_in_answers() -> None:
    """The answer check lets a newer platform's properties through, nested ones included."""
    validate(RUN, "Run", open_enums=True)
    validate(ANSWERS[("GET", "/api/credentials/conn_1/resolve")][1], "Credential", open_enums=True)


def test_extra_round_trips_through_to_dict_and_pickle() -> None:
    """to_dict() carries extra (JSON-safe), from_dict reads it back, pickling keeps it."""
    run = Run.from_json(RUN)
    data = json.loads(json.dumps(run.to_dict()))
    assert data["extra"] == {"costUsd": 0.42, "labels": {"team": "finance"}}
    assert data["error"]["extra"] == {"code": "E42"}
    back = Run.from_dict(data)
    assert back.extra == run.extra
    assert back.error is not None
    assert back.error.extra == {"code": "E42"}
    assert back.waiting is not None
    assert back.waiting.extra == {"expiresAt": "2026-12-01T00:00:00Z"}
    assert pickle.loads(pickle.dumps(run)).extra == run.extra  # noqa: S301 - made by this test


def test_extra_is_not_compared_nor_shown() -> None:
    """Two results that differ only in extra are equal (and hash equal); extra is not in repr."""
    run = Run.from_json(RUN)
    plain = dataclasses.replace(run, extra={})
    assert run == plain
    assert "costUsd" not in repr(run)
    triggered = WaitTimedOut.from_json({"timedOut": True, "runId": "r", "status": "running", "x": 1})
    assert hash(triggered) == hash(dataclasses.replace(triggered, extra={}))


def test_a_dict_stored_before_extra_still_loads() -> None:
    """from_dict of a to_dict() shape without `extra` (an older SDK's) gives an empty extra."""
    data = Run.from_json(RUN).to_dict()
    old = copy.deepcopy(data)
    del old["extra"], old["error"]["extra"], old["waiting"]["extra"]
    assert Run.from_dict(old).extra == {}
    secret = Credential.from_json(ANSWERS[("GET", "/api/credentials/conn_1/resolve")][1])
    assert Credential.from_dict({k: v for k, v in secret.to_dict().items() if k != "extra"}).extra == {}


def test_the_known_answer_has_an_empty_extra() -> None:
    """An answer with exactly the spec's properties leaves extra empty (and RegisteredRun's too)."""
    known = {k: v for k, v in RUN.items() if k not in ("costUsd", "labels")}
    known["error"] = {"message": "boom"}
    known["waiting"] = {"token_id": "t", "description": "d"}
    run = Run.from_json(known)
    assert run.extra == {}
    assert run.error is not None
    assert run.error.extra == {}
    assert RegisteredRun.from_json({"runId": "r", "credentialsToken": "t", "expiresInSeconds": 1}).extra == {}
