"""Fixtures for the SDK's tests: clients on the served local platform, backoff sleeps recorded."""

from collections.abc import Iterator

import pytest
from sdk_support import MODES, Api

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import LocalPlatform


@pytest.fixture
def slept() -> list[float]:
    """The backoff sleeps a client asked for (recorded, not slept)."""
    return []


@pytest.fixture
def client(cxpa_platform: LocalPlatform, slept: list[float]) -> Iterator[Cxpa]:
    """A sync client on the served platform whose backoff sleeps are recorded instead of slept."""
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as sync_client:
        sync_client._sleep = slept.append
        yield sync_client


@pytest.fixture(params=MODES)
def api(request: pytest.FixtureRequest, cxpa_platform: LocalPlatform, slept: list[float]) -> Iterator[Api]:
    """The same calls through Cxpa, AsyncCxpa, and AsyncCxpa on the aiohttp backend."""
    made = Api(request.param, cxpa_platform, slept)
    yield made
    made.close()
