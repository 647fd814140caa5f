"""What the sync and async clients share without doing I/O: configuration, repr, options, the raw client."""

from __future__ import annotations

import inspect
import os
import re
import ssl
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx2

from . import _config as check
from ._engine import DEFAULT_MAX_ANSWER_BYTES, Settings
from ._errors import CxpaError, InvalidArgumentError, InvalidArgumentTypeError
from ._retry import RetryPolicy
from ._transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    ROTATING,
    SOCKET_OPTIONS,
    USER_AGENT,
    KeySource,
    ProxyOption,
    async_client,
    enable_env_logging,
    proxy_map,
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
    phase: a request must never wait forever, nor fail before it is sent. The exception is the
    pool phase: None (the default, and what a number of seconds leaves it) waits for a free
    connection until the call's deadline. An `httpx.Timeout` (of the httpx the SDK used before
    httpx2) is taken phase by phase: it is only four numbers.
    """
    if timeout is None:
        return DEFAULT_TIMEOUT
    if _from_httpx(timeout) and type(timeout).__name__ == "Timeout":
        phases = {phase: getattr(timeout, phase, None) for phase in ("connect", "read", "write", "pool")}
        timeout = httpx2.Timeout(**phases)
    if isinstance(timeout, httpx2.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            value = getattr(timeout, phase)
            if value is None and phase != "pool":  # the pool wait is bounded by the call's deadline
                raise InvalidArgumentError(f"timeout.{phase} must be finite: a request must never wait forever")
            if value is not None:
                check.seconds(value, f"timeout.{phase}")
        return timeout
    return httpx2.Timeout(check.seconds(timeout, "timeout"), pool=None)


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


def async_pool(
    settings: Settings,
    verify: bool | str | ssl.SSLContext,
    http_backend: str,
    proxies: Mapping[str, httpx2.Proxy | None] | None = None,
) -> httpx2.AsyncClient:
    """A new pool of an async client, on httpx2 (the default) or on aiohttp (`_aiohttp`), with `proxies`."""
    authorization = settings.authorization if settings.key_source is None else settings.key_source
    if http_backend == "aiohttp":
        from ._aiohttp import AiohttpTransport  # noqa: PLC0415 - aiohttp loads only with this backend

        transport = AiohttpTransport(
            verify=verify_context(verify), limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS, proxies=proxies
        )
        return async_client(settings.base_url, settings.timeout, authorization, verify, transport)
    return async_client(settings.base_url, settings.timeout, authorization, verify, proxies=proxies)


def checked_async_key(settings: Settings, *, brought: bool) -> None:
    """An async key callable needs the SDK's own pool, whose `send_own` awaits it: refused with `http_client=`."""
    if brought and settings.key_source is not None and settings.key_source.is_async:
        raise InvalidArgumentError(
            "an async key callable needs the SDK's own pool, and http_client= brings another: pass a sync "
            "callable, or leave http_client out"
        )


KeyOption = str | Callable[[], str] | Callable[[], Awaitable[str]]
"""An API key: a str, or a callable asked for it before every attempt (async: for async clients only)."""


def _is_async_callable(value: object) -> bool:
    return inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(getattr(value, "__call__", None))  # noqa: B004 - a coroutine __call__ is what is asked


def checked_key(key: object, key_name: str, *, async_ok: bool) -> tuple[str, KeySource | None]:
    """The Authorization value and, for a callable key, its KeySource (the value is then a placeholder)."""
    if isinstance(key, str) or not callable(key):
        return f"Bearer {check.secret(key, key_name)}", None
    is_async = _is_async_callable(key)
    if is_async and not async_ok:
        raise InvalidArgumentTypeError(
            f"{key_name} is an async callable, which a sync client can't await: pass a sync callable, "
            "or use the async client"
        )
    return ROTATING, KeySource(key, key_name, is_async=is_async)


