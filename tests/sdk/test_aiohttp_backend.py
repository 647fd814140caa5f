"""The aiohttp backend of the async clients (`http_backend="aiohttp"`, cxpa_sdk/_http/_aiohttp.py): its own promises.

The shared promises (deadlines, applied flags, errors, secrets, decoding, memory) run on this
backend too: the hostile suite's `async-aiohttp` mode and the `api` fixture's. Here: the argument,
the extra, the pool (socket options, limits, no leaked connection, one per event loop), the wire
(headers exactly as the request has them, no decompression, no cookies), the truthful error
classes, and the bounds on bodies.
"""

import asyncio
import contextlib
import gc
import gzip
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx2
import pytest
from hostile.hostile_server import (
    FILE_HEADERS,
    KEY,
    TRIGGERED,
    HostileServer,
    Request,
    drip,
    perform,
    refused_url,
    reset,
    response,
    send,
    shut,
    stall,
    success_for,
)

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, InvalidArgumentError, NotFoundError
from cxpa_sdk._core._deadline import EXTENSION
from cxpa_sdk._http import _aiohttp
from cxpa_sdk._http._aiohttp import READ_MAX, AiohttpTransport
from cxpa_sdk._http._transport import DEFAULT_LIMITS, POOL_SIZE, SOCKET_OPTIONS
from cxpa_sdk.testing import ECHO, REPORT, LocalPlatform

AIOHTTP = {"http_backend": "aiohttp"}
EXTRA = 'pip install "cxpa-sdk[aiohttp]"'


def aiohttp_client(base_url: str, **options: Any) -> AsyncCxpa:
    """An AsyncCxpa on the aiohttp backend."""
    return AsyncCxpa(base_url=base_url, ingest_api_key=KEY, http_backend="aiohttp", **options)


def transport_of(client: Any) -> AiohttpTransport:
    """The aiohttp transport under a client's pool for the running loop (under the deadline transport)."""
    inner = client._pools.here()._transport._inner
    assert isinstance(inner, AiohttpTransport)
    return inner


def in_use(transport: AiohttpTransport) -> int:
    """Connections the transport's aiohttp connector has handed out and not had back (aiohttp's `_acquired`)."""
    assert transport._session is not None
    connector = transport._session.connector
    assert connector is not None
    return len(connector._acquired)


# The argument and the extra -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["requests", "AIOHTTP", "", None, 1, b"aiohttp"])
def test_any_other_backend_is_refused_naming_the_allowed_ones(value: object) -> None:
    """http_backend: a value other than "httpx2" or "aiohttp" is an InvalidArgumentError that names both."""
    for make in (
        lambda: AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, http_backend=value),
        lambda: AsyncAgentClient(api_key=KEY, run_id="run_1", base_url="http://127.0.0.1:1", http_backend=value),
    ):
        with pytest.raises(InvalidArgumentError, match="http_backend must be 'httpx2' or 'aiohttp'"):
            make()


def test_the_default_backend_is_httpx2_and_the_sync_clients_take_none() -> None:
    """http_backend: "httpx2" is the default (httpx2's pool); Cxpa and AgentClient have no such argument."""

    async def main() -> None:
        for backend in ({}, {"http_backend": "httpx2"}):
            async with AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, **backend) as client:
                assert isinstance(client._pools.here()._transport._inner, httpx2.AsyncHTTPTransport)

    asyncio.run(main())
    with pytest.raises(TypeError, match="http_backend"):
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, **AIOHTTP)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="http_backend"):
        AgentClient(api_key=KEY, run_id="run_1", base_url="http://127.0.0.1:1", **AIOHTTP)  # type: ignore[call-arg]


