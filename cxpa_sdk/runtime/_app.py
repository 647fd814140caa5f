"""The runtime host's HTTP side: a Starlette app with one `POST /agents/{name}` route per agent.

Each answer is decided before any work starts: 401 for a delivery that fails verification, 400 for
a body that is no payload, 413 for one over MAX_BODY_BYTES, 503 with Retry-After when the agent's
queue is full, else 202 (the work runs in the background; a trigger's or resume's 202 carries the
run's lease, `CXPA-Lease-Seconds`, when the host holds leases). A file agent's trigger is answered
with its file instead (`FileAnswer`): 200 and the bytes as they come, or 500 when the run failed before
its file began; a file cut short is cut on the wire too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .._errors import DeliveryVerificationError, InvalidArgumentError, InvalidArgumentTypeError
from .._runtime._agent_base import LEASE_HEADER
from ._channel import FileChannel, FileCut

MAX_BODY_BYTES = 2 * 1024 * 1024  # a payload's input is at most 1 MiB (the spec's limit), with room for the rest


class Agent(Protocol):
    """What the app reads of a served agent (`_host.HostedAgent` is one)."""

    @property
    def name(self) -> str:
        """The agent's name: its path is `/agents/{name}`."""


class Host(Protocol):
    """What the app asks of the runtime it serves (`_host.Runtime` is one): the app imports no host, nor it the app."""

    @property
    def retry_after(self) -> int:
        """The `Retry-After` of a `503`, in seconds."""

    @property
    def agents(self) -> Mapping[str, Any]:
        """The agents served, by name."""

    def busy(self, agent: Any, body: bytes) -> bool:
        """Whether a delivery would start a run of a full agent."""

    def read(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """The payload of a delivery, verified when the runtime has keys."""

    def dispatch(self, agent: Any, payload: Any) -> bool | FileChannel:
        """Act on a verified payload; False when the agent takes no more runs; a file agent's channel."""

    def delivery_lease(self, agent: Any, payload: Any) -> int | None:
        """The lease to announce in the answer to a delivery just dispatched (None: none)."""

    async def drain(self) -> None:
        """Stop taking runs, and end the working ones."""

    def close(self) -> None:
        """Release what the runtime holds (its thread pool)."""


def _refusal(status: int, code: str, message: str, check: str | None = None) -> JSONResponse:
    error: dict[str, str] = {"code": code, "message": message}
    if check is not None:
        error["check"] = check
    return JSONResponse({"error": error}, status_code=status)


async def _body(request: Request) -> bytes | None:
    """The request's body, or None when it is over MAX_BODY_BYTES (read no further)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _busy(runtime: Host, agent: Agent) -> JSONResponse:
    response = _refusal(
        503,
        "runtime_busy",
        f"agent {agent.name} takes no more runs now (a full queue, or the runtime stopping): send it again later",
    )
    response.headers["retry-after"] = str(runtime.retry_after)
    return response


def _answer(runtime: Host, agent: Agent, payload: Any) -> Response:
    """The answer to a delivery the host acts on: 202 (with the run's lease), 503 when it took no run, or a file."""
    dispatched = runtime.dispatch(agent, payload)
    if isinstance(dispatched, FileChannel):
        return FileAnswer(dispatched)
    if not dispatched:
        return _busy(runtime, agent)
    lease = runtime.delivery_lease(agent, payload)
    return Response(status_code=202, headers=None if lease is None else {LEASE_HEADER: str(lease)})


def _endpoint(runtime: Host, agent: Agent) -> Callable[[Request], Awaitable[Response]]:
    async def deliver(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return _refusal(413, "payload_too_large", f"a delivery is at most {MAX_BODY_BYTES} bytes")
        if runtime.busy(agent, body):
            return _busy(runtime, agent)
        try:
            payload = runtime.read(body, request.headers)
        except DeliveryVerificationError as exc:
            return _refusal(401, "delivery_refused", str(exc), exc.check)
        except (InvalidArgumentError, InvalidArgumentTypeError) as exc:
            return _refusal(400, "invalid_payload", str(exc))
        return _answer(runtime, agent, payload)

    return deliver


class FileAnswer(Response):
    """The answer to a file agent's trigger: its file, sent chunk by chunk as the run makes it.

    200 with the run's headers once the file begins; 500 when the run failed before (the host
    reported the failure); a file cut after it began raises FileCut, so that the server drops the
    connection and the platform sees a body that did not end. When the platform stops reading, the
    run is told (its next chunk is not made).
    """

    def __init__(self, channel: FileChannel) -> None:
        super().__init__(status_code=200)
        self._channel = channel

    def __repr__(self) -> str:
        return f"FileAnswer({self._channel!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the file (the ASGI app's call)."""
        listening = asyncio.get_running_loop().create_task(self._listen(receive))
        ended = False
        try:
            try:
                head = await self._channel.head()
            except FileCut as cut:
                await _refusal(500, "run_failed", f"the run failed before its file began: {cut}"[:500])(
                    scope, receive, send
                )
                ended = True
                return
            headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in head.headers]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for chunk in self._channel.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            ended = True
        finally:
            listening.cancel()
            if not ended:
                self._channel.leave()

    async def _listen(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self._channel.leave()


def build_app(runtime: Host) -> Starlette:
    """The app: `POST /agents/{name}` for each agent the runtime has now; its shutdown drains the runs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            try:
                await runtime.drain()
            finally:
                runtime.close()

    routes = [
        Route(f"/agents/{name}", _endpoint(runtime, agent), methods=["POST"]) for name, agent in runtime.agents.items()
    ]
    return Starlette(routes=routes, lifespan=lifespan)
