"""The deadline-carrying transports over real HTTP: the pool wait bounded by the deadline, bodies bound and unbound.

The SDK's own pools are httpx2 transports under DeadlineTransport (no gate: httpcore2's pool takes
1000 requests at once on 100 connections); these tests drive the transport the way the engine does,
with the deadline in the request's extensions.
"""

import asyncio
import time

import httpx2
import pytest

from cxpa_sdk import AsyncCxpa, Cxpa
from cxpa_sdk._core._deadline import EXTENSION
from cxpa_sdk._http._async_carry import AsyncDeadlineTransport
from cxpa_sdk._http._carry import DeadlineTransport
from cxpa_sdk._http._transport import POOL_SIZE
from cxpa_sdk.testing import ECHO, LocalPlatform

ONE = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
LONG_POOL_TIMEOUT = httpx2.Timeout(30.0)  # far past the deadlines below: a wait that ends sooner ended by them


def trigger(platform: LocalPlatform, deadline: float | None) -> httpx2.Request:
    """A trigger request to the echo agent, carrying `deadline` as the engine does."""
    request = httpx2.Request(
        "POST",
        f"{platform.base_url}/api/agents/{ECHO}/runs/trigger",
        json={"input": {"url": "https://example.com"}},
        headers={"Authorization": f"Bearer {platform.ingest_key}"},
        extensions={} if deadline is None else {EXTENSION: deadline},
    )
    request.extensions["timeout"] = LONG_POOL_TIMEOUT.as_dict()
    return request


def test_the_sdks_own_pools_carry_the_deadline(cxpa_platform: LocalPlatform) -> None:
    """Cxpa and AsyncCxpa send through DeadlineTransport; a brought client's transport is left as it is."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        assert isinstance(client._http._transport, DeadlineTransport)
    with httpx2.Client() as brought:
        own = brought._transport
        Cxpa(base_url=cxpa_platform.base_url, ingest_api_key="k", http_client=brought)
        assert brought._transport is own

    async def main() -> None:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            assert isinstance(client._http._transport, AsyncDeadlineTransport)

    asyncio.run(main())


def test_1000_calls_at_once_on_the_pool_of_100_all_succeed(cxpa_platform: LocalPlatform) -> None:
    """A plain gather of 1000 trigger_run calls on one AsyncCxpa (pool of 100): 1000 distinct runs, no error."""

    async def main() -> list[object]:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            calls = (client.trigger_run(ECHO, {"url": "https://example.com"}) for _ in range(1000))
            return await asyncio.gather(*calls, return_exceptions=True)

    assert POOL_SIZE == 100
    outcomes = asyncio.run(main())
    errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], f"{len(errors)} of 1000 failed, first: {errors[:3]}"
    assert len({o.run_id for o in outcomes}) == 1000  # type: ignore[attr-defined]


def test_the_wait_for_a_connection_ends_at_the_deadline(cxpa_platform: LocalPlatform) -> None:
    """Sync: the only connection held by an open body, a pool timeout of 30 s, a deadline 0.3 s away: PoolTimeout."""
    with DeadlineTransport(httpx2.HTTPTransport(limits=ONE)) as transport:
        held = transport.handle_request(trigger(cxpa_platform, time.monotonic() + 30))
        started = time.monotonic()
        with pytest.raises(httpx2.PoolTimeout):
            transport.handle_request(trigger(cxpa_platform, time.monotonic() + 0.3))
        assert time.monotonic() - started < 10, "the wait outlived its deadline by far"
        with pytest.raises(httpx2.PoolTimeout, match="deadline passed"):
            transport.handle_request(trigger(cxpa_platform, time.monotonic() - 1))
        held.close()
        assert transport.handle_request(trigger(cxpa_platform, time.monotonic() + 30)).status_code == 202


def test_the_async_wait_for_a_connection_ends_at_the_deadline(cxpa_platform: LocalPlatform) -> None:
    """Async: the same, on AsyncDeadlineTransport."""

    async def main() -> None:
        async with AsyncDeadlineTransport(httpx2.AsyncHTTPTransport(limits=ONE)) as transport:
            held = await transport.handle_async_request(trigger(cxpa_platform, time.monotonic() + 30))
            started = time.monotonic()
            with pytest.raises(httpx2.PoolTimeout):
                await transport.handle_async_request(trigger(cxpa_platform, time.monotonic() + 0.3))
            assert time.monotonic() - started < 10, "the wait outlived its deadline by far"
            await held.aclose()
            answer = await transport.handle_async_request(trigger(cxpa_platform, time.monotonic() + 30))
            assert answer.status_code == 202
            await answer.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_body_keeps_the_deadline_until_it_is_closed(cxpa_platform: LocalPlatform, mode: str) -> None:
    """The answer's socket stream has the call's deadline while its body is open, and none once it is closed."""
    deadline = time.monotonic() + 30
    if mode == "sync":
        with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            response = client._http._transport.handle_request(trigger(cxpa_platform, deadline))
            stream = response.extensions["network_stream"]
            assert stream.deadline == deadline
            response.close()
            assert stream.deadline is None
        return

    async def main() -> None:
        async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            response = await client._http._transport.handle_async_request(trigger(cxpa_platform, deadline))
            stream = response.extensions["network_stream"]
            assert stream.deadline == deadline
            await response.aclose()
            assert stream.deadline is None

    asyncio.run(main())
