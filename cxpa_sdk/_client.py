"""Cxpa: the sync client for callers of the platform (ingest API key)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

import httpx2

from ._caller import Caller
from ._core._engine import DEFAULT_MAX_ANSWER_BYTES
from ._core._seam import Seam
from ._handles import DirectWaits
from ._http._transport import ProxyOption
from ._options import DEFAULT_DEADLINE_S, DEFAULT_MAX_RETRIES
from ._pooled import PooledClient
from .hooks import Hook

if TYPE_CHECKING:
    from cxpa_api import AuthenticatedClient


class Cxpa(Caller, PooledClient):
    """The CXPA client (sync): trigger, wait for, download, register, report, read and cancel runs.

    One client holds one connection pool: create it once and share it (it is thread-safe).

    Examples:
        >>> from cxpa_sdk import Cxpa                                   # doctest: +SKIP
        >>> with Cxpa() as client:  # CXPA_API_URL and CXPA_INGEST_KEY   # doctest: +SKIP
        ...     result = client.trigger_run_and_wait(42, {"topic": "Q3"}, timeout_ms=120_000)

    Args:
        base_url: The platform's URL; falls back to `CXPA_API_URL`.
        ingest_api_key: The ingest API key; falls back to `CXPA_INGEST_KEY`. Sent only in the
            Authorization header, never shown. A callable returning the key is asked before every
            attempt (for keys that rotate); the keys it returns are masked like a fixed one.
        timeout: Each HTTP request's timeouts, in seconds or as an httpx2.Timeout (default: connect
            5 s, read 60 s, write 60 s; every phase finite but the wait for a free connection, which
            is bounded by the call's deadline unless a `pool` is given).
        max_retries: Retries after the first attempt for transient failures (0 disables them).
        deadline: The most one call may take in all, attempts and backoff included, in seconds;
            waits add their own time on top.
        http_client: An httpx2.Client to use instead of the SDK's own (not closed by `close`).
        verify: TLS verification: True, a CA bundle path, or an ssl.SSLContext.
        allow_insecure: Allow a plain http:// URL to a host that is not this machine.
        max_answer_bytes: The largest JSON answer read into memory (default 8 MiB); a larger one is
            InvalidResponseError, read no further.
        default_headers: Headers sent on every request (a gateway's, a tenant's, tracing); the SDK's
            own (Authorization, Idempotency-Key, ...) are refused, and a User-Agent is appended to
            the SDK's. Their values are never shown.
        proxy: A proxy for every request (an http://, https:// or socks5:// URL, or an httpx2.Proxy);
            not with `http_client=`.
        trust_env: Read HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY when `proxy` is not given, as
            httpx2 does (default True).
        hooks: Hook objects that hear of every call and attempt (docs/observability.md).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ingest_api_key: str | Callable[[], str] | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        http_client: httpx2.Client | None = None,
        verify: bool | str | ssl.SSLContext = True,
        allow_insecure: bool = False,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        default_headers: Mapping[str, str] | None = None,
        proxy: ProxyOption | None = None,
        trust_env: bool = True,
        hooks: Sequence[Hook] | None = None,
    ) -> None:
        self._init_settings(
            base_url=base_url,
            ingest_api_key=ingest_api_key,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            allow_insecure=allow_insecure,
            max_answer_bytes=max_answer_bytes,
            default_headers=default_headers,
            hooks=hooks,
        )
        self._init_pool(http_client, verify=verify, proxy=proxy, trust_env=trust_env)

    @property
    def _seam(self) -> Seam:
        """This client as module functions and handles use it (`_core._seam`)."""
        return Seam(self._settings, self._run)

    @property
    def raw(self) -> AuthenticatedClient:
        """The generated `cxpa_api` client on this client's httpx client, for edge cases."""
        return self._raw(self._http)

    def _waits(self) -> DirectWaits:
        """How this client waits: each wait holds its own connection."""
        return DirectWaits(self._seam)

    def close(self) -> None:
        """Close the connection pool (unless it was brought with `http_client=` or shared by `with_options`)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Cxpa:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