def test_aiohttp_with_a_brought_http_client_is_refused() -> None:
    """http_backend: "aiohttp" chooses the SDK's own pool; with http_client= it is refused when the client is built."""

    async def main() -> None:
        async with httpx2.AsyncClient() as brought:
            with pytest.raises(InvalidArgumentError, match="http_client="):
                AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, http_client=brought, **AIOHTTP)
            with pytest.raises(InvalidArgumentError, match="http_client="):
                AsyncAgentClient(api_key=KEY, run_id="r", base_url="http://127.0.0.1:1", http_client=brought, **AIOHTTP)

    asyncio.run(main())


def test_without_the_extra_the_client_is_refused_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extra: with aiohttp missing, building the client raises an InvalidArgumentError saying what to install."""
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # `import aiohttp` now raises ImportError
    monkeypatch.delitem(sys.modules, "cxpa_sdk._http._aiohttp")
    for make in (
        lambda: AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, **AIOHTTP),
        lambda: AsyncAgentClient(api_key=KEY, run_id="run_1", base_url="http://127.0.0.1:1", **AIOHTTP),
    ):
        with pytest.raises(InvalidArgumentError, match="aiohttp") as caught:
            make()
        assert EXTRA in str(caught.value)
        assert isinstance(caught.value.__cause__, ImportError)
    assert AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY)  # the default backend needs no aiohttp


def test_an_aiohttp_older_than_3_12_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extra: aiohttp 3.11 (no socket_factory) is refused when the client is built, naming the version needed."""
    monkeypatch.setattr(aiohttp, "__version__", "3.11.18")
    with pytest.raises(InvalidArgumentError, match=r"aiohttp>=3\.12, found 3\.11\.18") as caught:
        AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key=KEY, **AIOHTTP)
    assert EXTRA in str(caught.value)


def test_a_plain_import_and_the_default_backend_load_no_aiohttp() -> None:
    """The extra: `import cxpa_sdk` and an AsyncCxpa on the default backend import no aiohttp; choosing it does."""
    code = (
        "import sys, cxpa_sdk\n"
        "cxpa_sdk.AsyncCxpa(base_url='http://127.0.0.1:1', ingest_api_key='k')\n"
        "print('aiohttp' in sys.modules, 'cxpa_sdk._http._aiohttp' in sys.modules)\n"
        "cxpa_sdk.AsyncCxpa(base_url='http://127.0.0.1:1', ingest_api_key='k', http_backend='aiohttp')\n"
        "print('aiohttp' in sys.modules, 'cxpa_sdk._http._aiohttp' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.split() == ["False", "False", "True", "True"], done.stdout + done.stderr


def test_the_agent_client_takes_the_backend_from_a_payload_too() -> None:
    """http_backend: AsyncAgentClient.from_payload(..., http_backend="aiohttp") reports its run over aiohttp."""
    payload = {"runId": "run_1", "agentId": 3, "input": {}, "agentApiKey": KEY}

    async def main(base_url: str) -> None:
        async with AsyncAgentClient.from_payload(payload, base_url=base_url, **AIOHTTP) as agent:
            assert isinstance(transport_of(agent), AiohttpTransport)
            await agent.complete({"ok": True})

    with HostileServer(send(success_for, keep_alive=True)) as server:
        asyncio.run(main(server.base_url))
        assert server.paths == ["/api/runs/run_1/callback"] * 2  # started, then complete


def test_with_options_keeps_the_backend(cxpa_platform: LocalPlatform) -> None:
    """with_options: the clone shares the aiohttp pool (a backend belongs to the pool, as verify= does)."""
    platform = cxpa_platform

    async def main() -> None:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **AIOHTTP) as client:
            clone = client.with_options(max_retries=0, deadline=5.0)
            run = await clone.trigger_run(ECHO, {"url": "https://example.com"})
            assert run.run_id
            assert transport_of(clone) is transport_of(client)
            await clone.aclose()  # a clone's close leaves the shared pool open
            assert (await client.trigger_run(ECHO, {"url": "https://example.com"})).run_id

    asyncio.run(main())


# The pool ---------------------------------------------------------------------------------------------


