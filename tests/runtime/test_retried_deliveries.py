"""The runtime host's 503 to a trigger past its bound, retried by the local platform: the run is not lost.

The host answers `503` + `Retry-After` before it verifies a delivery, so the platform's retry of the
same delivery (same `webhook-id`, fresh timestamp and signature) is no replay: both runs complete,
each agent function called once.
"""

from __future__ import annotations

import threading
from typing import Any

from runtime_support import Gate, eventually, runtime_for, settled

from cxpa_sdk import Cxpa
from cxpa_sdk.runtime import SyncRunContext
from cxpa_sdk.testing import LocalPlatform
from cxpa_sdk.testing._server import serve_in_thread


class Answers:
    """An ASGI wrapper around the host's app that keeps each POST's path, `webhook-id` and status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Pass the request on; keep what it was answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        delivery_id = headers.get(b"webhook-id", b"").decode()

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                with self._lock:
                    self.seen.append((scope["path"], delivery_id, message["status"]))
            await send(message)

        await self.app(scope, receive, keep)

    def statuses(self) -> list[tuple[str, int]]:
        """Each answer's `webhook-id` and status, in order."""
        with self._lock:
            return [(delivery_id, status) for _, delivery_id, status in self.seen]


def test_a_trigger_past_the_bound_is_retried_and_runs_once(platform: LocalPlatform, client: Cxpa) -> None:
    """max_concurrency=1, max_queued=0: the second trigger is answered 503, sent again, taken; both runs complete."""
    runtime = runtime_for(platform, max_concurrency=1, max_queued=0, retry_after=1)
    gate = Gate()
    started: list[str] = []

    @runtime.agent("one-at-a-time")
    def one_at_a_time(run: SyncRunContext) -> dict[str, int]:
        started.append(run.run_id)
        assert gate.wait()
        return {"n": run.input["n"]}

    answers = Answers(runtime.asgi())
    with serve_in_thread(answers) as url:
        agent = platform.add_agent("one-at-a-time", f"{url}/agents/one-at-a-time")
        first = client.trigger_run(agent.id, {"n": 1}).run_id
        eventually(lambda: started == [first], "the first run started")
        second = client.trigger_run(agent.id, {"n": 2}).run_id
        eventually(lambda: any(status == 503 for _, status in answers.statuses()), "the second trigger was refused")
        gate.open()
        rows = [settled(platform, run_id, "completed", "failed") for run_id in (first, second)]
    assert [(row["status"], row["output_data"]) for row in rows] == [("completed", {"n": 1}), ("completed", {"n": 2})]
    assert started == [first, second]  # each agent function called once
    (taken_first, *retried) = answers.statuses()
    assert taken_first[1] == 202
    assert {delivery_id for delivery_id, _ in retried} == {retried[0][0]} != {taken_first[0]}
    *refusals, taken = [status for _, status in retried]
    assert (set(refusals), taken) == ({503}, 202)
