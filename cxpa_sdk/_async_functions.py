"""The seed's six operations as async functions, one client per call (public as `cxpa_sdk.aio`).

`base_url` and `ingest_api_key` fall back to `CXPA_API_URL` and `CXPA_INGEST_KEY`. For many calls,
create one `AsyncCxpa` and reuse its connection pool instead.

`scripts/unasync` writes the sync twin, `_functions.py`, from this file: edit this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._async_client import AsyncCxpa
from ._core import _operations as ops
from ._download._async_stream import AsyncDownload
from ._runtime._agent import AsyncAgentClient
from .types import IngestedRun, RegisteredRun, Run, RunStatus, TriggeredRun, WaitTimedOut

# The six, named once: `cxpa_sdk` re-exports the sync ones, `cxpa_sdk.aio` the async ones.
__all__ = [
    "create_agent_client",
    "ingest_run",
    "register_run",
    "trigger_run",
    "trigger_run_and_download",
    "trigger_run_and_wait",
]


async def trigger_run(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> TriggeredRun:
    """Start a platform-managed run and return at once (`triggerRun`): its id and status.

    The seed's data, not a handle (the function's client is closed when it returns): for a handle,
    use `AsyncCxpa().trigger_run`, or rebuild one with `AsyncCxpa().run(agent_id, run_id)`.
    """
    async with AsyncCxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        seam = client._seam
        return await seam.run(ops.trigger_run(seam.settings, agent_id, input, idempotency_key=idempotency_key))


async def trigger_run_and_wait(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    timeout_ms: int | None = None,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> Run | WaitTimedOut:
    """Start a run and wait for it to end, or `timeout_ms` to pass (`triggerRunAndWait`)."""
    async with AsyncCxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return await client.trigger_run_and_wait(
            agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key
        )


def trigger_run_and_download(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    timeout_ms: int | None = None,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> AsyncDownload:
    """Start a run of a file agent and stream its file (`triggerRunAndDownload`); use it with `async with`."""
    client = AsyncCxpa(base_url=base_url, ingest_api_key=ingest_api_key)
    seam = client._seam
    flow = ops.open_download(
        seam.settings,
        agent_id,
        input,
        timeout_ms=timeout_ms,
        idempotency_key=idempotency_key,
    )
    return AsyncDownload(lambda: seam.run(flow), on_close=client.aclose)


async def register_run(
    *,
    agent_id: int,
    external_run_id: str,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> RegisteredRun:
    """Register an externally triggered run and receive a credentials token (`registerRun`)."""
    async with AsyncCxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return await client.register_run(agent_id, external_run_id, idempotency_key=idempotency_key)


async def ingest_run(
    *,
    agent_id: int,
    external_run_id: str,
    status: RunStatus | str,
    output: Any = ops._UNSET,
    outputs: int | None = None,
    error: BaseException | str | Mapping[str, Any] | None = None,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> IngestedRun:
    """Report the status of a standalone agent's run (`ingestRun`)."""
    async with AsyncCxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return await client.ingest_run(
            agent_id,
            external_run_id,
            status,
            output=output,
            outputs=outputs,
            error=error,
            idempotency_key=idempotency_key,
        )


def create_agent_client(
    *,
    api_key: str,
    run_id: str,
    base_url: str | None = None,
    credentials_token: str | None = None,
) -> AsyncAgentClient:
    """A runtime client bound to one run and its agent API key (`createAgentClient`)."""
    return AsyncAgentClient(api_key=api_key, run_id=run_id, base_url=base_url, credentials_token=credentials_token)
