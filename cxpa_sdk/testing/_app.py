"""The local platform's HTTP face: a Starlette app implementing every operation of openapi.yaml."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cxpa_api.models import (
    CallbackAccepted,
    Credential,
    IngestedRun,
    RegisteredRun,
    RunEvents,
    TriggerBatchAnswer,
    TriggeredRun,
    WaitTimedOut,
)

from .._schema import SchemaError, validate
from ._batch import MAX_BATCH_BODY_BYTES, trigger_batch, unique_keys
from ._core import PlatformCore
from ._errors import MAX_BODY_BYTES, ApiError, payload_too_large
from ._faults import Faults
from ._files import FileStream
from ._idempotency import StoredAnswer, final, fingerprint, principal_of
from ._runs import Agent, RunRecord, error_of, new_id, trace_context_of

logger = logging.getLogger("cxpa_sdk.testing")
DEFAULT_WAIT_MS = 30_000
_AGENT_ID = re.compile(r"^[1-9][0-9]*$")
_FAULT_CODES = {
    408: "request_timeout",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def error_response(error: ApiError) -> JSONResponse:
    """The contract's Error envelope for an ApiError."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def bearer(request: Request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def agent_id_of(request: Request) -> int:
    """The `agentId` path parameter, an integer >= 1 (400 otherwise)."""
    raw = request.path_params["agentId"]
    if not _AGENT_ID.fullmatch(raw):
        raise ApiError(400, "invalid_parameter", f"agentId: must be an integer >= 1, got {raw[:40]!r}")
    if len(raw) > 30:  # a valid integer, but larger than any agent id: no such agent
        raise ApiError(404, "agent_not_found", f"no agent with id {raw[:40]}")
    return int(raw)


async def read_json(request: Request, schema: str, *, limit: int = MAX_BODY_BYTES) -> tuple[bytes, dict[str, Any]]:
    """The raw body and its JSON, validated by a component schema: 413 over `limit` bytes, 400 when invalid."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise payload_too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise payload_too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    try:
        validate(data, schema)
    except SchemaError as exc:
        raise ApiError(400, "invalid_body", str(exc)) from None
    return raw, data


def stored(response: Response) -> StoredAnswer:
    """A JSON answer as kept for replays."""
    return StoredAnswer(response.status_code, bytes(response.body), {"content-type": "application/json"})


async def idempotent(request: Request, raw: bytes, act: Callable[[], Awaitable[Response]]) -> Response:
    """Run `act` once per Idempotency-Key and body; replay its answer for the same key and body."""
    core: PlatformCore = request.app.state.core
    key = request.headers.get("idempotency-key")
    if key is None:
        return await act()
    if not key or len(key) > 255 or not key.isascii() or not key.isprintable() or " " in key:
        raise ApiError(400, "invalid_parameter", "Idempotency-Key: must be 1 to 255 printable ASCII characters")
    principal = principal_of(request.headers.get("authorization", ""))
    replay = core.idempotency.begin(principal, key, fingerprint(request.method, request.url.path, raw))
    if replay is not None:
        return Response(replay.body, replay.status, {**replay.headers, "Idempotent-Replayed": "true"})
    try:
        response = await act()
    except ApiError as exc:
        core.idempotency.finish(principal, key, stored(error_response(exc)) if final(exc) else None)
        raise
    except BaseException:
        core.idempotency.finish(principal, key, None)
        raise
    if isinstance(response, StreamingResponse):
        run_id = response.headers["x-run-id"]
        gone = ApiError(
            409, "download_not_replayable", "this download's file was streamed once and is not stored", run_id=run_id
        )
        core.idempotency.finish(principal, key, stored(error_response(gone)))
    else:
        core.idempotency.finish(principal, key, stored(response))
    return response


def window_ms(core: PlatformCore, agent: Agent, requested: float | None) -> int:
    """A wait window: the requested one capped at the agent's maxRunDurationMs and the platform's cap."""
    return int(min(requested or DEFAULT_WAIT_MS, agent.max_run_duration_ms, core.max_wait_ms))


# -- operations -------------------------------------------------------------------------------


AgentAct = Callable[[Request, PlatformCore, Agent, dict[str, Any]], Awaitable[Response]]
"""What an agent's own operation does, once its caller and body were checked: request, core, agent, body."""


