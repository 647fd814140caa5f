"""The runtime host's HTTP side: a Starlette app with one `POST /agents/{name}` route per agent.

Each answer is decided before any work starts: 401 for a delivery that fails verification, 400 for
a body that is no payload, 413 for one over MAX_BODY_BYTES, 503 with Retry-After when the agent's
queue is full, else 202 (the work runs in the background).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._errors import DeliveryVerificationError, InvalidArgumentError, InvalidArgumentTypeError

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

    def dispatch(self, agent: Any, payload: Any) -> bool:
        """Act on a verified payload; False when the agent takes no more runs."""

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
        if not runtime.dispatch(agent, payload):
            return _busy(runtime, agent)
        return Response(status_code=202)

    return deliver


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
