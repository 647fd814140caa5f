"""A pooled HTTP/1.1 connection is reused only when nothing waits on it past its last answer.

httpcore2 (2.16, as httpcore 1.0 did) returns a keep-alive connection to its pool with whatever the
server sent past the answer's framing still in h11's receive buffer, and the next request on that
connection is then answered by those bytes: a buggy proxy or a hostile server picks the answer to a
request it has not seen yet (response desynchronisation). `guard_pool` makes every connection the
pool creates count as expired while such bytes wait, or once the peer's end of stream was read, so
the pool closes it instead of handing it to a request. The pool asks `has_expired()` of each idle
connection before it assigns a request, so the check runs for each idle connection on each
assignment: a few attribute reads and a copy of an (empty) buffer, about 1 µs.

Bytes that arrive later wait in the socket, where httpcore2's own check (`is_readable` on an idle
connection) already closes the connection. What no client can tell apart is a forged answer sent
after the next request left: HTTP/1.1 carries no request id.

It relies on httpcore2's `create_connection` of a pool and on the `_connection` and `_h11_state`
attributes of its connections, kept across the `httpcore2` range pyproject.toml allows;
tests/sdk/test_pool_guard.py fails should a release move them.
"""

from __future__ import annotations

import weakref
from typing import Any

# A direct connection is HTTPConnection -> HTTP11Connection; through a proxy one more wrapper.
_MAX_WRAPPERS = 4


def answer_state(connection: object) -> Any | None:
    """The h11 state under a pooled connection (through proxy wrappers), or None before it has one."""
    for _ in range(_MAX_WRAPPERS):
        state = getattr(connection, "_h11_state", None)
        if state is not None:
            return state
        connection = getattr(connection, "_connection", None)
        if connection is None:
            return None
    return None


def holds_leftovers(connection: object) -> bool:
    """Whether bytes past the last complete answer (or the peer's end of stream) wait in the connection."""
    state = answer_state(connection)
    if state is None:
        return False
    data, closed = state.trailing_data
    return bool(data) or closed


def _guard(connection: Any) -> None:
    """Make `connection.has_expired()` also true while it holds leftovers (no reference cycle)."""
    expired = type(connection).has_expired
    ref = weakref.ref(connection)

    def has_expired() -> bool:
        held = ref()
        return held is None or expired(held) or holds_leftovers(held)

    connection.has_expired = has_expired


def guard_pool(pool: Any) -> None:
    """Guard every connection `pool` (an httpcore2 sync or async pool, proxied or not) creates from now on."""
    create = getattr(pool, "create_connection", None)
    if create is None:
        raise RuntimeError("cxpa_sdk needs httpcore2's ConnectionPool.create_connection, which this httpcore2 lacks")

    def create_connection(origin: Any) -> Any:
        connection = create(origin)
        _guard(connection)
        return connection

    pool.create_connection = create_connection
