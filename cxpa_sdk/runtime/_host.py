"""The runtime host: `Runtime` (its agents, settings and runs) and `HostedAgent` (one agent function).

A delivery is read (`read`), then dispatched on the server's event loop (`dispatch`): a trigger
starts the function in the background, a resume wakes the run that waits here (or starts the
agent's resume handler), a cancel stops the run. The HTTP side is `_app`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .. import _config as check
from .._errors import InvalidArgumentError, InvalidArgumentTypeError
from .._logging import logger
from .._runtime._agent_base import checked_lease
from .._runtime._delivery import DEFAULT_TOLERANCE_S, seen_store, verified
from .._runtime._seen import InMemorySeenDeliveries, SeenDeliveries
from .._runtime._signing import PUBLIC_KEY_PREFIX, key_list, trusted_keys
from ..types import CancelPayload, ResumePayload, TriggerPayload, parse_runtime_payload
from ._channel import FileChannel
from ._clients import RunClients
from ._context import RunContext, SyncRunContext
from ._drain import drain
from ._file_runner import FileRun
from ._files import DEFAULT_CONTENT_TYPE, DEFAULT_FILENAME, file_defaults
from ._heartbeat import DEFAULT_LEASE_S, Heartbeat
from ._input import input_model
from ._limits import Limit
from ._runner import run_async, run_sync
from ._state import RunState
from ._tracing import RunTracing

if TYPE_CHECKING:
    from starlette.applications import Starlette

ENV_SIGNING_SECRET = "CXPA_SIGNING_SECRET"  # noqa: S105 - the variable's name, not a secret
DEFAULT_SYNC_WORKERS = 16
DEFAULT_RETRY_AFTER_S = 5
DEFAULT_DRAIN_S = 30.0
FINISHED_RUNS_KEPT = 10_000  # runs that ended here, remembered so that a late duplicate trigger runs nothing
Payload = TriggerPayload | ResumePayload | CancelPayload
AgentFunction = Callable[..., Any]
"""An agent function: `async def f(run: RunContext)` or `def f(run: SyncRunContext)`, returning the run's output."""
ResumeHandler = Callable[..., Any]
"""A resume handler: `(run, payload: ResumePayload)`, async or sync, returning the run's output."""


