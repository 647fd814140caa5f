"""Users who pass objects of httpx 0.28, which the SDK ran on before httpx2: taken when safe, else a clear error.

An `httpx.Timeout` is four numbers and is taken. An `httpx.Client` is refused when the client is
built, before anything is sent, with a message that says what to pass instead: its errors,
timeouts, pool and sockets are httpx's, which none of the SDK's promises are built on.
"""

import asyncio

import httpx
import httpx2
import pytest

from cxpa_sdk import AgentClient, AsyncAgentClient, AsyncCxpa, Cxpa, InvalidArgumentTypeError
from cxpa_sdk.testing import ECHO, LocalPlatform

AGENT = {"api_key": "agent-key", "run_id": "run_1", "base_url": "http://127.0.0.1:1"}


@pytest.mark.parametrize(
    ("make", "brought", "wanted"),
    [
        (lambda h: Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=h), httpx.Client, "Client"),
        (
            lambda h: AsyncCxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=h),
            httpx.AsyncClient,
            "AsyncClient",
        ),
        (lambda h: AgentClient(**AGENT, http_client=h), httpx.Client, "Client"),
        (lambda h: AsyncAgentClient(**AGENT, http_client=h), httpx.AsyncClient, "AsyncClient"),
    ],
    ids=["Cxpa", "AsyncCxpa", "AgentClient", "AsyncAgentClient"],
)
def test_an_httpx_client_is_refused_with_what_to_pass(make: object, brought: type, wanted: str) -> None:
    """An httpx (0.28) client: InvalidArgumentTypeError naming httpx2.<kind> and how to build it."""
    http = brought()
    try:
        with pytest.raises(InvalidArgumentTypeError) as caught:
            make(http)  # type: ignore[operator]
    finally:
        if isinstance(http, httpx.Client):
            http.close()
        else:
            asyncio.run(http.aclose())
    message = str(caught.value)
    assert f"http_client must be an httpx2.{wanted}, not an httpx.{brought.__name__}" in message
    assert f"httpx2.{wanted}(...)" in message


@pytest.mark.parametrize("wrong", [httpx2.AsyncClient, dict])
def test_a_client_of_the_wrong_kind_is_refused(wrong: type) -> None:
    """An async httpx2 client (or anything else) for the sync Cxpa: a typed error naming httpx2.Client."""
    with pytest.raises(InvalidArgumentTypeError, match=r"http_client must be an httpx2\.Client, not "):
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", http_client=wrong())


def test_an_httpx_timeout_is_taken_phase_by_phase(cxpa_platform: LocalPlatform) -> None:
    """timeout=httpx.Timeout(...) works as the same httpx2.Timeout; an unbounded phase is still refused."""
    legacy = httpx.Timeout(connect=2.0, read=7.0, write=3.0, pool=4.0)
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key, timeout=legacy) as client:
        assert client.timeout == httpx2.Timeout(connect=2.0, read=7.0, write=3.0, pool=4.0)
        assert client.trigger_run(ECHO, {"url": "https://example.com"}).run_id.startswith("run_")
    with pytest.raises(ValueError, match=r"timeout\.read must be finite"):
        Cxpa(base_url="http://127.0.0.1:1", ingest_api_key="k", timeout=httpx.Timeout(5.0, read=None))
