"""The seed's six operations as module functions, sync and async, configured from the environment."""

import asyncio
from pathlib import Path

import pytest

from cxpa_sdk import (
    AgentClient,
    MissingConfigError,
    create_agent_client,
    ingest_run,
    register_run,
    trigger_run,
    trigger_run_and_download,
    trigger_run_and_wait,
)
from cxpa_sdk import aio as cxpa_aio
from cxpa_sdk.testing import ECHO, REPORT, STANDALONE, LocalPlatform


@pytest.fixture
def env(cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> LocalPlatform:
    """CXPA_API_URL and CXPA_INGEST_KEY point at the served platform."""
    monkeypatch.setenv("CXPA_API_URL", cxpa_platform.base_url)
    monkeypatch.setenv("CXPA_INGEST_KEY", cxpa_platform.ingest_key)
    return cxpa_platform


def test_sync_functions_from_the_environment(env: LocalPlatform, tmp_path: Path) -> None:
    """All six seed operations work with base_url and ingest_api_key taken from the environment."""
    assert trigger_run(agent_id=ECHO, input={"a": 1}).run_id
    assert trigger_run_and_wait(agent_id=ECHO, input={"b": 2}, timeout_ms=10_000).output_data == {"b": 2}
    with trigger_run_and_download(agent_id=REPORT, input={"sizeBytes": 64}) as download:
        assert download.save(tmp_path).stat().st_size == 64
    registered = register_run(agent_id=ECHO, external_run_id="fn-sync")
    assert (
        ingest_run(agent_id=STANDALONE, external_run_id="fn-sync", status="completed", output=1).status == "completed"
    )
    agent = create_agent_client(
        api_key=env.agent_api_key(ECHO), run_id=registered.run_id, credentials_token=registered.credentials_token
    )
    assert isinstance(agent, AgentClient)
    assert agent.resolve_credential("conn_demo").type == "api_key"
    agent.close()


def test_async_functions_from_the_environment(env: LocalPlatform, tmp_path: Path) -> None:
    """The same six in cxpa_sdk.aio."""

    async def main() -> None:
        assert (await cxpa_aio.trigger_run(agent_id=ECHO, input={})).run_id
        waited = await cxpa_aio.trigger_run_and_wait(agent_id=ECHO, input={"c": 3}, timeout_ms=10_000)
        assert waited.output_data == {"c": 3}
        async with cxpa_aio.trigger_run_and_download(agent_id=REPORT, input={"sizeBytes": 32}) as download:
            assert (await download.save(tmp_path)).stat().st_size == 32
        registered = await cxpa_aio.register_run(agent_id=ECHO, external_run_id="fn-async")
        ingested = await cxpa_aio.ingest_run(agent_id=STANDALONE, external_run_id="fn-async", status="running")
        assert ingested.status == "running"
        agent = cxpa_aio.create_agent_client(api_key=env.agent_api_key(ECHO), run_id=registered.run_id)
        await agent.started()
        await agent.aclose()

    asyncio.run(main())


def test_missing_configuration_names_argument_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a key anywhere, MissingConfigError names the argument and the environment variable."""
    monkeypatch.delenv("CXPA_INGEST_KEY", raising=False)
    monkeypatch.setenv("CXPA_API_URL", "http://127.0.0.1:1")
    with pytest.raises(MissingConfigError) as caught:
        trigger_run(agent_id=1, input={})
    assert (caught.value.argument, caught.value.env_var) == ("ingest_api_key", "CXPA_INGEST_KEY")
    assert "CXPA_INGEST_KEY" in str(caught.value)
    monkeypatch.delenv("CXPA_API_URL")
    with pytest.raises(MissingConfigError, match="CXPA_API_URL"):
        trigger_run(agent_id=1, input={}, ingest_api_key="k")
