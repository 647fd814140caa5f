"""AgentClient and AsyncAgentClient: a runtime's callbacks and credential resolves over real HTTP."""

import asyncio
import json

import pytest

from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    Cxpa,
    InvalidArgumentError,
    ResumePayload,
    RunStatus,
    TriggerPayload,
    create_agent_client,
    parse_runtime_payload,
)
from cxpa_sdk import aio as cxpa_aio
from cxpa_sdk.testing import LocalPlatform


def new_run(platform: LocalPlatform, client: Cxpa, name: str) -> tuple[int, str, str]:
    """A runtime-less agent's registered run: (agent id, run id, credentials token)."""
    agent = platform.add_agent(name)
    registered = client.register_run(agent.id, f"ext-{name}")
    return agent.id, registered.run_id, registered.credentials_token


def test_sync_agent_reports_every_event(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """started, output, waiting, started, complete and resolve_credential, as the seed's agent client."""
    agent_id, run_id, token = new_run(cxpa_platform, cxpa_client, "agent-sync-events")
    with AgentClient(
        base_url=cxpa_platform.base_url,
        api_key=cxpa_platform.agent_api_key(agent_id),
        run_id=run_id,
        credentials_token=token,
    ) as agent:
        assert agent.output({"progress": 0.5}, outputs=1).status == RunStatus.RUNNING
        assert agent.waiting("tok-1", "approve the report", output={"draft": True}).status == RunStatus.WAITING
        assert cxpa_platform.run(run_id)["waiting"] == {"token_id": "tok-1", "description": "approve the report"}
        assert agent.started().status == RunStatus.RUNNING
        credential = agent.resolve_credential("conn_demo")
        assert (credential.connection_id, credential.type, dict(credential.values)) == (
            "conn_demo",
            "api_key",
            {"apiKey": "cxpa-demo-secret"},
        )
        assert "cxpa-demo-secret" not in repr(credential)
        assert agent.complete({"pages": 42}, outputs=42).status == RunStatus.COMPLETED
    row = cxpa_platform.run(run_id)
    assert (row["status"], row["output_data"], row["outputs"]) == ("completed", {"pages": 42}, 42)


def test_context_manager_fails_the_run_and_reraises(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """An exception in the block is sent with fail (type, message, traceback), then re-raised."""
    agent_id, run_id, _ = new_run(cxpa_platform, cxpa_client, "agent-sync-fail")
    key = cxpa_platform.agent_api_key(agent_id)
    with pytest.raises(ZeroDivisionError), AgentClient(base_url=cxpa_platform.base_url, api_key=key, run_id=run_id):
        1 / 0  # noqa: B018 - the failure under test
    error = cxpa_platform.run(run_id)["error"]
    assert (error["name"], error["message"]) == ("ZeroDivisionError", "division by zero")
    assert "1 / 0" in error["stack"]


def test_fail_with_a_message(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """fail() takes a plain message with an optional name and stack."""
    agent_id, run_id, _ = new_run(cxpa_platform, cxpa_client, "agent-sync-fail-message")
    agent = create_agent_client(
        base_url=cxpa_platform.base_url, api_key=cxpa_platform.agent_api_key(agent_id), run_id=run_id
    )
    agent.started()
    assert agent.fail("upstream did not answer", name="TimeoutError", stack="at fetch()").status == RunStatus.FAILED
    agent.close()
    assert cxpa_platform.run(run_id)["error"] == {
        "message": "upstream did not answer",
        "name": "TimeoutError",
        "stack": "at fetch()",
    }


def test_resolve_without_token_says_so(cxpa_platform: LocalPlatform) -> None:
    """resolve_credential without a credentials token raises a clear error before sending."""
    agent = AgentClient(base_url=cxpa_platform.base_url, api_key="k", run_id="run_x")
    with pytest.raises(InvalidArgumentError, match="needs a credentials token"):
        agent.resolve_credential("conn_demo")
    agent.close()


def test_from_payload_runs_a_real_runtime(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """A runtime built on AgentClient.from_payload(the trigger payload JSON) completes its run."""

    def runtime(call: object) -> None:
        payload_json = json.dumps(call.payload).encode()  # as a URL runtime would receive it
        with AgentClient.from_payload(payload_json, base_url=call.base_url) as agent:
            credential = agent.resolve_credential("conn_demo")
            agent.complete({"echo": agent.run_id, "has_secret": bool(credential.values)})

    agent = cxpa_platform.add_agent("from-payload", runtime)
    result = cxpa_client.trigger_run_and_wait(agent.id, {}, timeout_ms=10_000)
    assert result.output_data == {"echo": result.run_id, "has_secret": True}


def test_trigger_payload_parse_validates() -> None:
    """TriggerPayload.parse takes bytes, str or a dict, and names the bad field otherwise."""
    good = {"runId": "run_1", "agentId": 3, "input": {"a": 1}, "agentApiKey": "sentinel-agent-key"}
    for form in (good, json.dumps(good), json.dumps(good).encode()):
        parsed = TriggerPayload.parse(form)
        assert (parsed.run_id, parsed.agent_id, parsed.input, parsed.credentials_token) == ("run_1", 3, {"a": 1}, None)
        assert "sentinel-agent-key" not in repr(parsed)
    with pytest.raises(InvalidArgumentError, match="agentApiKey: is required"):
        TriggerPayload.parse({"runId": "r", "agentId": 1, "input": {}})
    with pytest.raises(InvalidArgumentError, match="agentId: must be at least 1"):
        TriggerPayload.parse({**good, "agentId": 0})
    with pytest.raises(InvalidArgumentError, match="not JSON"):
        TriggerPayload.parse(b"{nope")


def test_parse_runtime_payload_tells_a_resume_from_a_trigger() -> None:
    """One URL receives both payloads: `type: resumed` makes a ResumePayload, none a TriggerPayload."""
    trigger = {"runId": "run_1", "agentId": 3, "input": {}, "agentApiKey": "sentinel-agent-key"}
    resume = {
        "type": "resumed",
        "runId": "run_1",
        "agentId": 3,
        "tokenId": "tok_1",
        "output": {"approvedBy": "dana"},
        "agentApiKey": "sentinel-agent-key",
        "credentialsToken": "sentinel-fresh-token",
    }
    assert isinstance(parse_runtime_payload(json.dumps(trigger).encode()), TriggerPayload)
    for form in (resume, json.dumps(resume), json.dumps(resume).encode()):
        parsed = parse_runtime_payload(form)
        assert isinstance(parsed, ResumePayload)
        assert (parsed.run_id, parsed.token_id, parsed.output) == ("run_1", "tok_1", {"approvedBy": "dana"})
        assert "sentinel" not in repr(parsed)
        assert ResumePayload.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed
    assert ResumePayload.parse(resume) == parse_runtime_payload(resume)
    with pytest.raises(InvalidArgumentError, match="invalid resume payload: tokenId: is required"):
        parse_runtime_payload({k: v for k, v in resume.items() if k != "tokenId"})
    with pytest.raises(InvalidArgumentError, match="invalid trigger payload"):
        parse_runtime_payload(b"[1, 2]")
    with pytest.raises(InvalidArgumentError, match="runtime payload is not JSON"):
        parse_runtime_payload(b"{nope")
    client = AgentClient.from_payload(json.dumps(resume), base_url="http://127.0.0.1:9")
    assert "sentinel" not in repr(client)
    client.close()


@pytest.mark.parametrize(
    "payload",
    ["[" * 100_000, b'{"runId": ' * 100_000 + b"1" + b"}" * 100_000],
    ids=["deep-list", "deep-object"],
)
def test_trigger_payload_parse_refuses_deep_nesting(payload: str | bytes) -> None:
    """Deeply nested JSON is an InvalidArgumentError naming the problem, not a RecursionError."""
    with pytest.raises(InvalidArgumentError, match="nested too deeply"):
        TriggerPayload.parse(payload)


def test_async_agent_reports_every_event(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """The async twin sends the same events and resolves credentials."""
    agent_id, run_id, token = new_run(cxpa_platform, cxpa_client, "agent-async-events")

    async def runtime() -> None:
        agent = cxpa_aio.create_agent_client(
            base_url=cxpa_platform.base_url,
            api_key=cxpa_platform.agent_api_key(agent_id),
            run_id=run_id,
            credentials_token=token,
        )
        async with agent:
            await agent.output([1, 2])
            assert (await agent.resolve_credential("conn_demo")).values["apiKey"] == "cxpa-demo-secret"
            await agent.complete("done")

    asyncio.run(runtime())
    assert cxpa_platform.run(run_id)["output_data"] == "done"


def test_async_context_manager_fails_the_run(cxpa_platform: LocalPlatform, cxpa_client: Cxpa) -> None:
    """The async context manager reports the exception and re-raises it."""
    agent_id, run_id, _ = new_run(cxpa_platform, cxpa_client, "agent-async-fail")

    async def runtime() -> None:
        async with AsyncAgentClient(
            base_url=cxpa_platform.base_url, api_key=cxpa_platform.agent_api_key(agent_id), run_id=run_id
        ):
            raise KeyError("missing")

    with pytest.raises(KeyError):
        asyncio.run(runtime())
    assert cxpa_platform.run(run_id)["error"]["name"] == "KeyError"