def test_every_socket_gets_the_sdks_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pool: the sockets aiohttp connects have TCP_NODELAY, SO_KEEPALIVE and TCP_KEEPIDLE 30 / INTVL 10 / CNT 3."""
    made: list[socket.socket] = []
    factory = _aiohttp._socket_factory

    def spying(options: tuple[tuple[int, int, int], ...]) -> Callable[[tuple[Any, ...]], socket.socket]:
        make = factory(options)

        def spy(addr_info: tuple[Any, ...]) -> socket.socket:
            made.append(make(addr_info))
            return made[-1]

        return spy

    monkeypatch.setattr(_aiohttp, "_socket_factory", spying)
    found: dict[str, int] = {}

    async def main() -> None:
        with HostileServer(send(TRIGGERED, keep_alive=True)) as server:
            async with aiohttp_client(server.base_url) as client:
                await client.trigger_run(1, {})
                assert len(made) == 1
                sock = made[0]  # the connection is idle in the pool, still open
                found["nodelay"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                found["keepalive"] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
                for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT"):
                    if hasattr(socket, name):
                        found[name] = sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, name))
                await client.trigger_run(1, {})
                assert len(made) == 1, "the idle connection was not reused"

    asyncio.run(main())
    assert found["nodelay"] != 0
    assert found["keepalive"] == 1
    if sys.platform.startswith("linux"):
        assert (found["TCP_KEEPIDLE"], found["TCP_KEEPINTVL"], found["TCP_KEEPCNT"]) == (30, 10, 3)


def test_the_pool_is_aiohttps_with_the_sdks_limits(cxpa_platform: LocalPlatform) -> None:
    """Pool: one aiohttp session of 100 connections, no per-host limit, 30 s keepalive, no cookies, no decoding."""

    async def main() -> None:
        async with AsyncCxpa(
            base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, **AIOHTTP
        ) as client:
            await client.trigger_run(ECHO, {"url": "https://example.com"})
            transport = transport_of(client)
            session = transport._session
            assert session is not None
            connector = session.connector
            assert isinstance(connector, aiohttp.TCPConnector)
            assert (connector.limit, connector.limit_per_host) == (POOL_SIZE, 0) == (100, 0)
            assert connector._keepalive_timeout == DEFAULT_LIMITS.keepalive_expiry == 30.0
            assert isinstance(session.cookie_jar, aiohttp.DummyCookieJar)
            assert session.auto_decompress is False
            assert session.trust_env is False
            assert session._retry_connection is False
        assert session.closed, "aclose() left the aiohttp session open"
        assert transport._session is None

    asyncio.run(main())


def test_no_connection_is_left_in_use_after_200_calls(cxpa_platform: LocalPlatform) -> None:
    """Pool: after 200 calls (JSON, errors, downloads read, left half-read and unread), none is in use."""
    platform = cxpa_platform

    async def main() -> None:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **AIOHTTP) as client:

            async def one(n: int) -> None:
                kind = n % 5
                if kind == 0:
                    await client.trigger_run(ECHO, {"url": "https://example.com"})
                elif kind == 1:
                    with pytest.raises(NotFoundError):
                        await client.get_run(ECHO, "run_does_not_exist")
                elif kind == 2:
                    async with client.trigger_run_and_download(REPORT, {"sizeBytes": 200_000}) as download:
                        assert len(await download.read()) == 200_000
                elif kind == 3:
                    async with client.trigger_run_and_download(REPORT, {"sizeBytes": 1 << 20}) as download:
                        async for _ in download.iter_bytes():
                            break  # left half-read
                else:
                    async with client.trigger_run_and_download(REPORT, {"sizeBytes": 1 << 20}):
                        pass  # never read

            for start in range(0, 100, 10):  # 100 one after another, in tens at once
                await asyncio.gather(*(one(n) for n in range(start, start + 10)))
            await asyncio.gather(*(one(n) for n in range(100)))  # and 100 at once
            transport = transport_of(client)
            assert in_use(transport) == 0
            assert transport._slots is not None
            assert transport._slots._value == POOL_SIZE

    asyncio.run(main())


def test_1000_calls_at_once_on_the_pool_of_100_all_succeed(cxpa_platform: LocalPlatform) -> None:
    """Pool: a plain gather of 1000 trigger_run calls on one aiohttp-backed AsyncCxpa: 1000 runs, no error."""
    platform = cxpa_platform

    async def main() -> list[object]:
        async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **AIOHTTP) as client:
            calls = (client.trigger_run(ECHO, {"url": "https://example.com"}) for _ in range(1000))
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            assert in_use(transport_of(client)) == 0
            return outcomes

    outcomes = asyncio.run(main())
    errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], f"{len(errors)} of 1000 failed, first: {errors[:3]}"
    assert len({o.run_id for o in outcomes}) == 1000  # type: ignore[attr-defined]


def successive_loops(platform: LocalPlatform) -> tuple[list[bool], int, int]:
    """One client on three successive asyncio.run(), closed only on the last one.

    Returns each loop's session's `closed` once that loop ended, and how many transports and sessions there were.
    """
    client = AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key, **AIOHTTP)
    seen: list[tuple[AiohttpTransport, aiohttp.ClientSession]] = []
    closed: list[bool] = []

    async def on_a_loop(close: bool) -> None:
        for _ in range(3):
            assert (await client.trigger_run(ECHO, {"url": "https://example.com"})).run_id
        transport = transport_of(client)
        assert transport._session is not None
        seen.append((transport, transport._session))
        if close:
            await client.aclose()

    for close in (False, False, True):
        asyncio.run(on_a_loop(close))
        closed.append(seen[-1][1].closed)
    return closed, len({id(transport) for transport, _ in seen}), len({id(session) for _, session in seen})


def test_each_event_loop_gets_its_own_aiohttp_pool(
    cxpa_platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """Pool: one client on successive asyncio.run(): a session per loop, closed as its loop ends, aclose or not."""
    closed, transports, sessions = successive_loops(cxpa_platform)
    assert (transports, sessions) == (3, 3)
    assert closed == [True, True, True], "a session outlived its event loop, open"
    gc.collect()
    unclosed = [record.getMessage() for record in caplog.records if "Unclosed" in record.getMessage()]
    assert unclosed == [], f"aiohttp reported: {unclosed}"


# The wire --------------------------------------------------------------------------------------------


def test_the_request_goes_exactly_as_on_the_default_backend() -> None:
    """Wire: method, target, headers (names, values, order) and body are the same on both backends."""

    def call(client: Any) -> Any:
        async def calls() -> None:
            await client.trigger_run(1, {"topic": "Q3"}, idempotency_key="key-1")
            await client.get_run(1, "run_1")
            await client.cancel_run(1, "run_1", idempotency_key="key-2")

        return calls()

    seen: dict[str, list[tuple[str, str, list[tuple[str, str]], bytes]]] = {}
    with HostileServer(send(success_for, keep_alive=True)) as server:
        for mode in ("async", "async-aiohttp"):
            before = server.count
            outcome = perform(mode, server, call)
            assert outcome.error is None, outcome.describe()
            seen[mode] = [(r.method, r.target, list(r.headers.items()), r.body) for r in server.requests[before:]]
    assert seen["async-aiohttp"] == seen["async"]
    names = [name for name, _ in seen["async"][0][2]]
    assert names == [
        "host",
        "connection",
        "user-agent",
        "authorization",
        "accept",
        "accept-encoding",
        "content-type",
        "idempotency-key",
        "content-length",
    ]
    assert dict(seen["async"][0][2])["user-agent"].startswith("cxpa-sdk-python/")


def test_a_coded_body_arrives_as_sent_and_cookies_are_not_kept() -> None:
    """Wire: a gzip body reaches the SDK undecoded (it decodes it); a Set-Cookie is never sent back."""
    wire = gzip.compress(b'{"runId": "run_1", "status": "queued"}', mtime=0)
    coded = response(202, wire, {"Content-Type": "application/json", "Content-Encoding": "gzip", "Set-Cookie": "a=b"})

    async def main(base_url: str) -> list[bytes]:
        async with AiohttpTransport(verify=False, limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS) as transport:
            for _ in range(2):
                answer = await transport.handle_async_request(httpx2.Request("POST", base_url + "/a", content=b"{}"))
                raw = [piece async for piece in answer.stream]
                await answer.aclose()
                assert answer.headers["set-cookie"] == "a=b"
        async with aiohttp_client(base_url) as client:
            for _ in range(2):
                assert (await client.trigger_run(1, {})).run_id == "run_1"
        return raw

    with HostileServer(send(coded, keep_alive=True)) as server:
        raw = asyncio.run(main(server.base_url))
        assert b"".join(raw) == wire
        assert server.header("cookie") == [None] * 4


def test_a_body_comes_in_pieces_of_at_most_256_kib() -> None:
    """Wire: an answer's body is read from aiohttp in pieces of at most 256 KiB, whatever the server sends at once."""
    size = 3 << 20
    answer = response(200, bytes(size), FILE_HEADERS)

    async def main(base_url: str) -> list[int]:
        async with AiohttpTransport(verify=False, limits=DEFAULT_LIMITS, socket_options=SOCKET_OPTIONS) as transport:
            got = await transport.handle_async_request(httpx2.Request("GET", base_url + "/f"))
            sizes = [len(piece) async for piece in got.stream]
            await got.aclose()
            return sizes

    with HostileServer(send(answer)) as server:
        sizes = asyncio.run(main(server.base_url))
    assert sum(sizes) == size
    assert max(sizes) <= READ_MAX == 256 << 10


