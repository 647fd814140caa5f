"""The gated transports: never more requests inside httpx's pool than its limit, over real HTTP.

The gate wraps a real httpx transport talking to the local platform; a counting layer between the
two records how many requests were inside the pool at once (from sending until the body is closed).
"""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from cxpa_sdk import AsyncCxpa, Cxpa
from cxpa_sdk._gate import AsyncGatedTransport, GatedTransport
from cxpa_sdk._transport import POOL_SIZE
from cxpa_sdk.testing import ECHO, LocalPlatform

# 24 requests to the local platform take well under a second; the bound is for a loaded machine.
THREADS_TIMEOUT_S = 60.0


class Inside:
    """How many requests are inside the wrapped transport now, and the most there ever were."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        """A request went in."""
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        """A request's body was closed."""
        with self._lock:
            self.now -= 1


class CountingStream(httpx2.SyncByteStream):
    """A body that tells `Inside` when it is closed."""

    def __init__(self, stream: Any, inside: Inside) -> None:
        self.stream, self.inside = stream, inside

    def __iter__(self) -> Iterator[bytes]:
        yield from self.stream

    def close(self) -> None:
        """Close the body and count the request out."""
        self.stream.close()
        self.inside.leave()


class AsyncCountingStream(httpx2.AsyncByteStream):
    """The async twin of CountingStream."""

    def __init__(self, stream: Any, inside: Inside) -> None:
        self.stream, self.inside = stream, inside

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        """Close the body and count the request out."""
        await self.stream.aclose()
        self.inside.leave()


class Counting(httpx2.BaseTransport):
    """A real HTTP transport that counts the requests inside it."""

    def __init__(self, inside: Inside) -> None:
        self.inner, self.inside = httpx2.HTTPTransport(), inside

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Count the request in, send it, count it out when its body closes."""
        self.inside.enter()
        response = self.inner.handle_request(request)
        response.stream = CountingStream(response.stream, self.inside)
        return response

    def close(self) -> None:
        """Close the pool."""
        self.inner.close()


class AsyncCounting(httpx2.AsyncBaseTransport):
    """The async twin of Counting."""

    def __init__(self, inside: Inside) -> None:
        self.inner, self.inside = httpx2.AsyncHTTPTransport(), inside

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Count the request in, send it, count it out when its body closes."""
        self.inside.enter()
        response = await self.inner.handle_async_request(request)
        response.stream = AsyncCountingStream(response.stream, self.inside)
        return response

    async def aclose(self) -> None:
        """Close the pool."""
        await self.inner.aclose()


def _trigger(platform: LocalPlatform) -> dict[str, Any]:
    """The arguments of a trigger request to the platform's echo agent."""
    return {
        "url": f"{platform.base_url}/api/agents/{ECHO}/runs/trigger",
        "json": {"input": {"url": "https://example.com"}},
        "headers": {"Authorization": f"Bearer {platform.ingest_key}"},
    }


def _closed_port() -> str:
    """A loopback URL where nothing listens."""
    import socket  # noqa: PLC0415 - only this helper needs it

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/"


def _one_slot(inner: httpx2.BaseTransport | None = None) -> httpx2.Client:
    """A client whose requests pass a gate of one slot, waiting at most 0.2 s for it."""
    return httpx2.Client(
        transport=GatedTransport(inner or httpx2.HTTPTransport(), 1), timeout=httpx2.Timeout(5.0, pool=0.2)
    )


def _async_one_slot(pool_timeout: float = 0.2) -> httpx2.AsyncClient:
    """The async twin of `_one_slot`, on a plain transport."""
    transport = AsyncGatedTransport(httpx2.AsyncHTTPTransport(), 1)
    return httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(5.0, pool=pool_timeout))