# Headers the SDK sets itself on every request: a caller's header of that name would break its promises
# (who is calling, the retry safety, the body's framing and decoding), so it is refused, not merged.
SDK_HEADERS = {
    "authorization": "the key is passed as ingest_api_key= or api_key= (a callable for rotating keys)",
    "idempotency-key": "each call takes idempotency_key= (default: a fresh UUID, the same on every retry)",
    "x-credentials-token": "the credentials token is passed as credentials_token=",
    "accept": "the SDK reads JSON answers",
    "accept-encoding": "the SDK decodes only the encodings it asks for",
    "content-type": "the SDK sets it from the body",
    "content-length": "httpx2 sets it from the body",
    "transfer-encoding": "httpx2 sets it from the body",
    "host": "it comes from base_url",
    "connection": "the pool manages connections",
}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def checked_headers(headers: object, argument: str) -> tuple[tuple[str, str], ...]:
    """A caller's own headers, checked before anything is sent; their values never show in an error.

    Names are HTTP tokens, values printable ASCII (a tab allowed); a name the SDK sets (SDK_HEADERS,
    any case) is an InvalidArgumentError naming it. `User-Agent` is appended to the SDK's own
    (`cxpa-sdk-python/... python/... <yours>`), so the platform still sees which SDK called.
    """
    if headers is None:
        return ()
    if not isinstance(headers, Mapping):
        raise InvalidArgumentTypeError(f"{argument} must be a mapping of header names to str values")
    checked: dict[str, tuple[str, str]] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
            raise InvalidArgumentError(f"{argument}: {shown} is not a valid header name")
        lower = name.lower()
        if lower in SDK_HEADERS:
            raise InvalidArgumentError(
                f"{argument}: {name!r} is set by the SDK and can't be replaced: {SDK_HEADERS[lower]}"
            )
        if not isinstance(value, str):
            raise InvalidArgumentTypeError(f"{argument}[{name!r}] must be a str, not {type(value).__name__}")
        if not value.isascii() or not value.replace("\t", " ").isprintable() or value != value.strip():
            raise InvalidArgumentError(
                f"{argument}[{name!r}] contains characters a header can't carry (its value is not shown)"
            )
        if lower == "user-agent":
            checked[lower] = ("User-Agent", f"{USER_AGENT} {value}" if value else USER_AGENT)
        else:
            checked[lower] = (name, value)
    return tuple(checked.values())