# Truthful errors ----------------------------------------------------------------------------------------


def request(url: str, *, deadline: float = 30.0, body: bytes = b"{}", **timeouts: float) -> httpx2.Request:
    """A request as the engine builds it: per-phase timeouts and the call's deadline in its extensions."""
    phases = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 5.0, **timeouts}
    return httpx2.Request(
        "POST",
        url,
        content=body,
        headers={"Authorization": f"Bearer {KEY}"},
        extensions={"timeout": phases, EXTENSION: time.monotonic() + deadline},
    )


def outcome_of(url: str, *, socket_options: list[tuple[int, int, int]] | None = None, **options: Any) -> Exception:
    """The error one request (headers, then its whole body) raised on a fresh AiohttpTransport."""
    options_ = socket_options if socket_options is not None else SOCKET_OPTIONS

    async def main() -> Exception:
        async with AiohttpTransport(verify=False, limits=DEFAULT_LIMITS, socket_options=options_) as transport:
            try:
                answer = await transport.handle_async_request(request(url, **options))
                try:
                    async for _ in answer.stream:
                        pass
                finally:
                    await answer.aclose()
            except Exception as exc:
                return exc
            raise AssertionError("the request succeeded")

    return asyncio.run(main())


def close_after_reading(conn: socket.socket, request: Request, stop: threading.Event) -> None:
    """Read the request, close without a word."""
    shut(conn)


