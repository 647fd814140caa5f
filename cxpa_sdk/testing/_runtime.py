"""What a runtime of the local platform receives and returns: RuntimeCall and RuntimeFile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuntimeCall:
    """One run handed to a Python runtime, as a URL runtime would receive it.

    Attributes:
        payload: The trigger payload JSON: `runId`, `agentId`, `input`, `agentApiKey`, `credentialsToken`,
            and the trigger request's `traceparent` and `tracestate` when it had them.
        base_url: The platform's base URL, for the runtime's callbacks.
        cancelled: Set when the run is cancelled or exceeds its maxRunDurationMs; a runtime should stop.
    """

    payload: dict[str, Any] = field(repr=False)
    base_url: str
    cancelled: threading.Event = field(repr=False)
    _resumed: threading.Event = field(repr=False)
    _resume_values: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def run_id(self) -> str:
        """The run's id."""
        run_id: str = self.payload["runId"]
        return run_id

    @property
    def input(self) -> dict[str, Any]:
        """The run's input."""
        data: dict[str, Any] = self.payload["input"]
        return data

    def wait_for_resume(self, timeout: float) -> dict[str, Any] | None:
        """Block until the run's waiting token is resumed (`LocalPlatform.resume`); its output, or None.

        Returns None when `timeout` seconds pass or the run is cancelled first.
        """
        deadline = time.monotonic() + timeout
        while not self.cancelled.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._resumed.wait(min(0.05, left)):
                return dict(self._resume_values)
        return None


@dataclass(frozen=True)
class RuntimeFile:
    """The file a `file_download` runtime produces: its chunks and what the caller's headers say.

    Attributes:
        chunks: The file's bytes, in order; pulled one chunk at a time, never buffered whole.
        filename: The name for Content-Disposition.
        content_type: The media type.
        content_length: The size in bytes when known (sent as Content-Length), else None (chunked).
    """

    chunks: Iterable[bytes] = field(repr=False)
    filename: str = "output.bin"
    content_type: str = "application/octet-stream"
    content_length: int | None = None
