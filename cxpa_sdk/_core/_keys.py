"""API keys given as callables: asked before every attempt, checked, and remembered so errors mask them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from .._config import secret
from .._errors import InvalidArgumentTypeError

ROTATING = "Bearer <rotating key>"
"""The Settings.authorization of a client whose key is a callable (the real one is asked per attempt)."""
_REMEMBERED_KEYS = 16


class KeySource:
    """An API key given as a callable (an async one for async clients), asked before every attempt.

    Each key it returns is checked like a key given as a str, and remembered (the last 16), so
    that errors and log lines mask it as they mask a fixed key. Its repr shows no key.
    """

    __slots__ = ("_get", "_name", "_seen", "is_async")

    def __init__(self, get: Callable[[], str] | Callable[[], Awaitable[str]], name: str, *, is_async: bool) -> None:
        self._get = get
        self._name = name
        self._seen: tuple[str, ...] = ()
        self.is_async = is_async

    def __repr__(self) -> str:
        return f"KeySource({self._name}='***')"

    def _checked(self, value: object) -> str:
        key = str(secret(value, f"the key that {self._name}() returned"))
        if key not in self._seen:
            self._seen = (key, *self._seen[: _REMEMBERED_KEYS - 1])
        return f"Bearer {key}"

    def authorization(self) -> str:
        """The Authorization value from a sync callable."""
        value = self._get()
        if inspect.isawaitable(value):
            if inspect.iscoroutine(value):
                value.close()
            raise InvalidArgumentTypeError(
                f"{self._name} returned an awaitable: an async callable works only with an async client"
            )
        return self._checked(value)

    async def aauthorization(self) -> str:
        """The Authorization value from a sync or an async callable."""
        value = self._get()
        if inspect.isawaitable(value):
            value = await value
        return self._checked(value)

    def seen(self) -> tuple[str, ...]:
        """The keys returned so far (the newest first): what errors must mask."""
        return self._seen
