"""LocalPlatform: a faithful CXPA platform in memory, served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._runtime._signing import public_keys_of, signing_keys
from ._app import Edge, build_app
from ._builtins import DEMO_CONNECTION, builtin_agents
from ._core import Credential, PlatformCore
from ._dispatch import DeliveryRetry
from ._faults import Faults
from ._runs import Agent
from ._runtime import RuntimeCall
from ._server import serve_in_thread

DEFAULT_INGEST_KEY = "cxpa_local_ingest_key"
"""The ingest API key a `LocalPlatform` accepts unless it is given another (`ingest_key=`)."""


class LocalPlatform:
    """A local CXPA platform: every endpoint of openapi.yaml, runtimes, waiting, downloads and faults.

    State lives in memory. Runtimes are Python callables (run on worker threads) or URLs (sent the
    trigger payload as a JSON POST); they report progress through the real callback endpoint.

    Examples:
        >>> platform = LocalPlatform()                       # doctest: +SKIP
        >>> with platform.serve() as base_url:               # doctest: +SKIP
        ...     ...  # point a client at base_url with platform.ingest_key

    Args:
        ingest_key: The ingest API key callers use (`Authorization: Bearer <key>`).
        builtin_agents: Whether to start with the built-in agents (echo, slow, fail, report, standalone,
            approval) and the `conn_demo` credential connection.
        max_wait_ms: The cap on trigger-and-wait and trigger-and-download windows, in milliseconds
            (the contract's 300000; lower it to test long waits quickly).
        max_poll_wait_ms: The cap on a run read's `waitMs`, in milliseconds (the contract's 60000).
        runtime_workers: How many Python runtimes may run at once.
        events: Whether to serve the progress events endpoint (`get_run_events`, an extension of the
            seed's contract); False serves the platform as an older one without it (its path answers
            404 `not_found`, as any unknown path), for testing the SDK's fallback. Events are
            recorded either way.
        batch_waits: Whether to serve `wait_for_runs` (many runs waited for on one request, an
            extension of the seed's contract); False serves the platform as an older one without
            it, for testing the SDK's fallback to waiting run by run.
        batch_triggers: Whether to serve `trigger_runs_batch` (up to 1000 runs of one agent started
            on one request, each item sharing the idempotency record of the single `trigger_run`
            with its key: an extension of the seed's contract); False serves the platform as an
            older one without it (its path answers 404 `not_found`, as any unknown path), for
            testing a caller's fallback to one `trigger_run` per item with the same keys.
        leases: Whether runs may hold a lease (`started` with `leaseSeconds`, or a URL runtime's
            answer to the trigger's delivery with a `CXPA-Lease-Seconds` header, renewed by every
            callback and by `heartbeat` events; a run whose lease lapses is failed `RuntimeLost`:
            an extension of the seed's contract); False serves the platform as an older one
            without it, answering such a `started` and a `heartbeat` `400 invalid_body` and
            ignoring the header, for testing a runtime's fallback.
        signing_secret: The keys every POST to a URL runtime (trigger, resume, cancel) is signed
            with (Standard Webhooks headers): one key or a list, `whsec_...` for `v1` (HMAC-SHA256)
            and `whsk_...` for `v1a` (Ed25519, the `signing` extra), one signature per key, so two
            keys rotate without a refused delivery. An agent's own (`add_agent(signing_secret=)`)
            replace these for it. None: deliveries are not signed. Never shown.
        delivery_attempts: How many times a trigger or resume is sent to a URL runtime that answers
            `429` or `503` (not taken now), the same delivery freshly signed each time, before its
            run ends failed ("stayed busy"): the delivery-retry extension of the seed's contract.
            1 serves the platform as one without it, failing the run at the first `429` or `503`.
        max_retry_after_s: The longest wait between two attempts, whatever the runtime's
            `Retry-After` asks (1 s when it gives none, or none that parses), in seconds (lower it to
            test retries quickly).
    """

    def __init__(
        self,
        *,
        ingest_key: str = DEFAULT_INGEST_KEY,
        builtin_agents: bool = True,
        max_wait_ms: int = 300_000,
        max_poll_wait_ms: int = 60_000,
        runtime_workers: int = 64,
        events: bool = True,
        batch_waits: bool = True,
        batch_triggers: bool = True,
        leases: bool = True,
        signing_secret: str | Sequence[str] | None = None,
        delivery_attempts: int = DeliveryRetry.attempts,
        max_retry_after_s: float = DeliveryRetry.max_wait_s,
    ) -> None:
        self.ingest_key = ingest_key
        self._events = events
        self._batch_waits = batch_waits
        self._batch_triggers = batch_triggers
        self._leases = leases
        self.faults: Faults = Faults()
        self._core = PlatformCore(
            ingest_key=ingest_key,
            max_wait_ms=max_wait_ms,
            max_poll_wait_ms=max_poll_wait_ms,
            runtime_workers=runtime_workers,
            signing_keys=signing_keys(signing_secret or ()),
        )
        self._core.delivery_retry = DeliveryRetry(delivery_attempts, max_retry_after_s)
        self._core.leases.offered = leases
        self._base_url: str | None = None
        if builtin_agents:
            for agent in builtin_agents_of(self._core):
                self._register(agent)
            connection_id, kind, values = DEMO_CONNECTION
            self.add_credential(connection_id, kind, values)

    def __repr__(self) -> str:
        return f"LocalPlatform(base_url={self._base_url!r}, agents={len(self._core.agents)})"

    @property
    def base_url(self) -> str:
        """The base URL while serving."""
        if self._base_url is None:
            raise RuntimeError("the platform is not serving: use `with platform.serve() as base_url:`")
        return self._base_url

    @property
    def app(self) -> Edge:
        """A fresh ASGI app over this platform's state (serve() uses one)."""
        return build_app(
            self._core,
            self.faults,
            events=self._events,
            batch_waits=self._batch_waits,
            batch_triggers=self._batch_triggers,
            leases=self._leases,
        )

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0, *, allowed_hosts: Iterable[str] = ()) -> Iterator[str]:
        """Serve the platform under uvicorn in a background thread; yield the base URL.

        A request whose Host header does not name the platform is refused with `421 host_not_allowed`
        (a web page cannot drive it through DNS rebinding): accepted are `localhost`, `host`, any IP
        address and the `allowed_hosts`, each on any port (a relay or port map changes the port).

        Args:
            host: The address to listen on (loopback by default).
            port: The port; 0 picks a free one.
            allowed_hosts: More names to accept in the Host header, on any port (a platform reached
                through a proxy or by another name); `"*"` accepts every Host.

        Raises:
            ValueError: An allowed host is not a host name.
        """
        if self._base_url is not None:
            raise RuntimeError(f"the platform is already serving at {self._base_url}")
        app = self.app
        with serve_in_thread(_Started(app, self._core), host, port, allowed_hosts=allowed_hosts) as base_url:
            self._base_url = base_url
            # Runtimes call back over loopback even when serving on every interface.
            self._core.base_url = base_url.replace("://0.0.0.0:", "://127.0.0.1:")
            try:
                yield base_url
            finally:
                self._base_url = None
        self._core.close()

    # -- agents and keys ---------------------------------------------------------------------

    def _register(self, agent: Agent) -> Agent:
        with self._core.lock:
            if agent.id in self._core.agents:
                raise ValueError(f"agent id {agent.id} is taken")
            self._core.agents[agent.id] = agent
            self._core.agent_keys[agent.api_key] = agent.id
        return agent

    def add_agent(
        self,
        name: str,
        runtime: Callable[[RuntimeCall], Any] | str | None = None,
        *,
        agent_id: int | None = None,
        managed_by: str = "platform",
        output_kind: str = "json",
        max_run_duration_ms: int = 300_000,
        api_key: str | None = None,
        signing_secret: str | Sequence[str] | None = None,
        inline: bool = False,
        inline_delay_s: float = 0.0,
    ) -> Agent:
        """Add an agent; its id is the next free one unless given.

        An inline agent (`inline=True`, no `runtime`) runs at scale: each run completes with its input
        as output inside the platform, after `inline_delay_s` (or the run's own `input.seconds`) timed
        on the serving event loop: no runtime thread, no HTTP callback, so a hundred thousand runs
        cost records and timers, not threads. Waits on its runs are woken by their end as any run's.

        Args:
            name: A short name.
            runtime: A callable taking a RuntimeCall (returning None, or for a file agent a RuntimeFile
                or an iterable of bytes), a URL to POST the trigger payload to, or None.
            agent_id: The id to use (>= 1).
            managed_by: `platform` or `standalone`.
            output_kind: `json` or `file_download`.
            max_run_duration_ms: How long a run may take before the platform fails it, in milliseconds.
            api_key: The agent API key its runtimes call back with (default: a random one).
            signing_secret: The agent's own signing keys (`whsec_...`, `whsk_...`), in place of the
                platform's `signing_secret` for its deliveries; None: the platform's.
            inline: Whether its runs end inside the platform (an echo, see above); needs no runtime,
                `platform` and `json`.
            inline_delay_s: How long each inline run lasts before it completes, in seconds (>= 0).
        """
        if managed_by not in ("platform", "standalone") or output_kind not in ("json", "file_download"):
            raise ValueError("managed_by must be platform or standalone; output_kind json or file_download")
        if inline and (runtime is not None or managed_by != "platform" or output_kind != "json"):
            raise ValueError("an inline agent has no runtime and is platform-managed with json output")
        if isinstance(inline_delay_s, bool) or not 0 <= inline_delay_s < float("inf"):
            raise ValueError("inline_delay_s must be a number of seconds >= 0")
        with self._core.lock:
            new_id = agent_id if agent_id is not None else max(self._core.agents, default=0) + 1
            agent = Agent(
                new_id,
                name,
                managed_by,
                output_kind,
                max_run_duration_ms,
                runtime,
                signing_keys=signing_keys(signing_secret or ()),
                inline=inline,
                inline_delay_s=float(inline_delay_s),
            )
            if api_key is not None:
                agent = dataclasses.replace(agent, api_key=self._free_key(api_key))
            return self._register(agent)

    def set_agent_api_key(self, agent_id: int, api_key: str) -> None:
        """Give an agent a known API key (a dev server's fixed keys); the old key stops working."""
        with self._core.lock:
            agent = self._core.agents[agent_id]
            if api_key == agent.api_key:
                return
            updated = dataclasses.replace(agent, api_key=self._free_key(api_key))
            del self._core.agent_keys[agent.api_key]
            self._core.agents[agent_id] = updated
            self._core.agent_keys[updated.api_key] = agent_id

    def _free_key(self, api_key: str) -> str:
        """`api_key` when it is a usable key no other agent or caller has (ValueError otherwise)."""
        if not isinstance(api_key, str) or not api_key or not api_key.isprintable() or " " in api_key:
            raise ValueError("an agent API key must be a non-empty string of printable characters without spaces")
        if api_key in self._core.agent_keys or api_key in self._core.ingest_keys:
            raise ValueError("that API key is already in use by another agent or as an ingest key")
        return api_key

    def set_signing_secret(self, signing_secret: str | Sequence[str] | None, *, agent_id: int | None = None) -> None:
        """Change the keys deliveries are signed with, the platform's or (with `agent_id`) an agent's own: a rotation.

        None removes them (the platform's: deliveries unsigned; an agent's: the platform's apply).
        """
        keys = signing_keys(signing_secret or ())
        with self._core.lock:
            if agent_id is None:
                self._core.signing_keys = keys
            else:
                self._core.agents[agent_id] = dataclasses.replace(self._core.agents[agent_id], signing_keys=keys)

    @property
    def signing_key_count(self) -> int:
        """How many keys the platform signs deliveries with (0: unsigned); the keys themselves are never shown."""
        return len(self._core.signing_keys)

    def public_keys(self, agent_id: int | None = None) -> list[str]:
        """The `whpk_` public keys of the `whsk_` keys an agent's deliveries (or, None, the platform's) are signed with.

        What a runtime passes as `public_keys=` to check `v1a` signatures; public, so safe to show.
        """
        with self._core.lock:
            agent = None if agent_id is None else self._core.agents[agent_id]
            keys = (agent.signing_keys if agent is not None else ()) or self._core.signing_keys
        return public_keys_of(keys)

    def agent(self, agent_id: int) -> Agent:
        """An agent by id."""
        return self._core.agents[agent_id]

    @property
    def agents(self) -> list[Agent]:
        """Every agent, by id."""
        with self._core.lock:
            return [self._core.agents[i] for i in sorted(self._core.agents)]

    def agent_api_key(self, agent_id: int) -> str:
        """The agent API key of an agent (what its runtimes call back with)."""
        return self._core.agents[agent_id].api_key

    def add_ingest_key(self, key: str, agent_ids: list[int] | None = None) -> None:
        """Accept another ingest key, limited to some agents (403 for the others) or to all (None)."""
        with self._core.lock:
            self._core.ingest_keys[key] = None if agent_ids is None else frozenset(agent_ids)

    def add_credential(
        self,
        connection_id: str,
        type: str,
        values: dict[str, str],
        expires_at: datetime.datetime | None = None,
    ) -> None:
        """Add a credential connection that runtimes can resolve."""
        with self._core.lock:
            self._core.credentials[connection_id] = Credential(type, dict(values), expires_at)

    def expire_credentials_token(self, token: str) -> None:
        """Make a credentials token expire now (resolves then answer 401 token_expired)."""
        with self._core.lock:
            run_id, _ = self._core.tokens[token]
            self._core.tokens[token] = (run_id, 0.0)

    # -- runs --------------------------------------------------------------------------------

    def run(self, run_id: str) -> dict[str, Any]:
        """A run's Run row, as the API would answer it."""
        with self._core.lock:
            return self._core.runs[run_id].row()

    def runs(self, agent_id: int | None = None) -> list[dict[str, Any]]:
        """Every run's row, oldest first, optionally of one agent."""
        with self._core.lock:
            return [r.row() for r in self._core.runs.values() if agent_id is None or r.agent_id == agent_id]

    def run_events(self, run_id: str) -> list[dict[str, Any]]:
        """A run's progress events as `get_run_events` answers them (RunEvent objects), oldest first."""
        with self._core.lock:
            return [dict(event) for event in self._core.runs[run_id].events]

    def lease(self, run_id: str) -> int | None:
        """The lease a run holds now, in seconds (None: none; a waiting or ended run holds none)."""
        return self._core.leases.held(run_id)

    def resume(self, token_id: str, output: dict[str, Any] | None = None) -> str:
        """Resume the run waiting on `token_id` (the `approval` agent then completes); returns its id.

        The same path as `POST .../runs/{runId}/resume` (`Cxpa.resume_run`), found by the token alone.

        Raises:
            KeyError: No run is waiting on that token now.
        """
        return self._core.resume(token_id, output)

    def reset_faults(self) -> None:
        """Remove every injected fault (the pytest fixture does this after each test)."""
        self.faults.reset()


def builtin_agents_of(core: PlatformCore) -> list[Agent]:
    """The built-in agents, calling back over the core's shared HTTP client."""
    return builtin_agents(lambda: core.http)


class _Started:
    """Wraps the app to bind the core to the serving loop before the first request."""

    def __init__(self, app: Edge, core: PlatformCore) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self.core.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)
