"""Row 7: creating and closing a client, `Cxpa(base_url=..., ingest_api_key=...)` against `httpx2.Client()`."""

from __future__ import annotations

import time

import httpx2

from benchmarks._common import API_KEY
from benchmarks._result import RowResult, Scale
from benchmarks._runner import alternate
from cxpa_sdk import Cxpa

GOAL_MS = 2.0
BASE_URL = "http://127.0.0.1:8787"


def run(scale: Scale) -> list[RowResult]:
    """Measure the creation pair alternately; milliseconds per create-and-close."""
    count = scale.create_count

    def sdk() -> float:
        started = time.perf_counter()
        for _ in range(count):
            Cxpa(base_url=BASE_URL, ingest_api_key=API_KEY).close()
        return (time.perf_counter() - started) / count * 1000

    def raw() -> float:
        started = time.perf_counter()
        for _ in range(count):
            httpx2.Client().close()
        return (time.perf_counter() - started) / count * 1000

    pairs = alternate(sdk, raw, reps=scale.create_reps)
    return [
        RowResult(
            7,
            "client creation: `Cxpa(base_url=..., ingest_api_key=...)` + close vs `httpx2.Client()` + close",
            f"{pairs.sdk_median:.2f} ms",
            f"{pairs.raw_median:.2f} ms",
            f"{pairs.ratio_median:.3f}",
            f"SDK < {GOAL_MS:.0f} ms",
            pairs.sdk_median < GOAL_MS,
            [
                f"{pairs.reps} pairs of {count} creations each, after a warm-up pair. httpx2.Client() builds a new "
                "SSL context (certifi bundle) every time; the SDK builds one per process and reuses it."
            ],
        )
    ]