def reset_after_reading(conn: socket.socket, request: Request, stop: threading.Event) -> None:
    """Read the request, reset the connection."""
    reset(conn)
    conn.close()


AFTER_SENDING: dict[str, Callable[[], HostileServer]] = {
    "closed_without_answering": lambda: HostileServer(close_after_reading),
    "reset_without_answering": lambda: HostileServer(reset_after_reading),
    "half_a_status_line": lambda: HostileServer(send(b"HTTP/1.1 20")),
    "garbage": lambda: HostileServer(send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")),
    "closed_mid_body": lambda: HostileServer(send(response(200, b"%PDF", {**FILE_HEADERS, "Content-Length": "100"}))),
    "closed_mid_chunk": lambda: HostileServer(send(response(200, b"5\r\nab", {"Transfer-Encoding": "chunked"}))),
    "bad_chunk_size": lambda: HostileServer(send(response(200, b"zz\r\nab\r\n", {"Transfer-Encoding": "chunked"}))),
}


@pytest.mark.parametrize("behaviour", sorted(AFTER_SENDING))
def test_a_failure_after_sending_is_never_a_connect_error(behaviour: str) -> None:
    """Errors: a server that took the request, then failed it: RemoteProtocolError or ReadError, never Connect*."""
    with AFTER_SENDING[behaviour]() as server:
        error = outcome_of(server.base_url + "/x")
    assert isinstance(error, httpx2.RemoteProtocolError | httpx2.ReadError), repr(error)
    assert not isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout)
    assert isinstance(error.__cause__, aiohttp.ClientError), repr(error.__cause__)
    assert KEY not in str(error)


