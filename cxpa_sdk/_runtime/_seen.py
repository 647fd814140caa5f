"""The delivery ids a runtime has taken, so that a replayed delivery is refused: a protocol and a bounded store."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from .. import _config as check

DEFAULT_MAX_IDS = 10_000


class SeenDeliveries(Protocol):
    """Where a runtime remembers the deliveries it took (their `webhook-id`), to refuse one sent again.

    `verify_delivery` calls `first_time` once per delivery that passed every other check. One method,
    so a shared store is a few lines: with Redis, `SET key 1 NX EX ttl` (docs/runtimes.md, "Signed
    deliveries"). A store shared by every process of a runtime refuses a replay whichever process
    it reaches; the default, `InMemorySeenDeliveries`, knows one process's deliveries.

    Examples:
        >>> class RedisSeenDeliveries:                                  # doctest: +SKIP
        ...     def first_time(self, delivery_id: str, *, ttl: float) -> bool:
        ...         return bool(redis.set(f"cxpa:delivery:{delivery_id}", 1, nx=True, ex=math.ceil(ttl)))
    """

    def first_time(self, delivery_id: str, *, ttl: float) -> bool:
        """Record `delivery_id` for `ttl` seconds; True when it was not recorded already (the delivery is new)."""
        ...


class InMemorySeenDeliveries:
    """The default `SeenDeliveries`: this process's delivery ids, each kept `ttl` seconds, at most `max_ids` of them.

    Thread-safe (one lock; every call is a few dict operations, with no I/O). Past `max_ids` ids
    within their `ttl` (2 x the tolerance: 600 s by default) the oldest is forgotten first, so a
    delivery replayed after more than `max_ids` newer ones would be taken again (its timestamp still
    bounds it to the tolerance): size it to the deliveries a runtime takes in that window, or share
    a store (`SeenDeliveries`) between processes.

    Examples:
        >>> seen = InMemorySeenDeliveries(max_ids=50_000)                # doctest: +SKIP
        >>> payload = verify_delivery(body, headers, secrets=secrets, seen=seen)  # doctest: +SKIP

    Args:
        max_ids: The most ids kept at once (default 10,000).
        clock: Seconds from a monotonic clock (tests pass their own).
    """

    def __init__(self, max_ids: int = DEFAULT_MAX_IDS, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_ids = check.positive_int(max_ids, "max_ids")
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: OrderedDict[str, float] = OrderedDict()  # id -> when it may be forgotten, oldest first

    def __repr__(self) -> str:
        return f"InMemorySeenDeliveries(max_ids={self._max_ids}, held={len(self._expiry)})"

    def first_time(self, delivery_id: str, *, ttl: float) -> bool:
        """Record `delivery_id` for `ttl` seconds; True when it was not recorded already (the delivery is new)."""
        now = self._clock()
        with self._lock:
            expires = self._expiry.get(delivery_id)
            if expires is not None and expires > now:
                return False
            self._expiry.pop(delivery_id, None)
            while self._expiry and (next(iter(self._expiry.values())) <= now or len(self._expiry) >= self._max_ids):
                self._expiry.popitem(last=False)
            self._expiry[delivery_id] = now + ttl
            return True