def agent_operation(schema: str) -> Callable[[AgentAct], Callable[[Request], Awaitable[Response]]]:
    """An endpoint of `POST /api/agents/{agentId}/runs/...` made of its act.

    The endpoint checks the caller's key against the agent, reads the body as `schema`, then runs the
    act once per Idempotency-Key and body (`idempotent`).
    """

    def endpoint(act: AgentAct) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            core: PlatformCore = request.app.state.core
            agent = core.caller(bearer(request), agent_id_of(request))
            raw, body = await read_json(request, schema)
            return await idempotent(request, raw, lambda: act(request, core, agent, body))

        handle.__doc__ = act.__doc__
        return handle

    return endpoint


@agent_operation("TriggerRunRequest")
async def trigger_run(request: Request, core: PlatformCore, agent: Agent, body: dict[str, Any]) -> Response:
    """POST /api/agents/{agentId}/runs/trigger."""
    run = core.trigger(agent, body["input"], trace_context=trace_context_of(request.headers))
    return JSONResponse(TriggeredRun.from_dict({"runId": run.id, "status": run.status}).to_dict(), 202)


async def trigger_runs_batch(request: Request) -> Response:
    """POST /api/agents/{agentId}/runs/trigger-batch: each item a trigger_run, sharing its idempotency record."""
    core: PlatformCore = request.app.state.core
    agent = core.caller(bearer(request), agent_id_of(request))
    raw, body = await read_json(request, "TriggerBatchRequest", limit=MAX_BATCH_BODY_BYTES)
    unique_keys(body["items"])
    principal = principal_of(request.headers.get("authorization", ""))
    trace_context = trace_context_of(request.headers)

    async def act() -> Response:
        core.check_triggerable(agent)
        items = trigger_batch(core, agent, principal, body["items"], trace_context=trace_context)
        return JSONResponse(TriggerBatchAnswer.from_dict({"items": items}).to_dict(), 200)

    return await idempotent(request, raw, act)


async def no_such_path(request: Request) -> Response:
    """What a platform without an extension answers on its path: 404 `not_found`, as for any unknown path."""
    raise HTTPException(404)


@agent_operation("BlockingTriggerRequest")
async def trigger_run_and_wait(request: Request, core: PlatformCore, agent: Agent, body: dict[str, Any]) -> Response:
    """POST /api/agents/{agentId}/runs/trigger-and-wait."""
    run = core.trigger(agent, body["input"], trace_context=trace_context_of(request.headers))
    run = await core.wait_until_terminal(run.id, window_ms(core, agent, body.get("timeoutMs")) / 1000)
    with core.lock:
        if run.terminal:
            return JSONResponse(run.row(), 200)
        answer = {"timedOut": True, "runId": run.id, "status": run.status}
    return JSONResponse(WaitTimedOut.from_dict(answer).to_dict(), 202)


@agent_operation("BlockingTriggerRequest")
async def trigger_run_and_download(
    request: Request, core: PlatformCore, agent: Agent, body: dict[str, Any]
) -> Response:
    """POST /api/agents/{agentId}/runs/trigger-and-download: the runtime's file, streamed through."""
    faults: Faults = request.app.state.faults
    run = core.trigger(agent, body["input"], download=True, trace_context=trace_context_of(request.headers))
    timeout = window_ms(core, agent, body.get("timeoutMs")) / 1000
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        stream = await core.wait_for_file(run.id, timeout)
    except TimeoutError:
        raise ApiError(
            504, "wait_timeout", f"the run produced no file within {int(timeout * 1000)} ms", run_id=run.id
        ) from None
    if stream is None:
        with core.lock:
            why = (run.error or {}).get("message", run.status)
        raise ApiError(502, "run_failed", f"the run ended before its file: {why}", run_id=run.id)
    try:
        first = await asyncio.wait_for(anext(stream.chunks, b""), max(0.0, deadline - loop.time()))
    except TimeoutError:
        core.fail(run.id, {"name": "TimeoutError", "message": "the runtime sent no byte within the window"})
        raise ApiError(504, "wait_timeout", "the runtime sent no byte within the window", run_id=run.id) from None
    except Exception as exc:
        core.fail(run.id, error_of(exc))
        raise ApiError(502, "run_failed", f"the runtime failed: {exc}", run_id=run.id) from None
    cut = faults.take("cut", request.url.path)
    headers = {"X-Run-Id": run.id, "Content-Disposition": content_disposition(stream.filename)}
    if stream.content_length is not None:
        headers["Content-Length"] = str(stream.content_length)
    abort: Callable[[], None] = request.scope.get("cxpa.abort", _no_abort)
    body_iter = relay(
        core, run.id, stream, first=first, cut_after=None if cut is None else cut.after_bytes, abort=abort
    )
    return StreamingResponse(body_iter, 200, headers, media_type=stream.content_type)