def test_a_refused_connection_is_a_connect_error() -> None:
    """Errors: connection refused is httpx2.ConnectError (the SDK: not applied)."""
    error = outcome_of(refused_url() + "/x")
    assert type(error) is httpx2.ConnectError
    assert isinstance(error.__cause__, aiohttp.ClientConnectorError)


def test_an_unknown_host_is_a_connect_error() -> None:
    """Errors: a name that does not resolve is ConnectError (or, with no resolver answering, ConnectTimeout)."""
    error = outcome_of("http://no-such-host.invalid/x", connect=3.0)
    assert type(error) in (httpx2.ConnectError, httpx2.ConnectTimeout), repr(error)


def test_a_failed_tls_handshake_is_a_connect_error() -> None:
    """Errors: a TLS handshake that fails (the server speaks plain HTTP) is ConnectError: nothing was sent."""
    with HostileServer(send(response(200, "plain")), read="nothing") as server:
        error = outcome_of(server.base_url.replace("http://", "https://") + "/x")
    assert type(error) is httpx2.ConnectError
    assert isinstance(error.__cause__, aiohttp.ClientSSLError)


@pytest.fixture
def unaccepting() -> Any:
    """A listener whose backlog is full: a new connection's SYN is dropped, so connecting waits."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # connecting goes on in the kernel's backlog
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/x"
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a full listen backlog drops SYNs on Linux")
def test_a_connect_timeout_is_a_connect_timeout(unaccepting: str) -> None:
    """Errors: connecting past `connect` is ConnectTimeout; the deadline passing while connecting is too."""
    started = time.monotonic()
    assert type(outcome_of(unaccepting, connect=0.3)) is httpx2.ConnectTimeout
    assert type(outcome_of(unaccepting, connect=30.0, deadline=0.3)) is httpx2.ConnectTimeout
    assert time.monotonic() - started < 3.0


def test_a_read_timeout_and_the_deadline_while_waiting_are_read_timeouts() -> None:
    """Errors: no answer within `read` is ReadTimeout; the deadline passing while waiting for one is too."""
    with HostileServer(stall(3.0)) as server:
        started = time.monotonic()
        assert type(outcome_of(server.base_url + "/x", read=0.3)) is httpx2.ReadTimeout
        assert type(outcome_of(server.base_url + "/x", deadline=0.3)) is httpx2.ReadTimeout
        assert time.monotonic() - started < 2.0


def test_a_body_not_taken_in_time_is_a_write_timeout() -> None:
    """Errors: a server that reads nothing of a 1 MiB body gives WriteTimeout after `write` (and by the deadline)."""
    small_buffer = [*SOCKET_OPTIONS, (socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]  # no kernel takes it all in
    body = b"x" * 1_000_000
    with HostileServer(stall(3.0), read="head", rcvbuf=4096) as server:
        started = time.monotonic()
        error = outcome_of(server.base_url + "/x", socket_options=small_buffer, body=body, write=0.3)
        assert type(error) is httpx2.WriteTimeout, repr(error)
        error = outcome_of(server.base_url + "/x", socket_options=small_buffer, body=body, deadline=0.3)
        assert type(error) is httpx2.WriteTimeout, repr(error)
        assert time.monotonic() - started < 2.0


def test_waiting_for_a_free_connection_past_the_pool_timeout_is_a_pool_timeout() -> None:
    """Errors: with the one connection held by an open body, the next request gives PoolTimeout after `pool`."""
    one = httpx2.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=30.0)

    async def main(base_url: str) -> None:
        async with AiohttpTransport(verify=False, limits=one, socket_options=SOCKET_OPTIONS) as transport:
            held = await transport.handle_async_request(request(base_url + "/x"))
            started = time.monotonic()
            with pytest.raises(httpx2.PoolTimeout):
                await transport.handle_async_request(request(base_url + "/x", pool=0.3))
            with pytest.raises(httpx2.PoolTimeout):
                await transport.handle_async_request(request(base_url + "/x", pool=30.0, deadline=0.3))
            assert time.monotonic() - started < 2.0
            await held.aclose()
            answer = await transport.handle_async_request(request(base_url + "/x"))
            assert answer.status_code == 202
            await answer.aclose()

    with HostileServer(send(TRIGGERED, keep_alive=True)) as server:
        asyncio.run(main(server.base_url))


# Bounds on bodies -----------------------------------------------------------------------------------------


def test_a_dripping_body_ends_by_the_deadline() -> None:
    """Deadline: a body sent one byte every half second ends a 3 s call by about 4 s (APITimeoutError)."""
    head = response(202, headers={"Content-Type": "application/json", "Content-Length": "100000"})
    with HostileServer(drip(head, 6.0, every=0.5)) as server:
        outcome = perform("async-aiohttp", server, lambda c: c.trigger_run(1, {}), deadline=3.0)
    assert type(outcome.error).__name__ == "APITimeoutError", outcome.describe()
    assert outcome.elapsed < 4.0, f"the 3 s call took {outcome.elapsed:.2f} s"


DOWNLOAD_IN_A_CHILD = """
import asyncio, json, sys, tracemalloc
from cxpa_sdk import AsyncCxpa

