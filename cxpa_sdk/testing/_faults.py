"""Fault injection for the local platform: failures, dropped connections, latency, cut downloads, rate limits."""

from __future__ import annotations

import fnmatch
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class FaultRule:
    """One injected fault; a context manager that removes it on exit.

    Attributes:
        kind: `fail`, `drop`, `latency`, `cut` or `rate_limit`.
        remaining: How many more requests it applies to (None: until removed).
        path: A glob the request path must match (`*/runs/trigger`), or None for every path.
        hits: How many requests it has applied to so far.
    """

    kind: str
    remaining: int | None
    path: str | None = None
    status: int = 503
    retry_after: int | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    max_requests: int = 0
    per_seconds: float = 1.0
    hits: int = 0
    _owner: Faults | None = field(default=None, repr=False)
    _window: list[float] = field(default_factory=list, repr=False)

    def matches(self, path: str) -> bool:
        """Whether the rule applies to a request path."""
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    def remove(self) -> None:
        """Stop injecting this fault."""
        if self._owner is not None:
            self._owner.remove(self)

    def __enter__(self) -> FaultRule:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()


class Faults:
    """The faults a LocalPlatform injects, each scoped to a `with` block or a count.

    Example:
        >>> with platform.faults.fail_next(2, status=503):   # doctest: +SKIP
        ...     client.trigger_run(1, {})                    # retried, then succeeds
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def _add(self, rule: FaultRule) -> FaultRule:
        rule._owner = self
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail_next(
        self, count: int = 1, *, status: int = 503, retry_after: int | None = None, path: str | None = None
    ) -> FaultRule:
        """Answer the next `count` requests (matching `path`) with `status`, before they are applied."""
        return self._add(FaultRule("fail", count, path, status=status, retry_after=retry_after))

    def drop_next(self, count: int = 1, *, path: str | None = None) -> FaultRule:
        """Apply the next `count` requests, then drop the connection without answering."""
        return self._add(FaultRule("drop", count, path))

    def latency(self, seconds: float, *, count: int | None = None, path: str | None = None) -> FaultRule:
        """Delay requests by `seconds` before handling them."""
        return self._add(FaultRule("latency", count, path, seconds=seconds))

    def cut_next_download(self, after_bytes: int, count: int = 1) -> FaultRule:
        """Cut the connection of the next `count` downloads after `after_bytes` bytes of the body."""
        return self._add(FaultRule("cut", count, None, after_bytes=after_bytes))

    def rate_limit(self, max_requests: int, per_seconds: float = 1.0, *, path: str | None = None) -> FaultRule:
        """Answer 429 with Retry-After past `max_requests` requests in any `per_seconds` window."""
        return self._add(FaultRule("rate_limit", None, path, max_requests=max_requests, per_seconds=per_seconds))

    def remove(self, rule: FaultRule) -> None:
        """Stop injecting one fault."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def reset(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rules.clear()

    def take(self, kind: str, path: str) -> FaultRule | None:
        """The first live rule of `kind` for `path`, counting one use of it."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.matches(path):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def rate_limited(self, path: str) -> int | None:
        """Seconds to wait when a rate limit refuses this request now, else None (and it is counted)."""
        moment = time.monotonic()
        with self._lock:
            for rule in self._live("rate_limit", path):
                rule._window[:] = [t for t in rule._window if t > moment - rule.per_seconds]
                if len(rule._window) >= rule.max_requests:
                    rule.hits += 1
                    return max(1, math.ceil(rule._window[0] + rule.per_seconds - moment))
                rule._window.append(moment)
        return None

    def _live(self, kind: str, path: str) -> Iterator[FaultRule]:
        return (r for r in list(self._rules) if r.kind == kind and r.matches(path))
