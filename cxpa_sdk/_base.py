"""What the sync and async clients share without doing I/O: settings, repr, `with_options`, the raw client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

import httpx2

from . import _config as check
from ._core._engine import Settings
from ._core._retry import RetryPolicy
from ._errors import InvalidArgumentError
from ._http._httpx import httpx_timeout
from ._http._pools import ForkGuard
from ._logging import enable_env_logging
from ._options import KeyOption, checked_headers, checked_timeout, make_settings, merged_headers
from .hooks import Hook, checked_hooks

if TYPE_CHECKING:
    from cxpa_api import AuthenticatedClient


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
        default_headers: Mapping[str, str] | None,
        hooks: Sequence[Hook] | None,
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
        ).with_changes(hooks=checked_hooks(hooks))

    @property
    def base_url(self) -> str:
        """The platform's base URL."""
        return self._settings.base_url

    @property
    def timeout(self) -> httpx2.Timeout:
        """Each HTTP request's timeouts."""
        return httpx_timeout(self._settings.timeout)

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
