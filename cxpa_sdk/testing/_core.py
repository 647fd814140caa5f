"""The local platform's state and operations: agents, runs, keys, tokens, credentials, waiting."""

from __future__ import annotations

import asyncio
import datetime
import logging
import secrets
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.concurrency import iterate_in_threadpool

from cxpa_api.models import CancelPayload, ResumePayload

from ._errors import ApiError, conflict
from ._idempotency import IdempotencyStore
from ._runs import Agent, RunRecord, check_cancel, check_event, check_ingest, new_id
from ._runtime import RuntimeCall, RuntimeFile

logger = logging.getLogger("cxpa_sdk.testing")
TOKEN_TTL_SECONDS = 3600
# How long the platform gives a URL runtime to answer the cancel notification, in seconds (its answer
# changes nothing: the run is already cancelled).
CANCEL_NOTICE_TIMEOUT_S = 5.0


@dataclass
class FileStream:
    """A file on its way from a runtime to the caller of trigger-and-download."""

    chunks: AsyncIterator[bytes]
    filename: str
    content_type: str
    content_length: int | None
    close: Callable[[], Awaitable[None]] | None = None

    @classmethod
    def of(cls, file: RuntimeFile) -> FileStream:
        """Stream a Python runtime's file, pulling each chunk on a worker thread."""
        return cls(iterate_in_threadpool(iter(file.chunks)), file.filename, file.content_type, file.content_length)


@dataclass(frozen=True)
class Credential:
    """A credential connection's values (secret; never shown in repr)."""

    type: str
    values: dict[str, str] = field(repr=False)
    expires_at: datetime.datetime | None = None


def error_of(exc: BaseException) -> dict[str, Any]:
    """A run error from an exception: its type name, message and traceback."""
    stack = "".join(traceback.format_exception(exc))
    return {"name": type(exc).__name__, "message": str(exc) or type(exc).__name__, "stack": stack}


