"""The runtime host's tests: one local platform (signing its deliveries with the test secret) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from runtime_support import SECRET

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import LocalPlatform


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    """A local platform that signs every delivery to a URL runtime with SECRET, with a demo credential."""
    served = LocalPlatform(signing_secret=SECRET)
    with served.serve():
        served.add_credential("conn_runtime", "api_key", {"apiKey": "key-from-the-vault"})
        yield served


@pytest.fixture
def client(platform: LocalPlatform) -> Iterator[Cxpa]:
    """A client that triggers and cancels runs on the platform."""
    with Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as made:
        yield made
