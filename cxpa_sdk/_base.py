"""What the sync and async clients share without doing I/O: configuration, repr, options, the raw client."""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx2

from . import _config as check
from ._engine import DEFAULT_MAX_ANSWER_BYTES, Settings
from ._errors import CxpaError, InvalidArgumentError, InvalidArgumentTypeError
from ._retry import RetryPolicy
from ._transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    SOCKET_OPTIONS,
    async_client,
    enable_env_logging,
    verify_context,
)

if TYPE_CHECKING:
    import asyncio

    from cxpa_api import AuthenticatedClient

H = TypeVar("H")
DEFAULT_DEADLINE_S = 120.0
DEFAULT_MAX_RETRIES = 2


def _from_httpx(value: object) -> bool:
    """Whether `value` is an object of the httpx package (0.x), which the SDK no longer runs on."""
    return type(value).__module__.partition(".")[0] == "httpx"


def checked_timeout(timeout: float | httpx2.Timeout | None) -> httpx2.Timeout:
    """The per-request timeouts: every phase a positive, finite number of seconds (None: the defaults).

    0, negative, NaN, infinite and None phases are refused with an InvalidArgumentError naming the
    phase: a request must never wait forever, nor fail before it is sent. An `httpx.Timeout` (of
    the httpx the SDK used before httpx2) is taken phase by phase: it is only four numbers.
    """
    if timeout is None:
        return DEFAULT_TIMEOUT
    if _from_httpx(timeout) and type(timeout).__name__ == "Timeout":
        phases = {phase: getattr(timeout, phase, None) for phase in ("connect", "read", "write", "pool")}
        timeout = httpx2.Timeout(**phases)
    if isinstance(timeout, httpx2.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            value = getattr(timeout, phase)
            if value is None:
                raise InvalidArgumentError(f"timeout.{phase} must be finite: a request must never wait forever")
            check.seconds(value, f"timeout.{phase}")
        return timeout
    return httpx2.Timeout(check.seconds(timeout, "timeout"))


def checked_http_client(http_client: H | None, kind: type[H]) -> H | None:
    """`http_client` when it is an httpx2 client of the client's kind (sync or async), else a typed error.

    An httpx.Client (httpx 0.x) cannot be used: its errors, timeouts, pool and sockets are httpx's,
    which the SDK's promises are not built on. The error says what to pass instead.
    """
    if http_client is None or isinstance(http_client, kind):
        return http_client
    wanted = f"httpx2.{kind.__name__}"
    if _from_httpx(http_client):
        raise InvalidArgumentTypeError(
            f"http_client must be an {wanted}, not an httpx.{type(http_client).__name__}: cxpa-sdk runs on httpx2, "
            f"the maintained fork of httpx, since 0.2.0. Build it with httpx2 (`import httpx2; "
            f"httpx2.{kind.__name__}(...)` takes the same options), or leave http_client out to use the SDK's own pool"
        )
    raise InvalidArgumentTypeError(f"http_client must be an {wanted}, not {type(http_client).__name__}")


HTTP_BACKENDS = ("httpx2", "aiohttp")
"""What `http_backend=` of the async clients takes: httpx2's pool (the default), or aiohttp's."""
AIOHTTP_EXTRA = 'pip install "cxpa-sdk[aiohttp]"'
MIN_AIOHTTP = (3, 12)  # TCPConnector(socket_factory=...) came with aiohttp 3.12


def checked_http_backend(http_backend: object, *, brought: bool) -> str:
    """`http_backend` when it is one of HTTP_BACKENDS and usable here, else an InvalidArgumentError.

    "aiohttp" needs the `aiohttp` extra (checked now, when the client is built, not at its first
    call) and the SDK's own pool: it can't apply to an httpx2 client brought with `http_client=`.
    """
    if not isinstance(http_backend, str) or http_backend not in HTTP_BACKENDS:
        allowed = " or ".join(repr(name) for name in HTTP_BACKENDS)
        raise InvalidArgumentError(f"http_backend must be {allowed}, got {http_backend!r}")
    if http_backend == "aiohttp":
        if brought:
            raise InvalidArgumentError(
                'http_backend="aiohttp" chooses the SDK\'s own pool, and http_client= brings another: pass one of them'
            )
        try:
            import aiohttp  # noqa: PLC0415 - only this backend needs it

            from . import _aiohttp  # noqa: F401, PLC0415 - imported here so that a broken install fails now
        except ImportError as exc:
            raise InvalidArgumentError(
                f'http_backend="aiohttp" needs aiohttp, which is not installed: {AIOHTTP_EXTRA}'
            ) from exc
        found = tuple(int(part) for part in aiohttp.__version__.split(".")[:2] if part.isdigit())
        if found < MIN_AIOHTTP:
            raise InvalidArgumentError(
                f'http_backend="aiohttp" needs aiohttp>=3.12, found {aiohttp.__version__}: {AIOHTTP_EXTRA}'
            )
    return http_backend


def async_pool(settings: Settings, verify: bool | str | ssl.SSLContext, http_backend: str) -> httpx2.AsyncClient:
    """A new pool of an async client, on httpx2 (the default) or on aiohttp (`_aiohttp`)."""
    if http_backend == "aiohttp":
        from ._aiohttp import AiohttpTransport  # noqa: PLC0415 - aiohttp loads only with this backend

        transport = AiohttpTransport(
            verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS
        )
        return async_client(settings.base_url, settings.timeout, settings.authorization, verify, transport)
    return async_client(settings.base_url, settings.timeout, settings.authorization, verify)


def make_settings(
    *,
    base_url: str | None,
    key: str,
    key_name: str,
    timeout: float | httpx2.Timeout | None,
    max_retries: int,
    deadline: float,
    allow_insecure: bool,
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
) -> Settings:
    """Checked settings for a client; keys are checked here and never leave the Authorization header."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgumentError(f"max_retries must be an int >= 0, got {max_retries!r}")
    return Settings(
        base_url=check.base_url(base_url, allow_insecure=allow_insecure),
        authorization=f"Bearer {check.secret(key, key_name)}",
        timeout=checked_timeout(timeout),
        deadline=check.seconds(deadline, "deadline"),
        retry=RetryPolicy(max_retries=max_retries),
        max_answer_bytes=check.positive_int(max_answer_bytes, "max_answer_bytes"),
    )


class ForkGuard:
    """Gives a forked child its own connection pool: sockets inherited from the parent are never shared.

    Clients call `_pool(current, build)` before each call; in the process that created them it
    returns the pool as it is (one getpid() call). In a forked child it builds a fresh pool, or,
    for an httpx client brought with `http_client=`, refuses with a clear error.
    """

    _pid: int
    _brought_http: bool

    def _guard(self, *, brought_http: bool) -> None:
        self._pid = os.getpid()
        self._brought_http = brought_http

    def _pool(self, current: H, build: Callable[[], H]) -> H:
        if self._pid == os.getpid():
            return current
        if self._brought_http:
            raise CxpaError(
                f"this {type(self).__name__} was created in process {self._pid} with http_client=..., and is used "
                f"in forked process {os.getpid()}: its sockets belong to the parent. Create the client in the child."
            )
        self._pid = os.getpid()
        return build()


class AsyncPools:
    """An async client's connection pools: one per event loop, and new ones in a forked child.

    An httpx2.AsyncClient's connections belong to the event loop that opened them; used from another
    loop (a second `asyncio.run()`, or a thread with its own loop) they fail with "Event loop is
    closed" or hang. So the pool the client was built with serves the first loop that uses it, and
    each other loop gets a pool of its own, built on first use; pools of closed loops are dropped.
    A pool brought with `http_client=` can't be rebuilt: on another loop, or in a forked child, the
    call fails at once with a CxpaError that says what to do.

    The fast path is one `get_running_loop()`, one `getpid()` and one identity check.
    """

    def __init__(self, first: httpx2.AsyncClient, build: Callable[[], httpx2.AsyncClient] | None, owner: str) -> None:
        import asyncio  # noqa: PLC0415 - only async users pay for importing asyncio

        self._running_loop = asyncio.get_running_loop
        self._build = build
        self._owner = owner
        self._pid = os.getpid()
        self._unclaimed: httpx2.AsyncClient | None = first
        self._current: tuple[asyncio.AbstractEventLoop | None, httpx2.AsyncClient] = (None, first)
        self._by_loop: dict[asyncio.AbstractEventLoop, httpx2.AsyncClient] = {}
        self._lock = threading.Lock()

    def here(self) -> httpx2.AsyncClient:
        """The pool for the running event loop."""
        loop = self._running_loop()
        current = self._current
        if current[0] is loop and self._pid == os.getpid():
            return current[1]
        with self._lock:
            return self._switch(loop)

    def peek(self) -> httpx2.AsyncClient:
        """The pool for the running loop if it has one, else the last one used (for `raw`)."""
        try:
            loop = self._running_loop()
        except RuntimeError:
            return self._current[1]
        return self._by_loop.get(loop, self._current[1])

    def _switch(self, loop: asyncio.AbstractEventLoop) -> httpx2.AsyncClient:
        if self._pid != os.getpid():
            if self._build is None:
                raise CxpaError(
                    f"this {self._owner} was created in process {self._pid} with http_client=..., and is used in "
                    f"forked process {os.getpid()}: its sockets belong to the parent. Create the client in the child."
                )
            self._pid, self._unclaimed, self._by_loop = os.getpid(), None, {}
        self._by_loop = {known: pool for known, pool in self._by_loop.items() if not known.is_closed()}
        pool = self._by_loop.get(loop)
        if pool is None:
            if self._unclaimed is not None:
                pool, self._unclaimed = self._unclaimed, None
            elif self._build is None:
                raise CxpaError(
                    f"this {self._owner} was given http_client=..., which was first used on another event loop: an "
                    "httpx2.AsyncClient can't move between event loops. Create the client (and its httpx2.AsyncClient) "
                    "on the loop that uses it."
                )
            else:
                pool = self._build()
            self._by_loop[loop] = pool
        self._current = (loop, pool)
        return pool

    async def aclose(self) -> None:
        """Close the running loop's pool; pools of other loops are dropped (they can't be closed from here)."""
        with self._lock:
            pools = [self._by_loop.pop(self._running_loop(), None), self._unclaimed]
            self._unclaimed = None
            self._by_loop.clear()
        for pool in pools:
            if pool is not None:
                await pool.aclose()


class BaseClient(ForkGuard):
    """Configuration shared by Cxpa and AsyncCxpa: settings, `with_options`, `raw`, repr."""

    _settings: Settings
    _owns_http: bool

    def _init_settings(
        self,
        *,
        base_url: str | None,
        ingest_api_key: str | None,
        timeout: float | httpx2.Timeout | None,
        max_retries: int,
        deadline: float,
        allow_insecure: bool,
        max_answer_bytes: int,
    ) -> None:
        enable_env_logging()
        self._settings = make_settings(
            base_url=base_url,
            key=check.setting(ingest_api_key, "ingest_api_key", check.ENV_INGEST_KEY),
            key_name="ingest_api_key",
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
            max_answer_bytes=max_answer_bytes,
        )

    @property
    def base_url(self) -> str:
        """The platform's base URL."""
        return self._settings.base_url

    @property
    def timeout(self) -> httpx2.Timeout:
        """Each HTTP request's timeouts."""
        return self._settings.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._settings.retry.max_retries

    @property
    def deadline(self) -> float:
        """The most one call may take in all, in seconds (waits add their own time on top)."""
        return self._settings.deadline

    def __repr__(self) -> str:
        settings = getattr(self, "_settings", None)  # absent when the constructor refused an argument
        if settings is None:
            return f"{type(self).__name__}(not configured)"
        return f"{type(self).__name__}(base_url={settings.base_url!r}, ingest_api_key='***')"

    def with_options(
        self,
        *,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int | None = None,
        deadline: float | None = None,
    ) -> Self:
        """A client with other options that shares this one's connection pool (closing it is a no-op).

        Args:
            timeout: Each request's timeouts, in seconds or as an httpx2.Timeout.
            max_retries: Retries after the first attempt (0 disables retrying).
            deadline: The most one call may take in all, in seconds.
        """
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = checked_timeout(timeout)
        if max_retries is not None:
            if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
                raise InvalidArgumentError(f"max_retries must be an int >= 0, got {max_retries!r}")
            changes["retry"] = RetryPolicy(max_retries=max_retries)
        if deadline is not None:
            changes["deadline"] = check.seconds(deadline, "deadline")
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._settings = self._settings.with_changes(**changes)
        clone._owns_http = False
        return clone

    def _raw(self, http: httpx2.Client | httpx2.AsyncClient) -> AuthenticatedClient:
        from cxpa_api import AuthenticatedClient  # noqa: PLC0415 - only edge cases need the generated client

        key = self._settings.authorization.removeprefix("Bearer ")
        raw = AuthenticatedClient(base_url=self.base_url, token=key, timeout=self.timeout)
        if isinstance(http, httpx2.Client):
            raw.set_httpx_client(http)
        else:
            raw.set_async_httpx_client(http)
        return raw


def verify_option(verify: bool | str | ssl.SSLContext) -> bool | str | ssl.SSLContext:
    """TLS verification: True (the system's trusted CAs), a CA bundle path, an SSLContext, or False."""
    if not isinstance(verify, bool | str | ssl.SSLContext):
        raise InvalidArgumentTypeError("verify must be a bool, a CA bundle path or an ssl.SSLContext")
    return verify