async def main() -> None:
    total = 0
    async with AsyncCxpa(base_url=sys.argv[1], ingest_api_key="key", http_backend="aiohttp", deadline=60.0) as client:
        tracemalloc.start()
        async with client.trigger_run_and_download(4, {}) as download:
            async for chunk in download.iter_bytes():
                total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps({"total": total, "peak": peak}))

asyncio.run(main())
"""


def test_a_streamed_download_stays_flat_in_memory() -> None:
    """Memory: a 64 MiB download read with iter_bytes on aiohttp peaks under 2 MiB of Python memory.

    The download runs in a child process that does nothing else, so its tracemalloc peak is the
    download's own: in this process the server's threads and other tests' leftovers would count too.
    """
    size, piece = 64 << 20, bytes(64 << 10)

    def stream(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        conn.sendall(response(200, headers={**FILE_HEADERS, "Content-Length": str(size)}))
        for _ in range(size // len(piece)):
            if stop.is_set():
                return
            conn.sendall(piece)

    with HostileServer(stream, conn_timeout=30.0) as server:
        child = subprocess.run(
            [sys.executable, "-c", DOWNLOAD_IN_A_CHILD, server.base_url],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert child.returncode == 0, child.stderr[-2000:]
    measured = json.loads(child.stdout)
    assert measured["total"] == size
    assert measured["peak"] < 2 << 20, f"the download's memory peak was {measured['peak'] / 2**20:.1f} MiB"