async def relay(
    core: PlatformCore,
    run_id: str,
    stream: FileStream,
    *,
    first: bytes,
    cut_after: int | None,
    abort: Callable[[], None],
) -> AsyncIterator[bytes]:
    """The file's bytes to the caller, one chunk at a time; the run completes when all arrived."""
    sent = 0
    ok = False
    try:
        chunk: bytes | None = first
        while chunk is not None:
            if cut_after is not None and sent + len(chunk) >= cut_after:
                yield chunk[: cut_after - sent]
                abort()
                core.fail(
                    run_id, {"name": "ConnectionError", "message": f"the download was cut after {cut_after} bytes"}
                )
                return
            if chunk:
                sent += len(chunk)
                yield chunk
            chunk = await anext(stream.chunks, None)
        if stream.content_length is not None and sent != stream.content_length:
            abort()
            core.fail(
                run_id,
                {
                    "name": "RuntimeError",
                    "message": f"the runtime sent {sent} bytes of the {stream.content_length} it declared",
                },
            )
            return
        ok = True
    except Exception as exc:
        abort()
        core.fail(run_id, error_of(exc))
    finally:
        if stream.close is not None:
            with contextlib.suppress(Exception):
                await stream.close()
        if ok:
            core.complete_file(run_id, stream, sent)
        else:
            core.fail(
                run_id, {"name": "ConnectionError", "message": "the caller went away before the file was complete"}
            )


