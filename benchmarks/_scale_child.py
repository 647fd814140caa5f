"""Row 14's client: one measurement of many runs in a fresh process, printed as one JSON line.

`python -m benchmarks._scale_child MODE --base-url URL --agent ID --runs N [--seconds S]` runs, on one
sync `Cxpa`, after a warm-up of WARMUP runs (the client built, its connections open, the spec loaded):

- `trigger-many`: `trigger_many` over N items (the batch endpoint, 1000 items a request), every
  handle dropped as it comes;
- `trigger-single`: a loop of N `trigger_run` calls;
- `run-many`: `run_many` over N items (default batch size and max_pending), each result dropped;
- `pending`: `run_many` over N items with max_pending=N, each run lasting `S` seconds (`input.seconds`,
  long enough for all N to be triggered before the first ends), for the memory a pending run costs.

It prints `{"wall_s", "cpu_s", "rss_before_kib", "peak_kib", "ok", "errors"}`: the wall and CPU time
(user + system, `resource.getrusage` of this process) of the measured part, the resident memory
before it and its peak during it (VmHWM, reset through /proc/self/clear_refs before it), and the
items that completed or not.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import API_KEY
from cxpa_sdk import Cxpa

WARMUP = 200
MODES = ("trigger-many", "trigger-single", "run-many", "pending")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Reset VmHWM to the current VmRSS (Linux: write 5 to /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def _items(count: int, seconds: float | None) -> Iterator[dict[str, Any]]:
    extra = {} if seconds is None else {"seconds": seconds}
    return ({"n": n, **extra} for n in range(count))


def _measure(client: Cxpa, mode: str, agent: int, count: int, seconds: float | None) -> tuple[int, int]:
    """Do the measured part; (completed or triggered, errors)."""
    ok = errors = 0
    if mode == "trigger-many":
        for item in client.trigger_many(agent, _items(count, None)):
            ok, errors = (ok + 1, errors) if item.error is None else (ok, errors + 1)
    elif mode == "trigger-single":
        for n in range(count):
            client.trigger_run(agent, {"n": n})
            ok += 1
    else:
        pending = count if mode == "pending" else 1000
        for finished in client.run_many(agent, _items(count, seconds), max_pending=pending, item_timeout=3600):
            done = finished.run is not None and finished.run.status == "completed"
            ok, errors = (ok + 1, errors) if done else (ok, errors + 1)
    return ok, errors


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--agent", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=None, help="each run's input.seconds (mode pending)")
    args = parser.parse_args(argv)
    with Cxpa(base_url=args.base_url, ingest_api_key=API_KEY) as client:
        for _ in client.run_many(args.agent, _items(WARMUP, None)):
            pass
        for n in range(10):
            client.trigger_run(args.agent, {"warm": n})
        _reset_peak()
        rss_before = _status_kib("VmRSS")
        cpu, wall = _cpu_s(), time.perf_counter()
        ok, errors = _measure(client, args.mode, args.agent, args.runs, args.seconds)
        wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
        peak = _status_kib("VmHWM")
    answer = {"wall_s": wall, "cpu_s": cpu, "rss_before_kib": rss_before, "peak_kib": peak, "ok": ok}
    print(json.dumps({**answer, "errors": errors}), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
