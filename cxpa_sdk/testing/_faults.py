"""Fault injection for the local platform: failures, dropped connections, latency, cut downloads, rate limits.

Which requests a fault hits: by default only callers' requests (those not sent with an agent API key:
trigger, wait, download, register, ingest, read, cancel), so that the background callbacks of the
platform's runtimes (the built-in agents' among them) never use up a fault a test armed for its own
calls. `who="runtimes"` targets the runtimes' callbacks and credential resolves, `who="all"` every
request, and `key=` only the requests sent with one API key (`platform.agent_api_key(agent.id)`: one
agent's runtime).
"""

from __future__ import annotations

import fnmatch
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

Who = Literal["callers", "runtimes", "all"]
_WHO = ("callers", "runtimes", "all")


@dataclass
class FaultRule:
    """One injected fault; a context manager that removes it on exit.

    Attributes:
        kind: `fail`, `drop`, `latency`, `cut` or `rate_limit`.
        remaining: How many more requests it applies to (None: until removed).
        path: A glob the request path must match (`*/runs/trigger`), or None for every path.
        hits: How many requests it has applied to so far.
        who: Whose requests it hits: `callers` (not sent with an agent API key; the default),
            `runtimes` (sent with an agent API key: callbacks, credential resolves) or `all`.
        key: When set, it hits only requests sent with this API key (never shown in repr).
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
    who: Who = "callers"
    key: str | None = field(default=None, repr=False)
    _owner: Faults | None = field(default=None, repr=False)
    _window: list[float] = field(default_factory=list, repr=False)

    def matches(self, path: str, *, runtime: bool = False, key: str | None = None) -> bool:
        """Whether the rule applies to a request: its path, whether an agent's runtime sent it, and its key."""
        if self.key is not None:
            if key != self.key:
                return False
        elif self.who != "all" and runtime != (self.who == "runtimes"):
            return False
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

    Examples:
        >>> with platform.faults.fail_next(2, status=503):   # doctest: +SKIP
        ...     client.trigger_run(1, {})                    # retried, then succeeds
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def _add(self, rule: FaultRule) -> FaultRule:
        if rule.who not in _WHO:
            raise ValueError(f"who must be one of {', '.join(_WHO)}, not {rule.who!r}")
        if rule.key is not None and (not isinstance(rule.key, str) or not rule.key):
            raise ValueError("key must be a non-empty API key string, or None")
        rule._owner = self
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        retry_after: int | None = None,
        path: str | None = None,
        who: Who = "callers",
        key: str | None = None,
    ) -> FaultRule:
        """Answer the next `count` matching requests (`path`, `who`, `key`) with `status`, before they are applied."""
        return self._add(FaultRule("fail", count, path, status=status, retry_after=retry_after, who=who, key=key))

    def drop_next(
        self, count: int = 1, *, path: str | None = None, who: Who = "callers", key: str | None = None
    ) -> FaultRule:
        """Apply the next `count` requests, then drop the connection without answering."""
        return self._add(FaultRule("drop", count, path, who=who, key=key))

    def latency(
        self,
        seconds: float,
        *,
        count: int | None = None,
        path: str | None = None,
        who: Who = "callers",
        key: str | None = None,
    ) -> FaultRule:
        """Delay requests by `seconds` (seconds) before handling them."""
        return self._add(FaultRule("latency", count, path, seconds=seconds, who=who, key=key))

    def cut_next_download(self, after_bytes: int, count: int = 1) -> FaultRule:
        """Cut the connection of the next `count` downloads after `after_bytes` bytes of the body."""
        return self._add(FaultRule("cut", count, None, after_bytes=after_bytes))

    def rate_limit(
        self,
        max_requests: int,
        per_seconds: float = 1.0,
        *,
        path: str | None = None,
        who: Who = "callers",
        key: str | None = None,
    ) -> FaultRule:
        """Answer 429 with Retry-After past `max_requests` requests in any `per_seconds` window."""
        rule = FaultRule("rate_limit", None, path, max_requests=max_requests, per_seconds=per_seconds, who=who, key=key)
        return self._add(rule)

    def remove(self, rule: FaultRule) -> None:
        """Stop injecting one fault."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def reset(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._rules.clear()

    def take(self, kind: str, path: str, *, runtime: bool = False, key: str | None = None) -> FaultRule | None:
        """The first live rule of `kind` for this request (see `FaultRule.matches`), counting one use of it."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and rule.matches(path, runtime=runtime, key=key):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def rate_limited(self, path: str, *, runtime: bool = False, key: str | None = None) -> int | None:
        """Seconds to wait when a rate limit refuses this request now, else None (and it is counted)."""
        moment = time.monotonic()
        with self._lock:
            for rule in self._live("rate_limit", path, runtime, key):
                rule._window[:] = [t for t in rule._window if t > moment - rule.per_seconds]
                if len(rule._window) >= rule.max_requests:
                    rule.hits += 1
                    return max(1, math.ceil(rule._window[0] + rule.per_seconds - moment))
                rule._window.append(moment)
        return None

    def _live(self, kind: str, path: str, runtime: bool, key: str | None) -> Iterator[FaultRule]:
        return (r for r in list(self._rules) if r.kind == kind and r.matches(path, runtime=runtime, key=key))
