"""How many connections N concurrent `wait_for_run` calls of one AsyncCxpa open, sharing waits and not.

`python -m benchmarks._probe_waits [N]` serves a LocalPlatform in this process, starts N runs of
the `slow` agent (1 to 2.5 s) on a client of its own, then waits for them all at once on a fresh
`AsyncCxpa` behind the counting relay (`_relay`): once as the SDK does (50 held waits, the rest
shared on batched `wait_for_runs` requests), once with every wait held on its own connection
(`HELD_WAITS` raised past N, the SDK before shared waits). It prints the most connections open at
once, the connections opened in all and the wall time of each.
"""

from __future__ import annotations

import asyncio
import sys
import time

from benchmarks._relay import counting_relay
from cxpa_sdk import AsyncCxpa, _waits
from cxpa_sdk.testing import SLOW, LocalPlatform


async def _measure(platform: LocalPlatform, calls: int, held: int) -> str:
    _waits.HELD_WAITS = held
    async with AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key) as client:
        handles = await asyncio.gather(
            *(client.trigger_run(SLOW, {"seconds": 1.0 + (i % 4) * 0.5}) for i in range(calls))
        )
    port = int(platform.base_url.rsplit(":", 1)[1])
    with counting_relay(port) as counts:
        async with AsyncCxpa(base_url=counts.url, ingest_api_key=platform.ingest_key) as client:
            started = time.perf_counter()
            runs = await asyncio.gather(*(client.wait_for_run(SLOW, h.run_id, timeout=60) for h in handles))
            took = time.perf_counter() - started
    statuses = sorted({run.status.value for run in runs})
    return (
        f"held waits {min(held, calls)}: {calls} waits, at most {counts.most_open} connections open at once, "
        f"{counts.opened} opened, wall {took:.2f} s, statuses {statuses}"
    )


def main(argv: list[str]) -> None:
    """Measure with shared waits, then with every wait held."""
    calls = int(argv[0]) if argv else 300
    platform = LocalPlatform(runtime_workers=calls + 50)
    with platform.serve():
        shared = _waits.HELD_WAITS
        print(asyncio.run(_measure(platform, calls, shared)))
        print(asyncio.run(_measure(platform, calls, calls + 1)))


if __name__ == "__main__":
    main(sys.argv[1:])
