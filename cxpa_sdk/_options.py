"""The checks of a client's constructor arguments, before anything is sent, and the Settings they make."""

from __future__ import annotations

import inspect
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import httpx2

from . import _config as check
from ._core._engine import DEFAULT_MAX_ANSWER_BYTES, Settings
from ._core._keys import ROTATING, KeySource
from ._core._retry import RetryPolicy
from ._errors import InvalidArgumentError, InvalidArgumentTypeError
from ._http._transport import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    ProxyOption,
    proxy_map,
)

if TYPE_CHECKING:
    pass


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

            from ._http import _aiohttp  # noqa: F401, PLC0415 - imported here so that a broken install fails now
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


def verify_option(verify: bool | str | ssl.SSLContext) -> bool | str | ssl.SSLContext:
    """TLS verification: True (the system's trusted CAs), a CA bundle path, an SSLContext, or False."""
    if not isinstance(verify, bool | str | ssl.SSLContext):
        raise InvalidArgumentTypeError("verify must be a bool, a CA bundle path or an ssl.SSLContext")
    return verify
