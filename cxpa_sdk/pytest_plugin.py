"""The pytest plugin of cxpa-sdk: a served local platform as a fixture.

Installed with `cxpa-sdk[testing]` (entry point `pytest11`); it imports nothing heavy until a
fixture is used.

Fixtures:
    cxpa_platform: A served `LocalPlatform` (one per test session), its faults reset after each test.
        `cxpa_platform.base_url` and `cxpa_platform.ingest_key` configure a client.
    cxpa_client: A `cxpa_sdk.Cxpa` bound to `cxpa_platform` (closed after the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cxpa_sdk import Cxpa
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