def merged_headers(
    base: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """`base` with `extra` over it, name by name (any case)."""
    merged = {name.lower(): (name, value) for name, value in base}
    merged.update({name.lower(): (name, value) for name, value in extra})
    return tuple(merged.values())


def checked_proxies(
    proxy: object, *, trust_env: object, brought: bool, http_backend: str = "httpx2"
) -> dict[str, httpx2.Proxy | None]:
    """The proxy rules of the SDK's own pool (`_transport.proxy_map`), or an InvalidArgumentError.

    `proxy=` can't go with `http_client=` (a brought client has its own proxies); the aiohttp backend
    takes http:// and https:// proxies, not socks5://. A proxy URL is never shown: it may carry
    credentials.
    """
    if not isinstance(trust_env, bool):
        raise InvalidArgumentTypeError(f"trust_env must be a bool, not {type(trust_env).__name__}")
    if proxy is not None:
        if brought:
            raise InvalidArgumentError(
                "proxy= configures the SDK's own pool, and http_client= brings another, which has its own "
                "proxies: pass proxy= to the httpx2 client you bring, or leave http_client out"
            )
        if not isinstance(proxy, ProxyOption):
            raise InvalidArgumentTypeError(
                f"proxy must be a URL str, an httpx2.URL or an httpx2.Proxy, not {type(proxy).__name__}"
            )
    if brought:
        return {}
    where = "proxy=" if proxy is not None else "a proxy from HTTP_PROXY, HTTPS_PROXY or ALL_PROXY"
    try:
        proxies = proxy_map(None if proxy is None else _as_proxy(proxy), trust_env=trust_env)
    except ValueError as exc:
        raise InvalidArgumentError(f"{where} is not usable: it must be an http://, https:// or socks5:// URL") from exc
    if http_backend == "aiohttp" and any(p is not None and p.url.scheme.startswith("socks") for p in proxies.values()):
        raise InvalidArgumentError(
            f'{where} is a socks5:// proxy, which http_backend="aiohttp" cannot use: use the default "httpx2" '
            "backend, an http:// proxy, or trust_env=False"
        )
    return proxies


def _as_proxy(proxy: object) -> httpx2.Proxy:
    if isinstance(proxy, httpx2.Proxy):
        return proxy
    return httpx2.Proxy(url=proxy)  # type: ignore[arg-type]  # checked by checked_proxies


def make_settings(
    *,
    base_url: str | None,
    key: KeyOption,
    key_name: str,
    timeout: float | httpx2.Timeout | None,
    max_retries: int,
    deadline: float,
    allow_insecure: bool,
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    headers: Mapping[str, str] | None = None,
    async_key_ok: bool = False,
) -> Settings:
    """Checked settings for a client; keys are checked here and never leave the Authorization header."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgumentError(f"max_retries must be an int >= 0, got {max_retries!r}")
    authorization, key_source = checked_key(key, key_name, async_ok=async_key_ok)
    return Settings(
        base_url=check.base_url(base_url, allow_insecure=allow_insecure),
        key_source=key_source,
        headers=checked_headers(headers, "default_headers"),
        authorization=authorization,
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

    def __reduce__(self) -> tuple[Any, ...]:
        """Refuse pickling (and copying) with a CxpaError that says what to do instead.

        A client holds a connection pool, whose sockets belong to this process, and a key, which is
        never serialised: a child process (multiprocessing, Celery, Ray) creates its own client.
        """
        name = type(self).__name__
        raise CxpaError(
            f"a {name} can't be pickled or copied: its connection pool belongs to this process and its key is "
            f"never serialised. Create the {name} in the child process (pass it the base URL and let it read the "
            "key from its CXPA_* environment), or share one client between threads instead."
        )

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
        ingest_api_key: KeyOption | None,
        timeout: float | httpx2.Timeout | None,
        max_retries: int,
        deadline: float,
        allow_insecure: bool,
        max_answer_bytes: int,
        default_headers: Mapping[str, str] | None = None,
        async_key_ok: bool = False,
    ) -> None:
        enable_env_logging()
        check.require(
            ("base_url", base_url, check.ENV_API_URL),
            ("ingest_api_key", None if ingest_api_key is None else "given", check.ENV_INGEST_KEY),
        )
        # A callable key is asked per attempt; only a str (or the environment's) is read now.
        key = (
            ingest_api_key
            if callable(ingest_api_key)
            else check.setting(ingest_api_key, "ingest_api_key", check.ENV_INGEST_KEY)
        )
        self._settings = make_settings(
            headers=default_headers,
            async_key_ok=async_key_ok,
            base_url=base_url,
            key=key,
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
        extra_headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A client with other options that shares this one's connection pool (closing it is a no-op).

        Args:
            timeout: Each request's timeouts, in seconds or as an httpx2.Timeout.
            max_retries: Retries after the first attempt (0 disables retrying).
            deadline: The most one call may take in all, in seconds.
            extra_headers: Headers sent on every request of the new client, over this one's
                `default_headers` (name by name); the SDK's own (Authorization, Idempotency-Key, ...)
                are refused, and a User-Agent is appended to the SDK's.
        """
        changes: dict[str, Any] = {}
        if extra_headers is not None:
            changes["headers"] = merged_headers(self._settings.headers, checked_headers(extra_headers, "extra_headers"))
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
        clone._cloned()
        return clone

    def _cloned(self) -> None:
        """Called on a `with_options` copy: drop what must not be shared with the original."""

    def _raw(self, http: httpx2.Client | httpx2.AsyncClient) -> AuthenticatedClient:
        from cxpa_api import AuthenticatedClient  # noqa: PLC0415 - only edge cases need the generated client

        # A rotating key: the pool's BearerAuth asks it for each request; the token is a placeholder.
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
