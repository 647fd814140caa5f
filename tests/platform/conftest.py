"""Helpers for the local platform's tests: an HTTP client with the ingest key, and a manual agent."""

from collections.abc import Iterator

import httpx2
import pytest

from cxpa_sdk.testing import LocalPlatform


@pytest.fixture
def http(cxpa_platform: LocalPlatform) -> Iterator[httpx2.Client]:
    """A raw httpx client on the served platform, sending the ingest key."""
    headers = {"Authorization": f"Bearer {cxpa_platform.ingest_key}"}
    with httpx2.Client(base_url=cxpa_platform.base_url, headers=headers, timeout=30) as client:
        yield client
