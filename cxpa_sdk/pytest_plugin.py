"""The pytest plugin of cxpa-sdk: a served local platform as a fixture.

Installed with `cxpa-sdk[testing]` (entry point `pytest11`); it imports nothing heavy until a
fixture is used.

Fixtures:
    cxpa_platform: A served `LocalPlatform` (one per test session), its faults reset after each test.
        `cxpa_platform.base_url` and `cxpa_platform.ingest_key` configure a client.
    cxpa_client: A `cxpa_sdk.Cxpa` bound to `cxpa_platform` (closed after the test).
    cxpa_async_client: A `cxpa_sdk.AsyncCxpa` bound to `cxpa_platform`, opened and closed on the
        test's own event loop. An async fixture: it needs the runner of your async tests, anyio's
        plugin (`@pytest.mark.anyio`; anyio comes with the `testing` extra, through Starlette) or
        pytest-asyncio (`asyncio_mode = "auto"`). AsyncCxpa runs on asyncio: under anyio's trio
        backend the fixture fails with a message that says to pin `anyio_backend` to "asyncio".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from cxpa_sdk import AsyncCxpa, Cxpa
    from cxpa_sdk.testing import LocalPlatform


@pytest.fixture(scope="session")
def cxpa_platform_session() -> Iterator[LocalPlatform]:
    """One LocalPlatform served on loopback for the whole test session."""
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415 - keep plugin loading light

    platform = LocalPlatform()
    with platform.serve():
        yield platform


@pytest.fixture
def cxpa_platform(cxpa_platform_session: LocalPlatform) -> Iterator[LocalPlatform]:
    """The session's served LocalPlatform, with every injected fault removed after the test."""
    yield cxpa_platform_session
    cxpa_platform_session.reset_faults()


@pytest.fixture
def cxpa_client(cxpa_platform: LocalPlatform) -> Iterator[Cxpa]:
    """A Cxpa client bound to the served local platform."""
    from cxpa_sdk import Cxpa  # noqa: PLC0415 - keep plugin loading light

    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        yield client


@pytest.fixture
async def cxpa_async_client(cxpa_platform: LocalPlatform) -> AsyncIterator[AsyncCxpa]:
    """An AsyncCxpa client bound to the served local platform, closed on the test's event loop."""
    import asyncio  # noqa: PLC0415 - keep plugin loading light

    from cxpa_sdk import AsyncCxpa  # noqa: PLC0415 - keep plugin loading light

    if not _on_asyncio(asyncio):
        pytest.fail(
            "cxpa_async_client needs an asyncio event loop, and this test runs on another one (trio?): "
            "AsyncCxpa runs on asyncio. With anyio's plugin, add to conftest.py an `anyio_backend` "
            "fixture that returns 'asyncio'.",
            pytrace=False,
        )
    async with AsyncCxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        yield client


def _on_asyncio(asyncio: Any) -> bool:
    """Whether the caller runs on an asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
