"""The pool guard reaches what it relies on in the httpcore2 we pin: these fail should a release move it.

`_pool_guard` closes a pooled connection that holds bytes past its last answer (the hostile tests
`test_an_answer_is_never_taken_from_a_previous_exchange*` prove the effect). It relies on
httpcore2's `ConnectionPool.create_connection` and on the `_connection` / `_h11_state` attributes
of the connections it creates, directly and through a proxy; here each is reached on a real
connection after a real request, sync and async.
"""

import asyncio
from collections.abc import Iterator

import h11
import httpx2
import pytest
from proxy_support import forward_proxy

from cxpa_sdk._http import _pool_guard, _transport
from cxpa_sdk.testing import LocalPlatform

PROXIED = [False, True]


@pytest.fixture
def proxy_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A running forward proxy's URL when the test's `proxied` says so, else None."""
    if not request.param:
        yield None
        return
    with forward_proxy() as proxy:
        yield proxy.url


def assert_guarded(pool: object) -> None:
    """Every connection of `pool` is guarded, reaches its h11 state and holds nothing past its answer."""
    connections = pool.connections  # type: ignore[attr-defined]
    assert connections, "the request left no connection in the pool"
    for connection in connections:
        assert isinstance(_pool_guard.answer_state(connection), h11.Connection), f"no h11 state under {connection!r}"
        assert "has_expired" in vars(connection), f"{connection!r} is not guarded"
        assert not _pool_guard.holds_leftovers(connection)
        assert not connection.has_expired()


@pytest.mark.parametrize("proxy_url", PROXIED, indirect=True, ids=["direct", "proxied"])
def test_the_sync_pool_guards_its_connections(cxpa_platform: LocalPlatform, proxy_url: str | None) -> None:
    """A sync SDK pool's connection, direct or through a proxy, reaches its h11 state and is guarded."""
    transport = _transport._sync_pool(True, httpx2.Proxy(proxy_url) if proxy_url else None)
    with httpx2.Client(transport=transport) as http:
        assert http.get(f"{cxpa_platform.base_url}/agents/1/runs/none").status_code in (401, 404)
        assert_guarded(transport._pool)


@pytest.mark.parametrize("proxy_url", PROXIED, indirect=True, ids=["direct", "proxied"])
def test_the_async_pool_guards_its_connections(cxpa_platform: LocalPlatform, proxy_url: str | None) -> None:
    """An async SDK pool's connection, direct or through a proxy, reaches its h11 state and is guarded."""

    async def flow() -> None:
        transport = _transport._async_pool(True, httpx2.Proxy(proxy_url) if proxy_url else None)
        async with httpx2.AsyncClient(transport=transport) as http:
            answer = await http.get(f"{cxpa_platform.base_url}/agents/1/runs/none")
            assert answer.status_code in (401, 404)
            assert_guarded(transport._pool)

    asyncio.run(flow())


def test_a_connection_holding_leftovers_has_expired(cxpa_platform: LocalPlatform) -> None:
    """Bytes put behind a finished answer in a real connection's h11 buffer make it expire; the pool drops it."""
    transport = _transport._sync_pool(True)
    with httpx2.Client(transport=transport) as http:
        http.get(f"{cxpa_platform.base_url}/agents/1/runs/none")
        (connection,) = transport._pool.connections
        _pool_guard.answer_state(connection).receive_data(b"HTTP/1.1 200 OK\r\n")
        assert connection.has_expired()
        http.get(f"{cxpa_platform.base_url}/agents/1/runs/none")
        assert connection.is_closed()
        assert connection not in transport._pool.connections


def test_a_pool_without_create_connection_is_refused_when_built() -> None:
    """Should httpcore2 drop `create_connection`, building a client fails at once, not during a call."""
    with pytest.raises(RuntimeError, match="create_connection"):
        _pool_guard.guard_pool(object())
