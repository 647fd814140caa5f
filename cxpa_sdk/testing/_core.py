"""The local platform's state and operations: agents, runs, keys, tokens, credentials.

Its other parts are mixins over the same state, one concept each: calling runtimes (`_dispatch`),
relaying files (`_files`), and waking waiters (`_waiting`).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2

from cxpa_api.models import CancelPayload, ResumePayload

from .._runtime._signing import SigningKey
from ._dispatch import RuntimeDispatch
from ._errors import ApiError, conflict
from ._files import FileRelay, FileStream
from ._idempotency import IdempotencyStore
from ._inline import InlineRuns
from ._leases import Leases
from ._runs import Agent, RunRecord, check_cancel, check_event, check_ingest, check_resume, new_id
from ._waiting import Waiting

logger = logging.getLogger("cxpa_sdk.testing")
TOKEN_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Credential:
    """A credential connection's values (secret; never shown in repr)."""

    type: str
    values: dict[str, str] = field(repr=False)
    expires_at: datetime.datetime | None = None


class PlatformCore(RuntimeDispatch, FileRelay, Waiting, InlineRuns):
    """All state of one local platform, guarded by one lock; waiters are woken in their event loop."""

    def __init__(
        self,
        *,
        ingest_key: str,
        max_wait_ms: int,
        max_poll_wait_ms: int,
        runtime_workers: int,
        signing_keys: tuple[SigningKey, ...] = (),
    ) -> None:
        self.lock: threading.RLock = threading.RLock()
        self.signing_keys = signing_keys  # what deliveries to URL runtimes are signed with (an agent's own win)
        self.max_wait_ms = max_wait_ms
        self.max_poll_wait_ms = max_poll_wait_ms
        self.agents: dict[int, Agent] = {}
        self.agent_keys: dict[str, int] = {}
        self.ingest_keys: dict[str, frozenset[int] | None] = {ingest_key: None}
        self.runs: dict[str, RunRecord] = {}
        self.external: dict[tuple[int, str], str] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.credentials: dict[str, Credential] = {}
        self.idempotency: IdempotencyStore = IdempotencyStore()
        self.base_url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self.http: httpx2.Client = httpx2.Client(timeout=httpx2.Timeout(10.0))
        self._runtime_workers = runtime_workers
        self._executor: ThreadPoolExecutor | None = None
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        self._file_slots: dict[str, asyncio.Future[FileStream | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx2.AsyncClient | None = None
        self.leases: Leases = Leases(self.lock, lambda: self.loop, self.fail)

    # -- lifecycle ---------------------------------------------------------------------------

    async def stopping(self) -> None:
        """Cancel every active run's runtime and wake every waiter (the app's shutdown)."""
        self.leases.stop()
        with self.lock:
            for run in self.runs.values():
                run.cancelled.set()
            for run_id in list(self._waiters):
                self._notify(run_id)
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.loop = None

    def close(self) -> None:
        """Close the runtimes' callback connections; a later serve gets a fresh client."""
        self.http.close()
        self.http = httpx2.Client(timeout=httpx2.Timeout(10.0))

    # -- authentication ----------------------------------------------------------------------

    def caller(self, key: str | None, agent_id: int) -> Agent:
        """The agent a caller with ingest key `key` may act on: 401, 404 or 403 otherwise."""
        with self.lock:
            if key is None or key not in self.ingest_keys:
                raise ApiError(401, "unauthorized", "missing or invalid API key")
            agent = self.agents.get(agent_id)
            if agent is None:
                raise ApiError(404, "agent_not_found", f"no agent with id {agent_id}")
            allowed = self.ingest_keys[key]
            if allowed is not None and agent_id not in allowed:
                raise ApiError(403, "forbidden", f"this key may not act on agent {agent_id}")
            return agent

    def runtime(self, key: str | None) -> Agent:
        """The agent whose API key this is: 401 otherwise."""
        with self.lock:
            agent_id = self.agent_keys.get(key or "")
            if agent_id is None:
                raise ApiError(401, "unauthorized", "missing or invalid agent API key")
            return self.agents[agent_id]

    # -- runs --------------------------------------------------------------------------------

    def run_of(self, agent: Agent, run_id: str) -> RunRecord:
        """A run of `agent`: 404 when there is no such run, 403 when it belongs to another agent."""
        run = self.runs.get(run_id)
        if run is None:
            raise ApiError(404, "run_not_found", f"no run with id {run_id}")
        if run.agent_id != agent.id:
            raise ApiError(403, "forbidden", f"run {run_id} belongs to another agent")
        return run

    def _token_for(self, run_id: str) -> str:
        token = "ctok_" + secrets.token_hex(16)
        self.tokens[token] = (run_id, time.time() + TOKEN_TTL_SECONDS)
        return token

    def check_triggerable(self, agent: Agent, *, download: bool = False) -> None:
        """Raise the 409 a trigger of `agent` is answered with: a standalone agent, or a download of a JSON one."""
        if agent.managed_by != "platform":
            raise conflict("agent_not_platform_managed", f"agent {agent.id} is standalone: report its runs with ingest")
        if download and agent.output_kind != "file_download":
            raise conflict("not_a_file_agent", f"agent {agent.id} outputs JSON, not a file: use trigger-and-wait")

    def trigger(
        self,
        agent: Agent,
        input_data: dict[str, Any],
        *,
        download: bool = False,
        trace_context: dict[str, str] | None = None,
    ) -> RunRecord:
        """Create a queued run of a platform-managed agent and hand it to the agent's runtime.

        `trace_context` (the trigger request's `traceparent` and `tracestate`) is kept on the run and
        put in its trigger and resume payloads.
        """
        self.check_triggerable(agent, download=download)
        with self.lock:
            run = RunRecord(new_id("run"), agent.id, input_data, trace_context=dict(trace_context or {}))
            self.runs[run.id] = run
            if agent.inline:  # ends inside the platform: no payload, no credentials token, no thread
                self._start_inline(agent, run)
                return run
            payload = {
                "runId": run.id,
                "agentId": agent.id,
                "input": input_data,
                "agentApiKey": agent.api_key,
                "credentialsToken": self._token_for(run.id),
                **run.trace_context,
            }
            if download:
                self._file_slots[run.id] = self._loop().create_future()
        self._dispatch(agent, run, payload)
        return run

    def register(self, agent: Agent, external_run_id: str) -> tuple[RunRecord, str, bool]:
        """The run registered under `external_run_id` (created when new), a fresh token, and whether it is new."""
        with self.lock:
            existing = self.external.get((agent.id, external_run_id))
            if existing is not None:
                return self.runs[existing], self._token_for(existing), False
            run = RunRecord(new_id("run"), agent.id, {}, external_run_id=external_run_id)
            self.runs[run.id] = run
            self.external[(agent.id, external_run_id)] = run.id
            return run, self._token_for(run.id), True

    def ingest(self, agent: Agent, body: dict[str, Any]) -> RunRecord:
        """Create or update a standalone agent's run by its external id."""
        if agent.managed_by != "standalone":
            raise conflict(
                "agent_not_standalone", f"agent {agent.id} is platform-managed: ingest is for standalone agents"
            )
        with self.lock:
            run_id = self.external.get((agent.id, body["externalRunId"]))
            run = self.runs[run_id] if run_id else None
            check_ingest(run)
            if run is None:
                run = RunRecord(new_id("run"), agent.id, {}, external_run_id=body["externalRunId"])
                self.runs[run.id] = run
                self.external[(agent.id, body["externalRunId"])] = run.id
            if "output" in body:
                run.output_data = body["output"]
                run.record("output", body["output"])
            if "outputs" in body:
                run.outputs = int(body["outputs"])
            if "error" in body:
                run.error = body["error"]
            run.move_to(body["status"])
            self._notify(run.id)
            return run

    def callback(self, agent: Agent, run_id: str, event: dict[str, Any]) -> RunRecord:
        """Apply a runtime's callback event to its run, and to its lease (`_leases`)."""
        with self.lock:
            run = self.run_of(agent, run_id)
            target = check_event(run, event)
            if "output" in event:
                run.output_data = event["output"]
                run.record("output", event["output"])
            if "outputs" in event:
                run.outputs = int(event["outputs"])
            if event.get("failed"):
                run.error = event["error"]
            if event["type"] == "waiting":  # before the move, so that its event carries the token
                run.waiting = {"token_id": event["tokenId"], "description": event["description"]}
                run.tokens.add(event["tokenId"])
                run.resumed.clear()  # a new wait: a Python runtime's wait_for_resume waits for its own resume
                run.resume_values.clear()
            run.move_to(target)
            self.leases.after(run.id, event, run.lease_phase)
            if event["type"] != "heartbeat":  # a heartbeat changes nothing a waiter could see
                self._notify(run.id)
            return run

    def cancel(self, agent: Agent, run_id: str) -> RunRecord:
        """Cancel a run that has not ended; its runtime learns of it.

        A Python runtime sees `RuntimeCall.cancelled` set; a URL runtime is sent the CancelPayload
        (openapi.yaml) as a JSON POST to its URL, in the background (the cancel never waits for it).
        Either way its callbacks are answered `409 run_cancelled` from now on.
        """
        with self.lock:
            run = self.run_of(agent, run_id)
            check_cancel(run)
            run.move_to("cancelled")
            self._notify(run.id)
            if isinstance(agent.runtime, str):
                payload = {"type": "cancelled", "runId": run.id, "agentId": agent.id}
                self._spawn(self._post_cancel(agent, run.id, CancelPayload.from_dict(payload).to_dict()))
            return run

    def status(self, agent: Agent, run_id: str) -> RunRecord:
        """A runtime's read of its run (`get_run_status`): 404 or 403 as for a callback."""
        with self.lock:
            return self.run_of(agent, run_id)

    def fail(self, run_id: str, error: dict[str, Any]) -> None:
        """End a run failed from the platform's side (a runtime crashed, hung or answered an error)."""
        with self.lock:
            run = self.runs[run_id]
            if run.terminal:
                return
            run.error = error
            run.move_to("failed")
            run.cancelled.set()
            self._notify(run_id)

    def resume(self, token_id: str, output: dict[str, Any] | None) -> str:
        """Resume the waiting run paused on `token_id` through `resume_run` (the endpoint's path); its id."""
        with self.lock:
            for run in self.runs.values():
                if run.status == "waiting" and run.waiting and run.waiting["token_id"] == token_id:
                    return self.resume_run(self.agents[run.agent_id], run.id, token_id, output).id
        raise KeyError(f"no waiting run is paused on token {token_id!r}")

    def resume_run(self, agent: Agent, run_id: str, token_id: str, output: dict[str, Any] | None) -> RunRecord:
        """Resume a run waiting on `token_id` (`POST .../resume`); its runtime continues. 404, 403 or 409 otherwise.

        The token is taken (`waiting` becomes null; the status stays `waiting` until the runtime's
        `started`). A Python runtime sees it in `RuntimeCall.wait_for_resume`; a URL runtime is sent
        the ResumePayload (openapi.yaml), with the run's input, as a POST to its URL.
        """
        with self.lock:
            run = self.run_of(agent, run_id)
            check_resume(run, token_id)
            run.waiting = None
            run.resume_values.update(output or {})
            run.resumed.set()
            self._notify(run.id)
            if isinstance(agent.runtime, str):
                payload = {
                    "type": "resumed",
                    "runId": run.id,
                    "agentId": agent.id,
                    "tokenId": token_id,
                    "output": dict(output or {}),
                    "input": run.input_data,
                    "agentApiKey": agent.api_key,
                    "credentialsToken": self._token_for(run.id),
                    **run.trace_context,
                }
                self._spawn(self._post_resume(agent, run.id, ResumePayload.from_dict(payload).to_dict()))
            return run

    def resolve(self, agent: Agent, token: str | None, connection_id: str) -> tuple[str, Credential]:
        """A credential for a runtime holding the agent key and a live credentials token of its agent's run."""
        with self.lock:
            if not token:
                raise ApiError(401, "unauthorized", "the X-Credentials-Token header is required")
            found = self.tokens.get(token)
            if found is None:
                raise ApiError(401, "unauthorized", "unknown credentials token")
            run_id, expires = found
            if time.time() >= expires:
                raise ApiError(401, "token_expired", "the credentials token has expired")
            if self.runs[run_id].agent_id != agent.id:
                raise ApiError(403, "forbidden", "the credentials token belongs to another agent's run")
            credential = self.credentials.get(connection_id)
            if credential is None:
                raise ApiError(404, "connection_not_found", f"no credential connection with id {connection_id}")
            return connection_id, credential