class TestSync:
    """GatedTransport with threads."""

    def test_requests_beyond_the_limit_wait_for_a_slot(self, cxpa_platform: LocalPlatform) -> None:
        """24 threads at once through a gate of 3: every request succeeds, never more than 3 inside."""
        inside = Inside()
        with httpx2.Client(transport=GatedTransport(Counting(inside), 3)) as http:
            statuses: list[int] = []
            start = threading.Barrier(24, timeout=THREADS_TIMEOUT_S)  # a thread that never comes breaks it

            def one() -> None:
                start.wait()
                statuses.append(http.post(**_trigger(cxpa_platform)).status_code)

            threads = [threading.Thread(target=one, daemon=True) for _ in range(24)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + THREADS_TIMEOUT_S
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            stuck = sum(thread.is_alive() for thread in threads)
            assert stuck == 0, f"{stuck} of 24 threads were still sending after {THREADS_TIMEOUT_S:.0f} s"
        assert statuses == [202] * 24
        assert inside.most == 3
        assert inside.now == 0

    def test_a_slot_is_held_until_the_response_is_closed(self, cxpa_platform: LocalPlatform) -> None:
        """With the only slot taken by an open stream, the next request times out; once closed, it goes."""
        with _one_slot() as http:
            with http.stream("POST", **_trigger(cxpa_platform)) as held:
                assert held.status_code == 202
                with pytest.raises(httpx2.PoolTimeout, match="no free connection among 1"):
                    http.post(**_trigger(cxpa_platform))
            assert http.post(**_trigger(cxpa_platform)).status_code == 202

    def test_a_failed_send_frees_its_slot(self, cxpa_platform: LocalPlatform) -> None:
        """A request that fails to connect gives its slot back."""
        with _one_slot() as http:
            with pytest.raises(httpx2.ConnectError):
                http.get(_closed_port())
            assert http.post(**_trigger(cxpa_platform)).status_code == 202

    def test_closing_twice_frees_one_slot(self, cxpa_platform: LocalPlatform) -> None:
        """A response closed twice does not free a slot it does not hold (the gate's limit stays 1)."""
        with _one_slot(Counting(Inside())) as http:
            response = http.post(**_trigger(cxpa_platform))
            response.close()
            response.stream.close()  # type: ignore[union-attr]
            with http.stream("POST", **_trigger(cxpa_platform)):
                with pytest.raises(httpx2.PoolTimeout):
                    http.post(**_trigger(cxpa_platform))

    def test_the_sdks_own_pool_is_gated_at_its_size(self, cxpa_platform: LocalPlatform) -> None:
        """Cxpa's own httpx client sends through a gate as large as its pool; a brought client is untouched."""
        with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
            transport = client._http._transport
            assert isinstance(transport, GatedTransport)
            assert transport._limit == POOL_SIZE
            assert client.trigger_run(ECHO, {"url": "https://example.com"}).run_id
        with httpx2.Client() as brought:
            own = brought._transport
            Cxpa(base_url=cxpa_platform.base_url, ingest_api_key="k", http_client=brought)
            assert brought._transport is own


class TestAsync:
    """AsyncGatedTransport on one event loop."""

    def test_requests_beyond_the_limit_wait_for_a_slot(self, cxpa_platform: LocalPlatform) -> None:
        """60 requests started at once through a gate of 4: every one succeeds, never more than 4 inside."""
        inside = Inside()

        async def main() -> list[int]:
            async with httpx2.AsyncClient(transport=AsyncGatedTransport(AsyncCounting(inside), 4)) as http:
                answers = await asyncio.gather(*(http.post(**_trigger(cxpa_platform)) for _ in range(60)))
            return [answer.status_code for answer in answers]

        assert asyncio.run(main()) == [202] * 60
        assert inside.most == 4
        assert inside.now == 0

    def test_a_slot_is_held_until_the_response_is_closed(self, cxpa_platform: LocalPlatform) -> None:
        """With the only slot taken by an open stream, the next request times out; once closed, it goes."""

        async def main() -> None:
            async with _async_one_slot() as http:
                async with http.stream("POST", **_trigger(cxpa_platform)) as held:
                    assert held.status_code == 202
                    with pytest.raises(httpx2.PoolTimeout, match="no free connection among 1"):
                        await http.post(**_trigger(cxpa_platform))
                assert (await http.post(**_trigger(cxpa_platform))).status_code == 202

        asyncio.run(main())

    def test_a_failed_send_frees_its_slot(self, cxpa_platform: LocalPlatform) -> None:
        """A request that fails to connect gives its slot back."""

        async def main() -> None:
            async with _async_one_slot() as http:
                with pytest.raises(httpx2.ConnectError):
                    await http.get(_closed_port())
                assert (await http.post(**_trigger(cxpa_platform))).status_code == 202

        asyncio.run(main())

    def test_a_cancelled_waiter_takes_no_slot(self, cxpa_platform: LocalPlatform) -> None:
        """A request cancelled while it waits for a slot leaves the slot to the next request."""

        async def main() -> None:
            async with _async_one_slot(pool_timeout=1.0) as http:
                async with http.stream("POST", **_trigger(cxpa_platform)):
                    waiter = asyncio.create_task(http.post(**_trigger(cxpa_platform)))
                    await asyncio.sleep(0.05)
                    waiter.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await waiter
                answer = await asyncio.wait_for(http.post(**_trigger(cxpa_platform)), 0.5)
                assert answer.status_code == 202

        asyncio.run(main())

    def test_each_event_loop_gets_its_own_slots(self, cxpa_platform: LocalPlatform) -> None:
        """One gate used on two event loops in turn (asyncio.run twice) queues on both: a semaphore is loop-bound."""
        inside = Inside()
        counting = AsyncCounting(inside)
        counting.inner = httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_keepalive_connections=0))
        transport = AsyncGatedTransport(counting, 2)

        async def burst() -> list[int]:
            async with httpx2.AsyncClient(transport=transport) as http:
                answers = await asyncio.gather(*(http.post(**_trigger(cxpa_platform)) for _ in range(12)))
            return [answer.status_code for answer in answers]

        assert asyncio.run(burst()) == [202] * 12
        assert asyncio.run(burst()) == [202] * 12
        assert inside.most == 2

    def test_the_sdks_own_pool_is_gated_at_its_size(self, cxpa_platform: LocalPlatform) -> None:
        """AsyncCxpa's own httpx client sends through a gate as large as its pool, and 150 calls at once work."""

        async def main() -> None:
            async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
                transport = client._http._transport
                assert isinstance(transport, AsyncGatedTransport)
                assert transport._limit == POOL_SIZE
                runs = await asyncio.gather(
                    *(client.trigger_run(ECHO, {"url": "https://example.com"}) for _ in range(150))
                )
                assert len({run.run_id for run in runs}) == 150

        asyncio.run(main())