class PlatformCore:
    """All state of one local platform, guarded by one lock; waiters are woken in their event loop."""

    def __init__(self, *, ingest_key: str, max_wait_ms: int, max_poll_wait_ms: int, runtime_workers: int) -> None:
        self.lock: threading.RLock = threading.RLock()
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

    # -- lifecycle ---------------------------------------------------------------------------

    async def stopping(self) -> None:
        """Cancel every active run's runtime and wake every waiter (the app's shutdown)."""
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
        if agent.managed_by != "platform":
            raise conflict("agent_not_platform_managed", f"agent {agent.id} is standalone: report its runs with ingest")
        if download and agent.output_kind != "file_download":
            raise conflict("not_a_file_agent", f"agent {agent.id} outputs JSON, not a file: use trigger-and-wait")
        with self.lock:
            run = RunRecord(new_id("run"), agent.id, input_data, trace_context=dict(trace_context or {}))
            self.runs[run.id] = run
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
        """Apply a runtime's callback event to its run."""
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
            run.move_to(target)
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

    async def _post_cancel(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """Tell a URL runtime its run was cancelled, within CANCEL_NOTICE_TIMEOUT_S; the answer is only logged."""
        url = str(agent.runtime)
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=None))
        try:
            response = await self._http.post(url, json=payload, timeout=CANCEL_NOTICE_TIMEOUT_S)
        except httpx2.HTTPError as exc:
            logger.info("the runtime at %s did not take the cancel of run %s: %s", url, run_id, type(exc).__name__)
            return
        if not response.is_success:
            logger.info("the runtime at %s answered %d to the cancel of run %s", url, response.status_code, run_id)

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

    def complete_file(self, run_id: str, stream: FileStream, size: int) -> None:
        """End a file run completed once its whole file was streamed; the platform keeps metadata only."""
        with self.lock:
            run = self.runs[run_id]
            if run.terminal:
                return
            run.output_data = {"filename": stream.filename, "contentType": stream.content_type, "sizeBytes": size}
            run.move_to("completed")
            self._notify(run_id)

    def resume(self, token_id: str, output: dict[str, Any] | None) -> str:
        """Resume the waiting run paused on `token_id`; its runtime continues. Returns the run id.

        A Python runtime sees it in `RuntimeCall.wait_for_resume`; a URL runtime is sent the
        ResumePayload (openapi.yaml) as a JSON POST to its URL.
        """
        with self.lock:
            for run in self.runs.values():
                if run.status == "waiting" and run.waiting and run.waiting["token_id"] == token_id:
                    run.resume_values.update(output or {})
                    run.resumed.set()
                    agent = self.agents[run.agent_id]
                    if isinstance(agent.runtime, str):
                        payload = {
                            "type": "resumed",
                            "runId": run.id,
                            "agentId": agent.id,
                            "tokenId": token_id,
                            "output": dict(output or {}),
                            "agentApiKey": agent.api_key,
                            "credentialsToken": self._token_for(run.id),
                            **run.trace_context,
                        }
                        self._spawn(self._post_resume(agent, run.id, ResumePayload.from_dict(payload).to_dict()))
                    return run.id
        raise KeyError(f"no waiting run is paused on token {token_id!r}")

    async def _post_resume(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """Tell a URL runtime its run was resumed; an error answer or no answer ends the run failed."""
        url = str(agent.runtime)
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=None))
        try:
            response = await self._http.post(url, json=payload, headers=trace_headers(payload))
        except httpx2.HTTPError as exc:
            message = f"the runtime at {url} did not answer the resume notification: {exc}"
            self.fail(run_id, {"name": type(exc).__name__, "message": message})
            return
        if not response.is_success:
            message = f"the runtime at {url} answered {response.status_code} to the resume notification"
            self.fail(run_id, {"name": "RuntimeError", "message": message})

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

    # -- runtimes ----------------------------------------------------------------------------

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            raise RuntimeError("the platform is not serving: use LocalPlatform.serve()")
        return self.loop

    def _dispatch(self, agent: Agent, run: RunRecord, payload: dict[str, Any]) -> None:
        loop = self._loop()
        loop.call_soon_threadsafe(loop.call_later, agent.max_run_duration_ms / 1000, self._expire, agent, run.id)
        if callable(agent.runtime):
            with self.lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self._runtime_workers, thread_name_prefix="cxpa-runtime")
                self._executor.submit(self._execute, agent, run, payload)
        elif isinstance(agent.runtime, str):
            self._spawn(self._post_payload(agent, run.id, payload))

    def _spawn(self, coro: Any) -> None:
        def start() -> None:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._loop().call_soon_threadsafe(start)

    def _expire(self, agent: Agent, run_id: str) -> None:
        self.fail(
            run_id,
            {"name": "TimeoutError", "message": f"the run exceeded maxRunDurationMs ({agent.max_run_duration_ms} ms)"},
        )

    def _execute(self, agent: Agent, run: RunRecord, payload: dict[str, Any]) -> None:
        """Run a Python runtime on a worker thread; a crash or an unfinished run ends it failed."""
        call = RuntimeCall(payload, self.base_url, run.cancelled, run.resumed, run.resume_values)
        try:
            assert callable(agent.runtime)  # noqa: S101 - _dispatch chose this path for callables only
            result = agent.runtime(call)
            if agent.output_kind == "file_download" and result is not None:
                file = result if isinstance(result, RuntimeFile) else RuntimeFile(result)
                self._loop().call_soon_threadsafe(self.deliver_file, run.id, FileStream.of(file))
                return
        except Exception as exc:
            self.fail(run.id, error_of(exc))
            return
        with self.lock:
            status = run.status
        if status not in ("completed", "failed", "cancelled"):
            self.fail(run.id, {"name": "RuntimeError", "message": f"the runtime returned with the run still {status}"})

    async def _post_payload(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """POST the trigger payload to a URL runtime; an error answer or no answer ends the run failed."""
        url = str(agent.runtime)
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=None))
        try:
            request = self._http.build_request("POST", url, json=payload, headers=trace_headers(payload))
            response = await self._http.send(request, stream=True)
        except httpx2.HTTPError as exc:
            self.fail(run_id, {"name": type(exc).__name__, "message": f"the runtime at {url} did not answer: {exc}"})
            return
        if not response.is_success:
            await response.aclose()
            self.fail(
                run_id, {"name": "RuntimeError", "message": f"the runtime at {url} answered {response.status_code}"}
            )
            return
        if agent.output_kind != "file_download":
            await response.aclose()
            return
        length = response.headers.get("content-length")
        self.deliver_file(
            run_id,
            FileStream(
                response.aiter_raw(),
                filename_from(response.headers.get("content-disposition", "")) or "output.bin",
                response.headers.get("content-type", "application/octet-stream"),
                int(length) if length and length.isdigit() else None,
                response.aclose,
            ),
        )

    # -- files -------------------------------------------------------------------------------

    def deliver_file(self, run_id: str, stream: FileStream) -> None:
        """Hand a runtime's file to the waiting download, or drain it when nobody is downloading (loop thread)."""
        with self.lock:
            slot = self._file_slots.pop(run_id, None)
        if slot is not None and not slot.done():
            slot.set_result(stream)
        else:
            self._spawn(self.drain(run_id, stream))

    async def drain(self, run_id: str, stream: FileStream) -> None:
        """Read a file nobody downloads to its end, and record its metadata."""
        size = 0
        try:
            async for chunk in stream.chunks:
                size += len(chunk)
        except Exception as exc:
            self.fail(run_id, error_of(exc))
            return
        finally:
            if stream.close is not None:
                await stream.close()
        self.complete_file(run_id, stream, size)

    async def wait_for_file(self, run_id: str, timeout_s: float) -> FileStream | None:
        """The run's file once its runtime produces it; None when the run ends without one.

        Raises:
            TimeoutError: `timeout_s` seconds passed first (a file arriving later is drained).
        """
        with self.lock:
            slot = self._file_slots.get(run_id)
        if slot is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(slot), timeout_s)
        finally:
            with self.lock:
                self._file_slots.pop(run_id, None)

    # -- waiting -----------------------------------------------------------------------------

    def _notify(self, run_id: str) -> None:
        """Wake everything waiting on a run (call with the lock held)."""
        for loop, future in self._waiters.pop(run_id, []):
            loop.call_soon_threadsafe(_wake, future)
        run = self.runs.get(run_id)
        slot = self._file_slots.get(run_id)
        if slot is not None and run is not None and run.terminal and self.loop is not None:
            self.loop.call_soon_threadsafe(_settle, slot)

    async def wait_until_terminal(self, run_id: str, timeout_s: float) -> RunRecord:
        """The run once it has ended, or as it stands after `timeout_s` seconds: no polling, no thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                run = self.runs[run_id]
                left = deadline - loop.time()
                if run.terminal or left <= 0:
                    return run
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                with self.lock:
                    waiting = self._waiters.get(run_id, [])
                    if (loop, future) in waiting:
                        waiting.remove((loop, future))

    async def wait_until_any_terminal(self, run_ids: Collection[str], timeout_s: float) -> None:
        """Return once any of the runs has ended, or after `timeout_s` seconds: one future for them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                left = deadline - loop.time()
                if left <= 0 or any(self.runs[run_id].terminal for run_id in run_ids):
                    return
                future: asyncio.Future[None] = loop.create_future()
                for run_id in run_ids:
                    self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                pass
            finally:
                with self.lock:
                    for run_id in run_ids:
                        waiting = self._waiters.get(run_id)
                        if waiting and (loop, future) in waiting:
                            waiting.remove((loop, future))

    async def wait_for_events(self, run_id: str, after: int, timeout_s: float) -> None:
        """Return once the run has more than `after` events, or after `timeout_s` seconds: no polling, no thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            with self.lock:
                left = deadline - loop.time()
                if len(self.runs[run_id].events) > after or left <= 0:
                    return
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.setdefault(run_id, []).append((loop, future))
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                pass
            finally:  # also when the caller went away (the task cancelled)
                with self.lock:
                    waiting = self._waiters.get(run_id, [])
                    if (loop, future) in waiting:
                        waiting.remove((loop, future))


def trace_headers(payload: dict[str, Any]) -> dict[str, str]:
    """The W3C trace headers of a POST to a URL runtime: its payload's trace context (for its framework's tracing)."""
    return {key: payload[key] for key in ("traceparent", "tracestate") if key in payload}


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _settle(slot: asyncio.Future[FileStream | None]) -> None:
    if not slot.done():
        slot.set_result(None)


def filename_from(disposition: str) -> str | None:
    """The filename of a runtime's Content-Disposition (`filename*` preferred), if it names one."""
    from email.message import Message  # noqa: PLC0415 - only URL file runtimes need it

    message = Message()
    message["content-disposition"] = disposition
    name = message.get_filename()
    return name if isinstance(name, str) and name else None
