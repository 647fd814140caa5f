"""Schemathesis fuzzes every operation of the local platform, positive and negative, against openapi.yaml.

Every answer must be documented by the spec (status, content type, JSON body, headers) and none may
be a 5xx, except trigger-and-download's documented `502 run_failed` and `504 wait_timeout`. Callers
authenticate with the ingest key; runtimes with agent 1's API key and, to resolve credentials, a live
credentials token of one of agent 1's runs. Half of the generated agent ids, run ids and connection
ids are real ones (runs seeded in every state), so the success answers are checked as well as the
errors. `CXPA_HYPOTHESIS_PROFILE=long` fuzzes deeper.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from importlib.resources import files

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.generation.meta import negated_parameters

from cxpa_sdk.testing import APPROVAL, ECHO, FAIL, REPORT, SLOW, STANDALONE, LocalPlatform

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

LONG = os.environ.get("CXPA_HYPOTHESIS_PROFILE") == "long"
MAX_EXAMPLES = 400 if LONG else 40
REQUEST_TIMEOUT_S = 30.0
# Waits are capped low so that a generated trigger-and-wait on the `slow` or `approval` agent, or a
# long poll on one of their runs, costs half a second instead of up to 30 s (or 5 min): the answer is
# then the documented 202 WaitTimedOut (or the row as it stands), which the checks validate all the same.
MAX_WAIT_MS = 500
CONNECTION_ID = "conn_demo"

RUNTIME_OPERATIONS = frozenset({"post_callback", "resolve_credential"})
CREDENTIALS_TOKEN = "X-Credentials-Token"
IDEMPOTENCY_KEY = "Idempotency-Key"
# The only 5xx answers the contract gives on purpose: trigger-and-download relays a run that failed, or
# produced no byte within the window, as `502 run_failed` / `504 wait_timeout`, naming the run.
# What schemathesis expects of a schema-valid request by default (its `positive_data_acceptance` check).
ACCEPTED_POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
GATEWAY_ANSWERS = {("trigger_run_and_download", 502): "run_failed", ("trigger_run_and_download", 504): "wait_timeout"}


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """One local platform served for the module."""
    served = LocalPlatform(max_wait_ms=MAX_WAIT_MS, max_poll_wait_ms=MAX_WAIT_MS)
    with served.serve():
        yield served


def seed_runs(platform: LocalPlatform, client: httpx2.Client) -> tuple[list[str], str]:
    """Runs in every state (queued, running, waiting, completed, failed, a file) and a credentials token."""

    def post(agent_id: int, operation: str, body: dict[str, object]) -> httpx2.Response:
        answer = client.post(f"/api/agents/{agent_id}/runs/{operation}", json=body)
        assert answer.status_code in (200, 201, 202), answer.text
        return answer

    registered = [post(ECHO, "register", {"externalRunId": f"seed-{n}"}).json() for n in range(2)]
    run_ids = [run["runId"] for run in registered]
    for agent_id in (ECHO, FAIL):  # a completed run and a failed one (or, on a slow machine, still running)
        ended = post(agent_id, "trigger-and-wait", {"input": {"seeded": True}}).json()
        run_ids.append(ended.get("id") or ended["runId"])
    run_ids.append(post(SLOW, "trigger", {"input": {"seconds": 600}}).json()["runId"])
    run_ids.append(post(REPORT, "trigger-and-download", {"input": {"sizeBytes": 1024}}).headers["X-Run-Id"])
    run_ids.append(post(STANDALONE, "ingest", {"externalRunId": "seed", "status": "running"}).json()["runId"])
    waiting = post(APPROVAL, "trigger", {"input": {}}).json()["runId"]
    run_ids.append(waiting)
    deadline = time.monotonic() + 10
    while platform.run(waiting)["status"] != "waiting" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert platform.run(waiting)["status"] == "waiting"
    return run_ids, registered[0]["credentialsToken"]


@pytest.fixture(scope="module")
def api_schema(platform: LocalPlatform) -> schemathesis.BaseSchema:
    """The spec the generated client ships, fuzzed positive and negative, authenticated for this platform."""
    headers = {"Authorization": f"Bearer {platform.ingest_key}"}
    with httpx2.Client(base_url=platform.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        run_ids, credentials_token = seed_runs(platform, client)
    config = schemathesis.Config.from_dict(
        {
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                # The stateful phase follows links between operations, and the spec declares none.
                "stateful": {"enabled": False},
            },
            # Positive cases use a real agent, run or connection half of the time (negative ones never,
            # since these values are valid): random ids alone would only ever reach the 404 answers.
            # The file agent is the only one trigger-and-download serves, the standalone one the only
            # one ingest accepts: those operations draw the agent that answers 200 instead.
            "dictionaries": {
                "agents": {"values": [agent.id for agent in platform.agents]},
                "file_agents": {"values": [REPORT]},
                "standalone_agents": {"values": [STANDALONE]},
                "trigger_agents": {"values": [ECHO]},
                "runs": {"values": run_ids},
                "connections": {"values": [CONNECTION_ID]},
                # Every seeded run has at least its first event; the echo run's ended run has a few more.
                "cursors": {"values": ["1", "2"]},
            },
            "parameters": {
                "path.agentId": {"dictionary": "agents", "probability": 0.5},
                "path.runId": {"dictionary": "runs", "probability": 0.5},
                "path.connectionId": {"dictionary": "connections", "probability": 0.5},
            },
            "operations": [
                {
                    "include-operation-id": "trigger_run_and_download",
                    "parameters": {"path.agentId": {"dictionary": "file_agents", "probability": 0.5}},
                    # 502 run_failed and 504 wait_timeout are this operation's documented gateway answers
                    # (a generated `timeoutMs: 1` elapses before the first byte); see GATEWAY_ANSWERS.
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "504"]}},
                },
                {
                    # `after` is an opaque cursor: no schema can say which strings are cursors of a run,
                    # so a generated one is a documented `400 invalid_parameter` naming it. Real cursors
                    # half the time keep the success answers (pages, `ended`) in the fuzzing.
                    "include-operation-id": "get_run_events",
                    "parameters": {"query.after": {"dictionary": "cursors", "probability": 0.5}},
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED_POSITIVE, "400"]}},
                },
                {
                    # Keys unique within a batch are beyond JSON Schema (uniqueItems compares whole
                    # items), so a generated batch that repeats a key is a documented `400 invalid_body`
                    # naming it. Half the agents are the echo one, so that most batches start runs.
                    "include-operation-id": "trigger_runs_batch",
                    "parameters": {"path.agentId": {"dictionary": "trigger_agents", "probability": 0.5}},
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED_POSITIVE, "400"]}},
                },
                {
                    "include-operation-id": "ingest_run",
                    "parameters": {"path.agentId": {"dictionary": "standalone_agents", "probability": 0.5}},
                },
            ],
        }
    )
    spec = json.loads(files("cxpa_api").joinpath("openapi.json").read_text(encoding="utf-8"))
    loaded = schemathesis.openapi.from_dict(spec, config=config)
    loaded.config.update(base_url=platform.base_url)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    ingest_key, agent_key = platform.ingest_key, platform.agent_api_key(ECHO)

    # No caching (each case's operation decides its key) and no re-login on 401 (there is no login).
    @loaded.auth(refresh_interval=None, retry_on=[])
    class PlatformAuth:
        """Callers get the ingest key; runtimes agent 1's key and, to resolve, a live credentials token."""

        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> dict[str, str]:
            """The headers this case's operation authenticates with."""
            operation_id = context.operation.definition.raw["operationId"]
            if operation_id not in RUNTIME_OPERATIONS:
                return {"Authorization": f"Bearer {ingest_key}"}
            credentials = {"Authorization": f"Bearer {agent_key}"}
            # The token is also a declared header parameter, which schemathesis generates at random:
            # the live one replaces it unless this (negative) case deliberately mutated that header.
            if operation_id == "resolve_credential" and not negated(case, CREDENTIALS_TOKEN):
                credentials[CREDENTIALS_TOKEN] = credentials_token
            return credentials

        def set(self, case: schemathesis.Case, data: dict[str, str], context: schemathesis.AuthContext) -> None:
            """Put the headers on the case."""
            del context
            case.headers = {**(case.headers or {}), **data}

    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Give the node the `_nodeid` attribute schemathesis 4's lazy schemas relabel (pytest 9 nodes have none)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def negated(case: schemathesis.Case, header: str) -> bool:
    """Whether this (negative) case deliberately mutated the header."""
    return any(name.lower() == header.lower() for name, _ in negated_parameters(case.meta))


