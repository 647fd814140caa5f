"""The seed's six operations as functions, one client per call (public in `cxpa_sdk`).

`base_url` and `ingest_api_key` fall back to `CXPA_API_URL` and `CXPA_INGEST_KEY`. For many calls,
create one `Cxpa` and reuse its connection pool instead.

Written by `scripts/unasync` from `_async_functions.py`: edit that file, not this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._client import Cxpa
from ._core import _operations as ops
from ._download._stream import Download
from ._runtime._agent import AgentClient
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


def trigger_run(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> TriggeredRun:
    """Start a platform-managed run and return at once (`triggerRun`): its id and status.

    The seed's data, not a handle (the function's client is closed when it returns): for a handle,
    use `Cxpa().trigger_run`, or rebuild one with `Cxpa().run(agent_id, run_id)`.
    """
    with Cxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        seam = client._seam
        return seam.run(ops.trigger_run(seam.settings, agent_id, input, idempotency_key=idempotency_key))


def trigger_run_and_wait(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    timeout_ms: int | None = None,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> Run | WaitTimedOut:
    """Start a run and wait for it to end, or `timeout_ms` to pass (`triggerRunAndWait`)."""
    with Cxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return client.trigger_run_and_wait(agent_id, input, timeout_ms=timeout_ms, idempotency_key=idempotency_key)


def trigger_run_and_download(
    *,
    agent_id: int,
    input: Mapping[str, Any],
    timeout_ms: int | None = None,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> Download:
    """Start a run of a file agent and stream its file (`triggerRunAndDownload`); use it with `with`."""
    client = Cxpa(base_url=base_url, ingest_api_key=ingest_api_key)
    seam = client._seam
    flow = ops.open_download(
        seam.settings,
        agent_id,
        input,
        timeout_ms=timeout_ms,
        idempotency_key=idempotency_key,
    )
    return Download(lambda: seam.run(flow), on_close=client.close)


def register_run(
    *,
    agent_id: int,
    external_run_id: str,
    base_url: str | None = None,
    ingest_api_key: str | None = None,
    idempotency_key: str | None = None,
) -> RegisteredRun:
    """Register an externally triggered run and receive a credentials token (`registerRun`)."""
    with Cxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return client.register_run(agent_id, external_run_id, idempotency_key=idempotency_key)


def ingest_run(
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
    with Cxpa(base_url=base_url, ingest_api_key=ingest_api_key) as client:
        return client.ingest_run(
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
) -> AgentClient:
    """A runtime client bound to one run and its agent API key (`createAgentClient`)."""
    return AgentClient(api_key=api_key, run_id=run_id, base_url=base_url, credentials_token=credentials_token)
