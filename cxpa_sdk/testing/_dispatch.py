"""How the local platform calls runtimes: Python runtimes on worker threads, URL runtimes over HTTP.

A trigger is dispatched once (`_dispatch`), bounded by the agent's maxRunDurationMs; a URL runtime
is POSTed the trigger payload, and later the resume and cancel notifications, each signed when the
agent or the platform has signing keys (`_delivery`). What a runtime
answers, or fails to, ends its run as the contract says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx2

from .._download._filenames import filename_from_disposition
from .._runtime._signing import SigningKey, signature_header, signed_content
from ._files import FileStream
from ._runs import Agent, RunRecord, error_of, new_id
from ._runtime import RuntimeCall, RuntimeFile

logger = logging.getLogger("cxpa_sdk.testing")
# How long the platform gives a URL runtime to answer the cancel notification, in seconds (its answer
# changes nothing: the run is already cancelled).
CANCEL_NOTICE_TIMEOUT_S = 5.0


class RuntimeDispatch:
    """The part of `PlatformCore` that starts runtimes and notifies URL runtimes (a mixin: it shares the state)."""

    lock: threading.RLock
    loop: asyncio.AbstractEventLoop | None
    base_url: str
    _runtime_workers: int
    _executor: ThreadPoolExecutor | None
    _tasks: set[asyncio.Task[None]]
    _http: httpx2.AsyncClient | None
    signing_keys: tuple[SigningKey, ...]

    if TYPE_CHECKING:

        def fail(self, run_id: str, error: dict[str, Any]) -> None:
            """Fail the run with `error` (the platform's own, in `_core`)."""

        def deliver_file(self, run_id: str, stream: FileStream) -> None:
            """Hand a runtime's file to its download (`_files`)."""

    def _runtime_client(self) -> httpx2.AsyncClient:
        """The client that calls URL runtimes (built on the platform's loop at first use)."""
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=httpx2.Timeout(30.0, read=None))
        return self._http

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

    def _delivery(self, agent: Agent, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a POST to a URL runtime: JSON, its trace context, and signed when keys are set.

        The signature (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`) is
        over these very bytes, with one entry per key of the agent's own, else of the platform's.
        """
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"content-type": "application/json", **trace_headers(payload)}
        keys = agent.signing_keys or self.signing_keys
        if keys:
            delivery_id, timestamp = new_id("msg"), str(int(time.time()))
            headers["webhook-id"] = delivery_id
            headers["webhook-timestamp"] = timestamp
            headers["webhook-signature"] = signature_header(signed_content(delivery_id, timestamp, body), keys)
        return body, headers

    async def _post_payload(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """POST the trigger payload to a URL runtime; an error answer or no answer ends the run failed."""
        url = str(agent.runtime)
        body, headers = self._delivery(agent, payload)
        try:
            client = self._runtime_client()
            request = client.build_request("POST", url, content=body, headers=headers)
            response = await client.send(request, stream=True)
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

    async def _post_resume(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """Tell a URL runtime its run was resumed; an error answer or no answer ends the run failed."""
        url = str(agent.runtime)
        body, headers = self._delivery(agent, payload)
        try:
            response = await self._runtime_client().post(url, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            message = f"the runtime at {url} did not answer the resume notification: {exc}"
            self.fail(run_id, {"name": type(exc).__name__, "message": message})
            return
        if not response.is_success:
            message = f"the runtime at {url} answered {response.status_code} to the resume notification"
            self.fail(run_id, {"name": "RuntimeError", "message": message})

    async def _post_cancel(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """Tell a URL runtime its run was cancelled, within CANCEL_NOTICE_TIMEOUT_S; the answer is only logged."""
        url = str(agent.runtime)
        body, headers = self._delivery(agent, payload)
        try:
            response = await self._runtime_client().post(
                url, content=body, headers=headers, timeout=CANCEL_NOTICE_TIMEOUT_S
            )
        except httpx2.HTTPError as exc:
            logger.info("the runtime at %s did not take the cancel of run %s: %s", url, run_id, type(exc).__name__)
            return
        if not response.is_success:
            logger.info("the runtime at %s answered %d to the cancel of run %s", url, response.status_code, run_id)


def trace_headers(payload: dict[str, Any]) -> dict[str, str]:
    """The W3C trace headers of a POST to a URL runtime: its payload's trace context (for its framework's tracing)."""
    return {key: payload[key] for key in ("traceparent", "tracestate") if key in payload}


def filename_from(disposition: str) -> str | None:
    """The filename of a runtime's Content-Disposition (RFC 6266: `filename*` preferred), if it names one."""
    return filename_from_disposition(disposition) or None