def isolate_idempotency_key(case: schemathesis.Case) -> None:
    """Scope a generated, valid Idempotency-Key to this exact request, so that cases stay independent.

    Generated keys repeat across cases ("0", the spec's example key), and the contract answers the same
    key with another body `422 idempotency_key_reused`: right, but it would make a case's answer depend
    on the cases before it. Prefixing a digest of the request keeps the key valid (printable ASCII, at
    most 255 characters); the same request sent again with the same key still gets the replayed answer.
    """
    key = (case.headers or {}).get(IDEMPOTENCY_KEY)
    if not isinstance(key, str) or negated(case, IDEMPOTENCY_KEY):
        return
    request = repr((case.method, case.formatted_path, case.query, case.body))
    case.headers[IDEMPOTENCY_KEY] = f"{hashlib.sha256(request.encode()).hexdigest()[:16]}.{key}"[:255]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_conforms_to_the_spec(case: schemathesis.Case, platform: LocalPlatform) -> None:
    """Every generated request, valid or not, gets a documented, schema-conformant answer and never a 5xx."""
    isolate_idempotency_key(case)
    response = case.call(base_url=platform.base_url, timeout=REQUEST_TIMEOUT_S)
    expected_code = GATEWAY_ANSWERS.get((case.operation.definition.raw["operationId"], response.status_code))
    if expected_code is None:
        assert response.status_code < 500, f"{case.as_curl_command()} answered {response.status_code}: {response.text}"
    else:
        error = response.json()["error"]
        assert (error["code"], bool(error.get("runId"))) == (expected_code, True), response.text
    case.validate_response(response, transport_kwargs={"base_url": platform.base_url, "timeout": REQUEST_TIMEOUT_S})
