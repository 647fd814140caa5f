"""Sentinel secrets through every operation, sync and async, with DEBUG logs and the CLI: never shown."""

import asyncio
import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, CxpaError
from cxpa_sdk._cli._main import run
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import ECHO, REPORT, STANDALONE, LocalPlatform

INGEST = "sentinel-ingest-2b7e15"
VALUE = "sentinel-credential-value-9a1c"


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """A platform whose ingest key and credential value are sentinels."""
    served = LocalPlatform(ingest_key=INGEST)
    served.add_credential("conn_sentinel", "api_key", {"token": VALUE})
    with served.serve():
        yield served


def texts_of(error: BaseException) -> list[str]:
    """Everything a person could see of an error: str, repr and the formatted traceback."""
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def test_every_operation_keeps_secrets(
    platform: LocalPlatform, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """All operations, their results, errors and DEBUG logs: no key, token or credential value."""
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with Cxpa(base_url=platform.base_url, ingest_api_key=INGEST) as client:
        seen.append(repr(client))
        seen.append(repr(client.trigger_run(ECHO, {})))
        seen.append(repr(client.trigger_run_and_wait(ECHO, {}, timeout_ms=5000)))
        with client.trigger_run_and_download(REPORT, {"sizeBytes": 10}) as download:
            seen.append(repr(download))
            download.save(tmp_path)
        registered = client.register_run(ECHO, "secrets-1")
        seen.append(repr(registered))
        seen.append(repr(client.ingest_run(STANDALONE, "secrets-1", "running")))
        seen.append(repr(client.get_run(ECHO, registered.run_id)))
        for bad in (lambda: client.get_run(ECHO, "run_missing"), lambda: client.cancel_run(ECHO, "run_missing")):
            with pytest.raises(CxpaError) as caught:
                bad()
            seen += texts_of(caught.value)
        agent_key = platform.agent_api_key(ECHO)
        with AgentClient(
            base_url=platform.base_url,
            api_key=agent_key,
            run_id=registered.run_id,
            credentials_token=registered.credentials_token,
        ) as agent:
            seen.append(repr(agent))
            credential = agent.resolve_credential("conn_sentinel")
            seen += [repr(credential), str(credential)]
            agent.output({"ok": 1})
            with pytest.raises(CxpaError) as caught:
                agent.resolve_credential("conn_missing")
            seen += texts_of(caught.value)
            agent.complete({"done": True})
        with (
            Cxpa(base_url=platform.base_url, ingest_api_key=INGEST + "-wrong") as wrong,
            pytest.raises(CxpaError) as caught,
        ):  # the server echoes nothing of a bad key
            wrong.trigger_run(ECHO, {})
        seen += texts_of(caught.value)

    async def async_side() -> None:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=INGEST) as aclient:
            seen.append(repr(aclient))
            reg = await aclient.register_run(ECHO, "secrets-2")
            seen.append(repr(reg))
            async with AsyncAgentClient(
                base_url=platform.base_url,
                api_key=agent_key,
                run_id=reg.run_id,
                credentials_token=reg.credentials_token,
            ) as aagent:
                seen.append(repr(await aagent.resolve_credential("conn_sentinel")))

    asyncio.run(async_side())
    assert len(caplog.records) > 20
    seen += [record.getMessage() for record in caplog.records]
    everything = "\n".join(seen)
    for secret in (INGEST, agent_key, registered.credentials_token, VALUE):
        assert secret not in everything


def test_cli_keeps_secrets(platform: LocalPlatform, tmp_path: Path) -> None:
    """The CLI's output and errors carry no key, token or credential value (unless --show-secrets)."""
    outputs: list[str] = []

    def cxpa(*argv: str) -> str:
        streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
        try:
            run(list(argv), streams)
        except CxpaError as error:  # --debug lets API errors through with their traceback
            outputs.extend(texts_of(error))
        outputs.append(streams.stdout.getvalue() + streams.stderr.getvalue())
        return streams.stdout.getvalue()

    target = ["--base-url", platform.base_url, "--ingest-key", INGEST]
    cxpa("trigger", "1", *target)
    cxpa("wait", "1", *target, "--input", '{"a": 1}')
    cxpa("download", "4", *target, "--input", '{"sizeBytes": 5}', "-o", str(tmp_path))
    with Cxpa(base_url=platform.base_url, ingest_api_key=INGEST) as client:
        registered = client.register_run(ECHO, "secrets-cli")
    cxpa("register", "1", "secrets-cli-2", *target)
    cxpa(
        "credential",
        "conn_sentinel",
        "--base-url",
        platform.base_url,
        "--api-key",
        platform.agent_api_key(ECHO),
        "--credentials-token",
        registered.credentials_token,
    )
    cxpa("get", "1", "run_missing", *target, "--debug")  # even the debug log of an error answer
    cxpa("trigger", "1", "--base-url", platform.base_url, "--ingest-key", INGEST + "-wrong")
    everything = "\n".join(outputs)
    assert "***" in everything
    for secret in (INGEST, platform.agent_api_key(ECHO), registered.credentials_token, VALUE):
        assert secret not in everything