def content_disposition(filename: str) -> str:
    """`attachment; filename="..."`, plus `filename*=UTF-8''...` when the name is not plain ASCII (RFC 6266)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename) or "download"
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"
    return header


@agent_operation("RegisterRunRequest")
async def register_run(request: Request, core: PlatformCore, agent: Agent, body: dict[str, Any]) -> Response:
    """POST /api/agents/{agentId}/runs/register."""
    run, token, created = core.register(agent, body["externalRunId"])
    answer = {"runId": run.id, "credentialsToken": token, "expiresInSeconds": 3600}
    return JSONResponse(RegisteredRun.from_dict(answer).to_dict(), 201 if created else 200)


@agent_operation("IngestRunRequest")
async def ingest_run(request: Request, core: PlatformCore, agent: Agent, body: dict[str, Any]) -> Response:
    """POST /api/agents/{agentId}/runs/ingest."""
    run = core.ingest(agent, body)
    return JSONResponse(IngestedRun.from_dict({"runId": run.id, "status": run.status}).to_dict(), 200)


async def post_callback(request: Request) -> Response:
    """POST /api/runs/{runId}/callback."""
    core: PlatformCore = request.app.state.core
    agent = core.runtime(bearer(request))
    run_id = request.path_params["runId"]
    raw, body = await read_json(request, "CallbackEvent")
    if not request.app.state.leases:
        refuse_leases(body)

    async def act() -> Response:
        run = core.callback(agent, run_id, body)
        return JSONResponse(CallbackAccepted.from_dict({"runId": run.id, "status": run.status}).to_dict(), 200)

    return await idempotent(request, raw, act)


def refuse_leases(event: dict[str, Any]) -> None:
    """Refuse the lease extension as a platform without it does (`LocalPlatform(leases=False)`): 400, as its spec says.

    Its StartedEvent has no `leaseSeconds` and its CallbackEvent no `heartbeat`: the schema's answer.
    """
    if event["type"] == "heartbeat":
        raise ApiError(400, "invalid_body", "type: must be one of started, output, waiting")
    if "leaseSeconds" in event:
        raise ApiError(400, "invalid_body", "leaseSeconds: is not a known field")


async def get_run_status(request: Request) -> Response:
    """GET /api/runs/{runId}/status: a runtime's cheap read of its run's status (agent key)."""
    core: PlatformCore = request.app.state.core
    agent = core.runtime(bearer(request))
    run = core.status(agent, request.path_params["runId"])
    with core.lock:
        answer = {"runId": run.id, "status": run.status}
    return JSONResponse(CallbackAccepted.from_dict(answer).to_dict(), 200)


async def resolve_credential(request: Request) -> Response:
    """GET /api/credentials/{connectionId}/resolve."""
    core: PlatformCore = request.app.state.core
    agent = core.runtime(bearer(request))
    connection_id, credential = core.resolve(
        agent, request.headers.get("x-credentials-token"), request.path_params["connectionId"]
    )
    answer = {
        "connectionId": connection_id,
        "type": credential.type,
        "values": dict(credential.values),
        "expiresAt": credential.expires_at.isoformat() if credential.expires_at else None,
    }
    return JSONResponse(Credential.from_dict(answer).to_dict(), 200)


def polled_run(request: Request) -> tuple[PlatformCore, RunRecord, float]:
    """What a long poll on one run holds on: the run (the caller checked against its agent) and the hold.

    The hold, in seconds: `?waitMs=` (0 to 60000, else 400), capped by the platform and the agent.
    """
    core: PlatformCore = request.app.state.core
    agent = core.caller(bearer(request), agent_id_of(request))
    raw_wait = request.query_params.get("waitMs", "0")
    if not raw_wait.isdigit() or int(raw_wait) > 60_000:
        raise ApiError(400, "invalid_parameter", f"waitMs: must be an integer from 0 to 60000, got {raw_wait[:40]!r}")
    with core.lock:
        run = core.run_of(agent, request.path_params["runId"])
    return core, run, min(int(raw_wait), core.max_poll_wait_ms, agent.max_run_duration_ms) / 1000


async def get_run(request: Request) -> Response:
    """GET /api/agents/{agentId}/runs/{runId}?waitMs=: a long poll while the run is not terminal."""
    core, run, wait_s = polled_run(request)
    run = await core.wait_until_terminal(run.id, wait_s)
    with core.lock:
        return JSONResponse(run.row(), 200)


async def wait_for_runs(request: Request) -> Response:
    """POST /api/runs/wait: hold until any listed run has ended; those that ended, and those not readable."""
    core: PlatformCore = request.app.state.core
    key = bearer(request)
    raw, body = await read_json(request, "WaitForRunsRequest")
    return await idempotent(request, raw, lambda: _wait_for_runs(core, key, body))


async def _wait_for_runs(core: PlatformCore, key: str | None, body: dict[str, Any]) -> Response:
    watched: dict[str, tuple[int, str]] = {}
    missing: list[dict[str, Any]] = []
    for ref in body["runs"]:
        agent_id, run_id = ref["agentId"], ref["runId"]
        try:
            agent = core.caller(key, agent_id)  # a bad key is a 401 for the whole request
            with core.lock:
                watched[core.run_of(agent, run_id).id] = (agent_id, run_id)
        except ApiError as exc:
            if exc.status == 401:
                raise
            missing.append({"agentId": agent_id, "runId": run_id, "code": exc.code, "message": exc.message})
    wait_ms = min(body.get("waitMs", 0), core.max_poll_wait_ms)
    if watched and not missing:
        await core.wait_until_any_terminal(list(watched), wait_ms / 1000)
    with core.lock:
        ended = [core.runs[run_id].row() for run_id in watched if core.runs[run_id].terminal]
    return JSONResponse({"ended": ended, "missing": missing}, 200)


async def get_run_events(request: Request) -> Response:
    """GET /api/agents/{agentId}/runs/{runId}/events?after=&waitMs=: held while no event follows `after`."""
    core, run, wait_s = polled_run(request)
    with core.lock:
        start = run.events_after(request.query_params.get("after"))
    await core.wait_for_events(run.id, start, wait_s)
    with core.lock:
        page = run.events_page(start)
    return JSONResponse(RunEvents.from_dict(page).to_dict(), 200)


async def cancel_run(request: Request) -> Response:
    """POST /api/agents/{agentId}/runs/{runId}/cancel."""
    core: PlatformCore = request.app.state.core
    agent = core.caller(bearer(request), agent_id_of(request))
    run_id = request.path_params["runId"]
    raw = await request.body()

    async def act() -> Response:
        run = core.cancel(agent, run_id)
        with core.lock:
            return JSONResponse(run.row(), 200)

    return await idempotent(request, raw, act)


async def resume_run(request: Request) -> Response:
    """POST /api/agents/{agentId}/runs/{runId}/resume: the run waiting on the token goes on (an extension)."""
    core: PlatformCore = request.app.state.core
    agent = core.caller(bearer(request), agent_id_of(request))
    run_id = request.path_params["runId"]
    raw, body = await read_json(request, "ResumeRunRequest")

    async def act() -> Response:
        run = core.resume_run(agent, run_id, body["tokenId"], body.get("output"))
        with core.lock:
            return JSONResponse(run.row(), 200)

    return await idempotent(request, raw, act)


# -- the app ----------------------------------------------------------------------------------

ROUTES = [
    Route("/api/agents/{agentId}/runs/trigger", trigger_run, methods=["POST"]),
    Route("/api/agents/{agentId}/runs/trigger-and-wait", trigger_run_and_wait, methods=["POST"]),
    Route("/api/agents/{agentId}/runs/trigger-and-download", trigger_run_and_download, methods=["POST"]),
    Route("/api/agents/{agentId}/runs/register", register_run, methods=["POST"]),
    Route("/api/agents/{agentId}/runs/ingest", ingest_run, methods=["POST"]),
    Route("/api/runs/{runId}/callback", post_callback, methods=["POST"]),
    Route("/api/runs/{runId}/status", get_run_status, methods=["GET"]),
    Route("/api/credentials/{connectionId}/resolve", resolve_credential, methods=["GET"]),
    Route("/api/agents/{agentId}/runs/{runId}", get_run, methods=["GET"]),
    Route("/api/agents/{agentId}/runs/{runId}/cancel", cancel_run, methods=["POST"]),
    Route("/api/agents/{agentId}/runs/{runId}/resume", resume_run, methods=["POST"]),
]
# An extension of the seed's contract; `LocalPlatform(events=False)` serves without it, as an older
# platform: the path is then unknown (404 `not_found`, as any unknown path).
EVENTS_ROUTE = Route("/api/agents/{agentId}/runs/{runId}/events", get_run_events, methods=["GET"])
# Likewise `LocalPlatform(batch_waits=False)` serves without `wait_for_runs`, as an older platform.
WAIT_FOR_RUNS_ROUTE = Route("/api/runs/wait", wait_for_runs, methods=["POST"])
# And `LocalPlatform(batch_triggers=False)` without `trigger_runs_batch`. Its path has a route either
# way: without one, a POST there would match get_run's path (`{runId}` = "trigger-batch") and answer
# 405; an older platform answers 404 `not_found`, as for any unknown path, and so does this.
TRIGGER_BATCH_PATH = "/api/agents/{agentId}/runs/trigger-batch"
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        error = ApiError(405, "method_not_allowed", f"{request.method} is not allowed here", headers={"Allow": allow})
    else:
        error = ApiError(exc.status_code, "not_found", f"no such path: {request.url.path}")
    return error_response(error)


async def _crash(request: Request, exc: Exception) -> Response:
    return error_response(ApiError(500, "internal_error", "the local platform failed to handle the request"))


def _no_abort() -> None:
    """Used when the server gives no way to drop a connection (the caller's body then just ends)."""


def _bearer_of(scope: Scope) -> str | None:
    """The key of the request's `Authorization: Bearer <key>` header, read from the ASGI scope."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            return key.strip() or None if scheme.lower() == "bearer" else None
    return None


class Edge:
    """The outermost ASGI layer: X-Request-Id on every answer, the injected faults, and callers that go away."""

    def __init__(self, app: Starlette, faults: Faults, core: PlatformCore | None = None) -> None:
        self.app = app
        self.faults = faults
        self.core = core

    def _is_runtime(self, key: str | None) -> bool:
        """Whether a request was sent with an agent API key (a runtime's callback or credential resolve)."""
        if key is None or self.core is None:
            return False
        with self.core.lock:
            return key in self.core.agent_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection event."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_id("req")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        scope["cxpa.abort"] = lambda: abort_connection(send)
        try:
            await self._handle(scope, receive, send, send_with_id)
        except ClientDisconnect:
            # A caller that gives up (its timeout during a latency fault, a cancelled task) is normal
            # traffic for a platform, not a crash: one INFO line, no traceback.
            logger.info("the caller went away before %s %s was answered", scope.get("method"), scope["path"])

    async def _handle(self, scope: Scope, receive: Receive, send: Send, send_with_id: Send) -> None:
        """Apply the faults that match this request, then hand it to the app."""
        path = scope["path"]
        key = _bearer_of(scope)
        runtime = self._is_runtime(key)
        if (rule := self.faults.take("latency", path, runtime=runtime, key=key)) is not None:
            await asyncio.sleep(rule.seconds)
        if (wait := self.faults.rate_limited(path, runtime=runtime, key=key)) is not None:
            error = ApiError(429, "rate_limited", "too many requests", headers={"Retry-After": str(wait)})
            await error_response(error)(scope, receive, send_with_id)
            return
        if (rule := self.faults.take("fail", path, runtime=runtime, key=key)) is not None:
            headers = {} if rule.retry_after is None else {"Retry-After": str(rule.retry_after)}
            code = _FAULT_CODES.get(rule.status, "injected_fault")
            error = ApiError(rule.status, code, f"injected fault: {rule.status}", headers=headers)
            await error_response(error)(scope, receive, send_with_id)
            return
        if self.faults.take("drop", path, runtime=runtime, key=key) is not None:

            async def swallow(message: Message) -> None:
                del message

            await self.app(scope, receive, swallow)
            abort_connection(send)
            return
        await self.app(scope, receive, send_with_id)


def abort_connection(send: Send) -> None:
    """Drop the connection under uvicorn's `send` without an answer (a reset, as a dying proxy would)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs the platform served by LocalPlatform.serve() (uvicorn)")
    transport.abort()
    cycle.disconnected = True  # type: ignore[union-attr]


def build_app(
    core: PlatformCore,
    faults: Faults,
    *,
    events: bool = True,
    batch_waits: bool = True,
    batch_triggers: bool = True,
    leases: bool = True,
) -> Edge:
    """The platform's ASGI app; without the events endpoint, `wait_for_runs`, `trigger_runs_batch` or leases when False.

    Each False serves the platform as an older one, without that extension of the seed's contract.
    """
    # Before get_run's route, whose path also matches: another method there is 405 with `Allow: POST`.
    # Without the extension, every method is the unknown path's 404.
    batch_route = (
        Route(TRIGGER_BATCH_PATH, trigger_runs_batch, methods=["POST"])
        if batch_triggers
        else Route(TRIGGER_BATCH_PATH, no_such_path, methods=ANY_METHOD)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await core.stopping()

    app = Starlette(
        routes=[batch_route, *ROUTES, *[EVENTS_ROUTE] * events, *[WAIT_FOR_RUNS_ROUTE] * batch_waits],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _crash},
        lifespan=lifespan,
    )
    app.state.core = core
    app.state.faults = faults
    app.state.leases = leases
    return Edge(app, faults, core)
