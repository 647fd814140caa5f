"""Callbacks of the built-in runtimes, sent over real HTTP through the generated client."""

from __future__ import annotations

from typing import Any

import httpx

from cxpa_api import AuthenticatedClient
from cxpa_api.api.runtimes import post_callback
from cxpa_api.models import OutputEvent, RunError, StartedEvent, WaitingEvent

from ._runtime import RuntimeCall

_TIMEOUT = httpx.Timeout(10.0)


class Reporter:
    """Sends one run's callback events to the platform, as a runtime would; raises on a non-200 answer."""

    def __init__(self, call: RuntimeCall, transport: httpx.BaseTransport) -> None:
        self._run_id = call.run_id
        self._client = AuthenticatedClient(
            base_url=call.base_url,
            token=call.payload["agentApiKey"],
            timeout=_TIMEOUT,
            httpx_args={"transport": transport},
        )

    def _send(self, event: StartedEvent | OutputEvent | WaitingEvent) -> None:
        answer = post_callback.sync_detailed(self._run_id, client=self._client, body=event)
        if answer.status_code != 200:
            raise RuntimeError(f"callback answered {int(answer.status_code)}: {answer.content[:200]!r}")

    def started(self) -> None:
        """Report that the runtime began work."""
        self._send(StartedEvent(type_="started"))

    def complete(self, output: Any, outputs: int | None = None) -> None:
        """End the run completed with its output."""
        event = OutputEvent(type_="output", output=output, complete=True)
        if outputs is not None:
            event.outputs = outputs
        self._send(event)

    def fail(self, message: str, name: str, stack: str) -> None:
        """End the run failed."""
        self._send(OutputEvent(type_="output", failed=True, error=RunError(message=message, name=name, stack=stack)))

    def waiting(self, token_id: str, description: str) -> None:
        """Pause the run on a token."""
        self._send(WaitingEvent(type_="waiting", token_id=token_id, description=description))
