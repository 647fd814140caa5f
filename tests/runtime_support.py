"""Serving a runtime host on loopback for the local platform to deliver to, and waiting on what it reports."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from delivery_support import new_secret

from cxpa_sdk.runtime import Runtime
from cxpa_sdk.testing import LocalPlatform
from cxpa_sdk.testing._server import serve_in_thread

SECRET = new_secret()
SETTLE_S = 15.0  # the longest a test waits for a run to reach a state, in seconds


@contextmanager
def serving(runtime: Runtime, platform: LocalPlatform, port: int = 0) -> Iterator[str]:
    """Serve the runtime's app under uvicorn on 127.0.0.1; yield its base URL."""
    with serve_in_thread(runtime.asgi(), port=port) as url:
        yield url


def runtime_for(platform: LocalPlatform, **options: Any) -> Runtime:
    """A Runtime that reports to `platform` and trusts the test secret."""
    return Runtime(base_url=platform.base_url, secrets=SECRET, **options)


def settled(platform: LocalPlatform, run_id: str, *statuses: str) -> dict[str, Any]:
    """The run's row once its status is one of `statuses` (within SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while (row := platform.run(run_id))["status"] not in statuses:
        assert time.monotonic() < deadline, f"run {run_id} is {row['status']}, not {statuses}"
        time.sleep(0.01)
    return row


def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait (within SETTLE_S) until `condition()` holds."""
    deadline = time.monotonic() + SETTLE_S
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def event_types(platform: LocalPlatform, run_id: str) -> list[str]:
    """The run's recorded event types, oldest first."""
    return [str(event.get("type")) for event in platform.run_events(run_id)]


class Gate:
    """A thread-safe gate a test opens to let an agent function go on (bounded by SETTLE_S)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def open(self) -> None:
        """Let the function go on."""
        self._event.set()

    def wait(self) -> bool:
        """Block until opened; False if SETTLE_S passed first."""
        return self._event.wait(SETTLE_S)