class HostedAgent:
    """An agent function served by a `Runtime` (what `@runtime.agent(...)` returns); call it as the function.

    Examples:
        >>> @runtime.agent("word-count")                                   # doctest: +SKIP
        ... async def word_count(run: RunContext) -> dict[str, int]: ...
        >>> @word_count.on_resume                                          # doctest: +SKIP
        ... async def word_count_resumed(run: RunContext, payload: ResumePayload) -> dict[str, Any]:
        ...     return {"approved": True, **payload.output}

    Attributes:
        name: The agent's name: its path is `/agents/{name}`.
        function: The agent function.
        limit: The agent's concurrency limit (`max_concurrency`, `max_queued`, `in_flight`).
        resume_handler: The function given to `on_resume`, or None.
        file: For a file agent (`runtime.file_agent`), its default file name and media type; else None.
        input_model: The model the function's `run` parameter names (`RunContext[MyInput]`): a
            dataclass or a pydantic model each run's input is checked against, or None (a dict).
            Read from the annotation when the runtime is served (`asgi()`).
    """

    def __init__(
        self,
        name: str,
        function: AgentFunction,
        max_concurrency: int | None,
        max_queued: int | None = None,
        file: tuple[str, str] | None = None,
    ) -> None:
        self.name = name
        self.function = function
        self.file = file
        self.limit: Limit = Limit(max_concurrency, max_queued, f"agent {name!r}")
        self.resume_handler: ResumeHandler | None = None
        self.input_model: type | None = None
        functools.update_wrapper(self, function)

    def __repr__(self) -> str:
        return f"HostedAgent(name={self.name!r}, max_concurrency={self.max_concurrency}, max_queued={self.max_queued})"

    @property
    def max_concurrency(self) -> int | None:
        """The most runs of this agent at once in this process (None: no limit of its own)."""
        return self.limit.max_concurrency

    @property
    def max_queued(self) -> int | None:
        """The most runs of this agent waiting their turn (None: no bound)."""
        return self.limit.max_queued

    @property
    def in_flight(self) -> int:
        """The runs of this agent taken and not ended here: working or waiting their turn."""
        return self.limit.in_flight

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the agent function itself (as in a unit test)."""
        return self.function(*args, **kwargs)

    def on_resume(self, handler: ResumeHandler) -> ResumeHandler:
        """Register the function that finishes a run resumed when no `wait_for_token` of this process waits for it.

        That happens when the resume delivery reaches another process of the runtime, or this one
        after a restart. The handler is called as `handler(run, payload)`, async or sync as it is
        defined, with a context on the run (`run.input` is the run's input, which the resume
        payload carries) and the ResumePayload (`payload.output` is the resumer's); its return value
        completes the run, an exception fails it. Without a handler such a run is failed, saying why.
        A file agent takes no handler: its file is the answer to the trigger's delivery, which a
        resume delivery cannot give.

        Raises:
            InvalidArgumentError: The agent is a file agent.
        """
        if self.file is not None:
            raise InvalidArgumentError(
                f"file agent {self.name!r} takes no resume handler: its file answers the trigger"
            )
        if not callable(handler):
            raise InvalidArgumentTypeError(f"on_resume takes a function, not {type(handler).__name__}")
        self.resume_handler = handler
        return handler


class Runtime:
    """A runtime host: declare agents as functions, and serve them to the platform with `asgi()`.

    Each agent is served at `POST /agents/{name}`: point the platform's agent at that URL. Every
    delivery is verified when the runtime has signing keys (401 when it fails, 400 when the payload
    is not one), answered `202` at once, and worked on in the background: an async function as a
    task on the server's event loop, a sync one on a bounded thread pool. The host reports `started`
    on entry, `complete` with the return value, `fail` with an exception's type, message and
    traceback, and nothing after a cancel. A trigger for a run already running here (a duplicate
    delivery) starts nothing.

    Examples:
        >>> runtime = Runtime()  # keys from CXPA_SIGNING_SECRET, platform URL from CXPA_API_URL  # doctest: +SKIP
        >>> @runtime.agent("word-count", max_concurrency=8)                # doctest: +SKIP
        ... async def word_count(run: RunContext) -> dict[str, int]:
        ...     return {"words": len(run.input["text"].split())}
        >>> app = runtime.asgi()  # serve with uvicorn, or mount in a Starlette/FastAPI app  # doctest: +SKIP

    Args:
        base_url: The platform's URL, which runs report to; falls back to `CXPA_API_URL` (read by `asgi()`).
        secrets: The `whsec_` secrets deliveries are verified with (v1): one str (several split by
            commas or spaces) or a sequence. None: the `whsec_` keys of `CXPA_SIGNING_SECRET`. Never shown.
        public_keys: The `whpk_` Ed25519 public keys (v1a; the `signing` extra). None: the `whpk_`
            keys of `CXPA_SIGNING_SECRET`.
        tolerance: How far a delivery's timestamp may be from this machine's clock, in seconds.
        seen: Where taken delivery ids are kept, to refuse a replay (default: one store per Runtime).
        sync_workers: The threads that run sync agent functions (default 16); more runs wait their turn.
        retry_after: The `Retry-After` of a `503` for a full agent, or while shutting down, in seconds (default 5).
        drain_seconds: On shutdown (SIGTERM), how long working runs get to end before they are failed
            "runtime shut down", in seconds (default 30).
        max_concurrency: The most runs of all agents at once in this process (None: no limit but the
            agents' own); more wait their turn.
        max_queued: With `max_concurrency`, the most runs of all agents waiting their turn (None: no
            bound); past it a trigger is answered `503` with `Retry-After`.
        http_backend: What async functions' runs report with: `"httpx2"` (the default) or
            `"aiohttp"` (the `aiohttp` extra; less CPU a report). All runs share one connection pool.
        tracer_provider: With OpenTelemetry installed (the `otel` extra), the TracerProvider of the
            runs' spans (default: the global one). Each run is a span, `cxpa run {agent}`, that
            continues the trace its payload carried; its reports and the function's spans are its children.
        lease_seconds: The lease each run asks for with its `started`, in whole seconds (2 to 3600;
            default 60; None or 0: none): while a run works, the platform fails it `RuntimeLost`
            when it hears nothing from it for that long, so a process killed outright (SIGKILL, the
            OOM killer) shows as a failed run within the lease, not at `maxRunDurationMs`. A JSON
            agent's trigger is answered with the lease (`CXPA-Lease-Seconds`), so that a run still
            queued here behind a limit holds it too. One task per host sends a `heartbeat` every
            lease/3 seconds for each run, working or queued, that has not reported since. A
            platform without leases (an older one) is detected at the first refusal: runs then go
            on without. See docs/runtimes.md, "The lease".

    Attributes:
        limit: The host's concurrency limit for all agents (`max_concurrency`, `max_queued`, `in_flight`).
        retry_after: The `Retry-After` of a `503`, in seconds.

    With no key at all, deliveries are taken unverified (logged as a warning by `asgi()`): anyone
    who can reach the runtime's URL could then start, resume or cancel its runs' work.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        secrets: str | Sequence[str] | None = None,
        public_keys: str | Sequence[str] | None = None,
        tolerance: float = DEFAULT_TOLERANCE_S,
        seen: SeenDeliveries | None = None,
        sync_workers: int = DEFAULT_SYNC_WORKERS,
        retry_after: int = DEFAULT_RETRY_AFTER_S,
        drain_seconds: float = DEFAULT_DRAIN_S,
        max_concurrency: int | None = None,
        max_queued: int | None = None,
        http_backend: str = "httpx2",
        tracer_provider: Any = None,
        lease_seconds: int | None = DEFAULT_LEASE_S,
    ) -> None:
        from_env = key_list(os.environ.get(ENV_SIGNING_SECRET, ""), ENV_SIGNING_SECRET)
        if secrets is None:
            secrets = [key for key in from_env if not key.startswith(PUBLIC_KEY_PREFIX)]
        if public_keys is None:
            public_keys = [key for key in from_env if key.startswith(PUBLIC_KEY_PREFIX)]
        self._keys = trusted_keys(secrets, public_keys)  # read once: a bad key fails here, not per delivery
        self._tolerance = check.seconds(tolerance, "tolerance")
        self._seen = seen_store(seen) if seen is not None else InMemorySeenDeliveries()
        self._base_url_argument = base_url
        self._tracing = RunTracing(tracer_provider)
        off = lease_seconds is None or (type(lease_seconds) is int and lease_seconds == 0)
        self._lease_seconds = None if off else checked_lease(lease_seconds)
        self._clients = RunClients(None, http_backend, self._tracing.hooks, self._lease_seconds)
        self._sync_workers = check.positive_int(sync_workers, "sync_workers")
        self.retry_after: int = check.positive_int(retry_after, "retry_after")
        self._drain_seconds = check.seconds(drain_seconds, "drain_seconds")
        self.limit: Limit = Limit(max_concurrency, max_queued, "the runtime")
        self._draining = False
        self._pool: ThreadPoolExecutor | None = None
        self._agents: dict[str, HostedAgent] = {}
        self._runs: dict[str, RunState] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._heartbeat = Heartbeat(self._runs)

    def __repr__(self) -> str:
        signed = "verified" if self._keys else "unverified"
        return f"Runtime(agents={sorted(self._agents)!r}, deliveries={signed}, running={len(self._runs)})"

    @property
    def agents(self) -> Mapping[str, HostedAgent]:
        """The agents served, by name."""
        return dict(self._agents)

    def agent(
        self, name: str, *, max_concurrency: int | None = None, max_queued: int | None = None
    ) -> Callable[[AgentFunction], HostedAgent]:
        """Register the decorated function as the agent `name`, served at `POST /agents/{name}`.

        The function takes one argument: a `RunContext` when it is async (it runs on the server's
        event loop, so it must not block), a `SyncRunContext` when it is sync (it runs on the host's
        thread pool). Its return value (any JSON) completes the run; an exception fails it.

        Args:
            name: The agent's name in the URL: letters, digits, `-`, `_` and `.`.
            max_concurrency: The most runs of this agent at once in this process (None: no limit of
                its own); more wait their turn in this process.
            max_queued: With `max_concurrency`, the most runs that wait their turn (None: no bound);
                a trigger past it is answered `503` with `Retry-After` (`Runtime(retry_after=)`), so
                that a platform that retries deliveries sends it again later (one that does not
                fails the run).

        Raises:
            InvalidArgumentError: The name is taken or not fit for a URL path.
        """
        return self._register(name, max_concurrency, max_queued, None)

    def file_agent(
        self,
        name: str,
        *,
        filename: str = DEFAULT_FILENAME,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_concurrency: int | None = None,
        max_queued: int | None = None,
    ) -> Callable[[AgentFunction], HostedAgent]:
        """Register the decorated function as the file agent `name`: its file is the answer to the trigger.

        The function (async or sync, as for `agent`) returns the file's bytes or an `AgentFile` (with
        its own name, media type and length), or is a generator (async or sync) that yields the
        bytes. The host reports `started`, then streams the bytes as the answer to the platform's
        delivery, chunk by chunk (memory stays flat for any size), with `Content-Type`,
        `Content-Disposition` and, when the length is known, `Content-Length`; the platform completes
        the run once the whole file reached its caller. An exception, a chunk that is no bytes, or a
        file that ends short of its length or runs past it fails the run, and the answer is cut, so
        that no partial file passes for a whole one.

        Args:
            name: The agent's name in the URL: letters, digits, `-`, `_` and `.`.
            filename: The file's name when the function does not give one (an `AgentFile`'s).
            content_type: The file's media type when the function does not give one.
            max_concurrency: As `agent`'s.
            max_queued: As `agent`'s.

        Raises:
            InvalidArgumentError: The name is taken or not fit for a URL path, or the file name or
                media type is not fit for a header.
        """
        return self._register(name, max_concurrency, max_queued, file_defaults(filename, content_type))

    def _register(
        self, name: str, max_concurrency: int | None, max_queued: int | None, file: tuple[str, str] | None
    ) -> Callable[[AgentFunction], HostedAgent]:
        if not isinstance(name, str) or not name or not all(c.isascii() and (c.isalnum() or c in "-_.") for c in name):
            raise InvalidArgumentError(f"an agent's name must be letters, digits, -, _ or ., got {name!r}"[:120])
        if name in self._agents:
            raise InvalidArgumentError(f"an agent named {name!r} is already registered")
        Limit(max_concurrency, max_queued, f"agent {name!r}")  # checked now, not when the function comes

        def register(function: AgentFunction) -> HostedAgent:
            if not callable(function):
                raise InvalidArgumentTypeError(f"runtime.agent decorates a function, not {type(function).__name__}")
            hosted = HostedAgent(name, function, max_concurrency, max_queued, file)
            self._agents[name] = hosted
            return hosted

        return register

    def asgi(self) -> Starlette:
        """The ASGI app that serves every agent at `POST /agents/{name}` (needs the `runtime` extra).

        Serve it with uvicorn (`cxpa runtime serve module:runtime` does), or mount it in a Starlette
        or FastAPI app. Reads the platform URL (`base_url=` or `CXPA_API_URL`) now.

        Raises:
            MissingConfigError: No platform URL was given and `CXPA_API_URL` is not set.
            InvalidArgumentTypeError: An agent function's input model does not resolve, or is
                neither a dataclass nor a pydantic model.
        """
        self._clients = RunClients(
            check.base_url(self._base_url_argument),
            self._clients.http_backend,
            self._tracing.hooks,
            self._lease_seconds,
        )
        for agent in self._agents.values():  # now: a model defined below its function has been by now
            try:
                agent.input_model = input_model(agent.function, (RunContext, SyncRunContext))
            except TypeError as exc:
                raise InvalidArgumentTypeError(f"agent {agent.name!r}: {exc}") from None
        if not self._keys:
            logger.warning(
                "this runtime has no signing keys (%s or secrets=): its deliveries are taken unverified",
                ENV_SIGNING_SECRET,
            )
        from ._app import build_app  # noqa: PLC0415 - only serving needs Starlette

        return build_app(self)

    # -- deliveries ---------------------------------------------------------------------------

    def read(self, body: bytes, headers: Mapping[str, str]) -> Payload:
        """The payload of a delivery, verified when the runtime has keys.

        Raises:
            DeliveryVerificationError: The delivery failed a check (answer 401).
            InvalidArgumentError: The body is no payload (answer 400).
        """
        if not self._keys:
            return parse_runtime_payload(body)
        return verified(body, headers, self._keys, tolerance=self._tolerance, seen=self._seen, now=time.time)

    def busy(self, agent: HostedAgent, body: bytes) -> bool:
        """Whether a delivery would start a run of a full agent: it is then refused before it is verified.

        Before, so that the delivery's `webhook-id` is not taken: the platform's retry of it later (the
        same id, as Standard Webhooks retries are) must not be refused as a replay. The body is read
        unverified only to decide this; nothing acts on it. Cancels and duplicates are never busy.
        """
        if not self._full(agent):
            return False
        try:
            payload = parse_runtime_payload(body)
        except (InvalidArgumentError, InvalidArgumentTypeError):
            return False  # verification will refuse it
        known = payload.run_id in self._runs or payload.run_id in self._finished
        return not isinstance(payload, CancelPayload) and not known

    def dispatch(self, agent: HostedAgent, payload: Payload) -> bool | FileChannel:
        """Act on a verified payload, on the serving event loop, at once (the work runs in the background).

        False when the agent is full (`max_queued` runs wait already): the delivery is refused, for
        the platform to send again later. For a file agent's trigger, the channel its file comes
        through, to answer the delivery with.
        """
        run_id = payload.run_id
        state = self._runs.get(run_id)
        if isinstance(payload, CancelPayload):
            if state is not None:
                state.cancel()
            return True
        if state is not None or run_id in self._finished:
            if not (isinstance(payload, ResumePayload) and state is not None and state.resumed(payload)):
                logger.info("run %s is (or was) running here: its delivery is a duplicate", run_id)
            return True
        if self._full(agent):
            logger.info("agent %s is full: the delivery for run %s is refused for now", agent.name, run_id)
            return False
        state = self._start(agent, payload, resumed=isinstance(payload, ResumePayload))
        return state.channel or True

    def delivery_lease(self, agent: HostedAgent, payload: Payload) -> int | None:
        """The lease to announce in the answer to a delivery just dispatched (None: none).

        A JSON agent's run taken here by its trigger or its resume holds the host's lease from the
        answer on, queued or working (the platform then fails it `RuntimeLost` if this process dies
        before its `started`); the heartbeat renews it. Cancels, file agents and runs that ended
        here hold none.
        """
        state = self._runs.get(payload.run_id)
        if isinstance(payload, CancelPayload) or agent.file is not None or state is None:
            return None
        return state.lease

    def _full(self, agent: HostedAgent) -> bool:
        """Whether a new run of `agent` is refused for now: its queue or the host's is full, or the host is stopping."""
        return agent.limit.full() or self.limit.full() or self._draining

    def _start(self, agent: HostedAgent, payload: TriggerPayload | ResumePayload, *, resumed: bool) -> RunState:
        state = RunState(payload)
        if agent.file is None:
            state.lease = self._clients.lease_seconds  # announced with the 202, held while queued here
        elif not resumed:
            state.channel = FileChannel()
        self._runs[payload.run_id] = state
        agent.limit.in_flight += 1
        self.limit.in_flight += 1
        task = asyncio.get_running_loop().create_task(self._work(agent, payload, state, resumed=resumed))
        state.runner = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._heartbeat.start(self._clients)
        return state

    async def _work(
        self, agent: HostedAgent, payload: TriggerPayload | ResumePayload, state: RunState, *, resumed: bool
    ) -> None:
        function: Callable[..., Any] = agent.function
        is_async = inspect.iscoroutinefunction(function)
        if isinstance(payload, ResumePayload) and resumed:
            handler = agent.resume_handler
            if handler is None:
                function, is_async = functools.partial(_no_resume_handler, agent.name), False
            else:
                function = functools.partial(_resume_call, handler, payload)
                is_async = inspect.iscoroutinefunction(handler)
        try:
            async with (
                agent.limit.slot(),  # the agent's first: a queued run holds no host slot
                self.limit.slot(),
            ):
                with self._tracing.run_span(payload, agent.name):
                    await self._perform(
                        function, payload, state, is_async=is_async, model=agent.input_model, file=agent.file
                    )
        except asyncio.CancelledError:
            if not state.was_cancelled():
                raise
        finally:
            agent.limit.in_flight -= 1
            self.limit.in_flight -= 1
            self._runs.pop(state.run_id, None)
            self._finished[state.run_id] = None
            while len(self._finished) > FINISHED_RUNS_KEPT:
                self._finished.popitem(last=False)

    async def _perform(
        self,
        function: Callable[..., Any],
        payload: TriggerPayload | ResumePayload,
        state: RunState,
        *,
        is_async: bool,
        model: type | None,
        file: tuple[str, str] | None,
    ) -> None:
        if state.channel is not None and file is not None:
            if is_async or inspect.isasyncgenfunction(function):
                state.task = asyncio.current_task()
            file_run = FileRun(
                function, payload=payload, state=state, channel=state.channel, pool=self._sync_pool(), defaults=file
            )
            await file_run.run(self._clients, model)
        elif state.was_cancelled():
            return
        elif is_async:
            state.task = asyncio.current_task()
            await run_async(function, payload, state, self._clients, model)
        else:
            await asyncio.get_running_loop().run_in_executor(  # in this context: the run's span is current there
                self._sync_pool(),
                contextvars.copy_context().run,
                run_sync,
                function,
                payload,
                state,
                self._clients,
                model,
            )

    def _sync_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._sync_workers, thread_name_prefix="cxpa-runtime")
        return self._pool

    async def drain(self) -> None:
        """Stop taking runs, give the working ones `drain_seconds`, then fail each one left "runtime shut down".

        The server's shutdown (SIGTERM, Ctrl-C) calls it. A run that ends within the drain time
        reports as usual; one still working after it is stopped (an async function's task is
        cancelled, a sync one sees `cancelled`) and failed by the host. A run suspended in
        `wait_for_token` is let go without a report: it stays waiting on the platform.
        """
        self._draining = True
        try:
            await drain(self._runs, self._drain_seconds, self._clients)  # heartbeats go on for the draining runs
        finally:
            await self._heartbeat.stop()
            await self._clients.aclose()

    def close(self) -> None:
        """Stop the thread pool of sync functions once its runs end, and close the reports' sync pool (on shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._clients.close()


def _resume_call(handler: ResumeHandler, payload: ResumePayload, run: Any) -> Any:
    """A resume handler called as `handler(run, payload)`."""
    return handler(run, payload)


def _no_resume_handler(name: str, run: Any) -> Any:
    """What runs for a resume no wait here expects and no handler takes: the run fails, saying why."""
    raise ResumeNotHandledError(
        f"run {run.run_id} was resumed, but no wait_for_token of this process waits for it (another process, "
        f"or this one before a restart, reported it waiting) and agent {name!r} has no on_resume handler"
    )


class ResumeNotHandledError(Exception):
    """A resumed run that no `wait_for_token` here waits for and whose agent has no `on_resume` handler."""
