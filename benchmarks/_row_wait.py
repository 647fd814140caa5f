"""Row 6: how long after a run ends `trigger_run_and_wait` returns, on the local platform.

The platform (cxpa_sdk.testing.LocalPlatform, served in a thread of this process) runs built-in agent 2
("slow") for the requested seconds. The latency is the wall clock when the call returned minus the
run's `finished_at` (stored to the millisecond, truncated: up to 1 ms of the figure is that truncation).
The raw side is one httpx POST to trigger-and-wait with the same body, for reference.
"""

from __future__ import annotations

import datetime

from benchmarks._common import encode, raw_client, raw_headers
from benchmarks._result import RowResult, Scale
from benchmarks._runner import alternate
from cxpa_sdk import Cxpa
from cxpa_sdk.testing import SLOW, LocalPlatform

GOAL_MS = 20.0
WAIT_MS = 30_000


def _latency_ms(platform: LocalPlatform, run_id: str, returned: datetime.datetime) -> float:
    """Milliseconds between the run's end on the platform and `returned`."""
    finished = platform.run(run_id)["finished_at"]
    if finished is None:
        raise RuntimeError(f"run {run_id} has not finished")
    return (returned - datetime.datetime.fromisoformat(finished)).total_seconds() * 1000


def run(scale: Scale) -> list[RowResult]:
    """Measure the latency pair alternately."""
    run_input = {"seconds": scale.wait_seconds}
    platform = LocalPlatform()
    with platform.serve() as base_url, Cxpa(base_url=base_url, ingest_api_key=platform.ingest_key) as client:
        url = f"{base_url}/api/agents/{SLOW}/runs/trigger-and-wait"
        body = encode({"input": run_input, "timeoutMs": WAIT_MS})
        authorization = {"Authorization": f"Bearer {platform.ingest_key}"}
        with raw_client() as http:

            def sdk() -> float:
                run = client.trigger_run_and_wait(SLOW, run_input, timeout_ms=WAIT_MS)
                returned = datetime.datetime.now(datetime.UTC)
                if run.timed_out or run.status != "completed":
                    raise RuntimeError(f"the slow run ended {run.status}")
                return _latency_ms(platform, run.run_id, returned)

            def raw() -> float:
                response = http.post(url, content=body, headers=raw_headers() | authorization)
                returned = datetime.datetime.now(datetime.UTC)
                if response.status_code != 200:
                    raise RuntimeError(f"raw trigger-and-wait answered {response.status_code}")
                return _latency_ms(platform, response.json()["id"], returned)

            pairs = alternate(sdk, raw, reps=scale.wait_reps)
    return [
        RowResult(
            6,
            f"wait latency: `trigger_run_and_wait` on a {scale.wait_seconds * 1000:.0f} ms run, "
            "return time - `finished_at`",
            f"{pairs.sdk_median:.1f} ms",
            f"{pairs.raw_median:.1f} ms",
            f"{pairs.ratio_median:.2f}",
            f"SDK median < {GOAL_MS:.0f} ms",
            pairs.sdk_median < GOAL_MS,
            [
                f"{pairs.reps} pairs after a warm-up pair, local platform in a thread of the benchmark process; "
                "finished_at is truncated to the millisecond, so up to 1 ms of each figure is truncation."
            ],
        )
    ]
