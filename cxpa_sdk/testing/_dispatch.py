"""How the local platform calls runtimes: Python runtimes on worker threads, URL runtimes over HTTP.

A trigger is dispatched once (`_dispatch`), bounded by the agent's maxRunDurationMs; a URL runtime
is POSTed the trigger payload, and later the resume and cancel notifications, each signed when the
agent or the platform has signing keys (`Delivery`). A trigger or resume answered 429 or 503 is sent
again after its Retry-After (`DeliveryRetry`, the delivery-retry extension). What a runtime
answers, or fails to, ends its run as the contract says.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx2

from .._download._filenames import filename_from_disposition
from .._runtime._agent_base import LEASE_HEADER
from .._runtime._signing import SigningKey, signature_header, signed_content
from ._files import FileStream
from ._leases import Leases
from ._runs import Agent, RunRecord, error_of, new_id
from ._runtime import RuntimeCall, RuntimeFile

logger = logging.getLogger("cxpa_sdk.testing")
# How long the platform gives a URL runtime to answer the cancel notification, in seconds (its answer
# changes nothing: the run is already cancelled).
CANCEL_NOTICE_TIMEOUT_S = 5.0
# The statuses with which a runtime says "not taken now, send it again" (its queue full, or it stopping).
BUSY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class DeliveryRetry:
    """How the platform sends a trigger or resume again to a runtime that answers 429 or 503 (openapi.yaml).

    Attributes:
        attempts: How many times a delivery is sent at most (1: never again, a platform without the
            extension).
        max_wait_s: The longest wait between two attempts, whatever Retry-After asks, in seconds.
        default_wait_s: The wait when Retry-After is absent or unparseable, in seconds (then
            clamped as any other).
    """

    attempts: int = 8
    max_wait_s: float = 60.0
    default_wait_s: float = 1.0

    def __post_init__(self) -> None:
        """Refuse bounds that are no bounds."""
        if self.attempts < 1 or not 0 <= self.max_wait_s < float("inf") or self.default_wait_s < 0:
            raise ValueError("delivery attempts must be >= 1 and the waits finite and >= 0 seconds")

    def wait_s(self, retry_after: list[str]) -> float:
        """The seconds to wait before the next attempt, given the answer's Retry-After values.

        One value (repeats of it count as one) of delay-seconds or an HTTP-date; anything else,
        negative or a fraction included, is the default; the result is clamped to `max_wait_s`.
        """
        values = {value.strip() for value in retry_after}
        wait = _seconds_of(values.pop()) if len(values) == 1 else None
        return min(self.default_wait_s if wait is None else wait, self.max_wait_s)


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
    runs: dict[str, RunRecord]
    leases: Leases
    delivery_retry: DeliveryRetry = DeliveryRetry()  # LocalPlatform(delivery_attempts=, max_retry_after_s=)

    if TYPE_CHECKING:

        def fail(self, run_id: str, error: dict[str, Any]) -> None:
            """Fail the run with `error` (the platform's own, in `_core`)."""

        def deliver_file(self, run_id: str, stream: FileStream) -> None:
            """Hand a runtime's file to its download (`_files`)."""

        async def wait_until_terminal(self, run_id: str, timeout_s: float) -> RunRecord:
            """The run once it has ended, or as it stands after `timeout_s` seconds (`_waiting`)."""

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

    def _delivery(self, agent: Agent, payload: dict[str, Any]) -> Delivery:
        """One POST to a URL runtime: JSON, its trace context, and signed (afresh at each attempt) when keys are set."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return Delivery(body, trace_headers(payload), agent.signing_keys or self.signing_keys)

    async def _deliver(
        self, agent: Agent, run_id: str, payload: dict[str, Any], *, notice: str | None = None, stream: bool = False
    ) -> httpx2.Response | None:
        """POST a trigger (or the `notice` named) to a URL runtime until taken; None when its run has ended.

        A 429 or 503 is sent again, the same delivery freshly signed, after its Retry-After
        (`delivery_retry`); no answer, another error answer, or the last attempt's 429 or 503 ends
        the run failed (here, and then None).
        """
        url, delivery, client = str(agent.runtime), self._delivery(agent, payload), self._runtime_client()
        retry = self.delivery_retry
        for attempt in range(1, retry.attempts + 1):
            try:
                request = client.build_request("POST", url, content=delivery.body, headers=delivery.headers())
                response = await client.send(request, stream=stream)
            except httpx2.HTTPError as exc:
                message = f"the runtime at {url} did not answer{' ' + notice if notice else ''}: {exc}"
                self.fail(run_id, {"name": type(exc).__name__, "message": message})
                return None
            if response.is_success:
                return response
            await response.aclose()
            if response.status_code not in BUSY_STATUSES or retry.attempts == 1:
                message = f"the runtime at {url} answered {response.status_code}{' to ' + notice if notice else ''}"
                self.fail(run_id, {"name": "RuntimeError", "message": message})
                return None
            if attempt < retry.attempts:
                wait = retry.wait_s(response.headers.get_list("retry-after"))
                if (await self.wait_until_terminal(run_id, wait)).terminal:
                    return None
        message = (
            f"the runtime at {url} stayed busy: it answered {response.status_code} to all"
            f" {retry.attempts} attempts at {notice or 'the trigger'}"
        )
        self.fail(run_id, {"name": "RuntimeError", "message": message})
        return None

    async def _post_payload(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """POST the trigger payload to a URL runtime (`_deliver`); a file agent's answer is the run's file.

        An answer with a lease (LEASE_HEADER) gives the run that lease from now on (`_take_lease`).
        """
        response = await self._deliver(agent, run_id, payload, stream=True)
        if response is None:
            return
        self._take_lease(run_id, response)
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
        """Tell a URL runtime its run was resumed (`_deliver`); an answer with a lease gives the run that lease."""
        response = await self._deliver(agent, run_id, payload, notice="the resume notification")
        if response is not None:
            self._take_lease(run_id, response)
            await response.aclose()

    def _take_lease(self, run_id: str, response: httpx2.Response) -> None:
        """The lease (LEASE_HEADER) a runtime's answer to a trigger or resume delivery gives its run, if any.

        Taken while the run awaits its `started` (queued, or resumed), from then on (`Leases.delivered`).
        """
        if lease := response.headers.get_list(LEASE_HEADER):
            with self.lock:
                if (run := self.runs.get(run_id)) is not None:
                    self.leases.delivered(run_id, lease, run.lease_phase)

    async def _post_cancel(self, agent: Agent, run_id: str, payload: dict[str, Any]) -> None:
        """Tell a URL runtime its run was cancelled, once, within CANCEL_NOTICE_TIMEOUT_S; the answer is only logged."""
        url, delivery = str(agent.runtime), self._delivery(agent, payload)
        try:
            response = await self._runtime_client().post(
                url, content=delivery.body, headers=delivery.headers(), timeout=CANCEL_NOTICE_TIMEOUT_S
            )
        except httpx2.HTTPError as exc:
            logger.info("the runtime at %s did not take the cancel of run %s: %s", url, run_id, type(exc).__name__)
            return
        if not response.is_success:
            logger.info("the runtime at %s answered %d to the cancel of run %s", url, response.status_code, run_id)


@dataclass(frozen=True)
class Delivery:
    """One POST to a URL runtime: its body, and its headers, signed afresh at each attempt under one `webhook-id`.

    The signature (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`) is
    over these very bytes, with one entry per key (the agent's own, else the platform's); without
    keys the delivery is not signed.
    """

    body: bytes
    trace: dict[str, str]
    keys: tuple[SigningKey, ...] = field(repr=False)
    delivery_id: str = field(default_factory=lambda: new_id("msg"))

    def headers(self) -> dict[str, str]:
        """The headers of one attempt: the same `webhook-id` every time, the timestamp and signature of now."""
        headers = {"content-type": "application/json", **self.trace}
        if self.keys:
            timestamp = str(int(time.time()))
            headers["webhook-id"] = self.delivery_id
            headers["webhook-timestamp"] = timestamp
            headers["webhook-signature"] = signature_header(
                signed_content(self.delivery_id, timestamp, self.body), self.keys
            )
        return headers


def trace_headers(payload: dict[str, Any]) -> dict[str, str]:
    """The W3C trace headers of a POST to a URL runtime: its payload's trace context (for its framework's tracing)."""
    return {key: payload[key] for key in ("traceparent", "tracestate") if key in payload}


def filename_from(disposition: str) -> str | None:
    """The filename of a runtime's Content-Disposition (RFC 6266: `filename*` preferred), if it names one."""
    return filename_from_disposition(disposition) or None


def _seconds_of(retry_after: str) -> float | None:
    """The seconds a Retry-After value asks for (delay-seconds, or an HTTP-date from now), None if it is neither."""
    if retry_after.isascii() and retry_after.isdigit():
        return float(retry_after)
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; the obsolete forms may come without a zone
        return None
    return max(0.0, when.timestamp() - time.time())
