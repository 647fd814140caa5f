"""A journaled job killed with SIGKILL at random moments, then rerun: every item once, no run twice."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import ECHO, LocalPlatform

ITEMS = 600
KILLS = 4
# A child that never gets to its kill moment is killed by this clock (and the test then fails).
CHILD_TIMEOUT_S = 60.0

CHILD = textwrap.dedent(
    """
    import sys
    from cxpa_sdk import {client}
    import asyncio

    base_url, key, journal, items = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    inputs = ({{"n": n}} for n in range(items))

    def sync():
        with Cxpa(base_url=base_url, ingest_api_key=key) as client:
            for item in client.run_many({agent}, inputs, journal=journal, batch_size=40, item_timeout=60):
                print(item.index, flush=True)

    async def main():
        async with AsyncCxpa(base_url=base_url, ingest_api_key=key) as client:
            async for item in client.run_many({agent}, inputs, journal=journal, batch_size=40, item_timeout=60):
                print(item.index, flush=True)

    sync() if "{client}" == "Cxpa" else asyncio.run(main())
    """
)


@pytest.mark.parametrize("client", ["Cxpa", "AsyncCxpa"])
def test_killed_jobs_rerun_with_their_journal_trigger_every_item_once(
    client: str, cxpa_platform: LocalPlatform, tmp_path: Path
) -> None:
    """KILLS children killed at random moments, then a rerun to the end: ITEMS results, ITEMS runs made."""
    journal = tmp_path / "job.sqlite"
    before = len(cxpa_platform.runs(ECHO))
    code = CHILD.format(client=client, agent=ECHO)
    argv = [sys.executable, "-c", code, cxpa_platform.base_url, cxpa_platform.ingest_key, str(journal), str(ITEMS)]
    chance = random.Random(os.environ.get("CXPA_CRASH_SEED", "7"))
    # Each child is killed once it has printed more results than the one before it was killed at (a
    # rerun prints the journal's finished items again first), plus a random few milliseconds: a moment
    # paced on the job's progress, not on the clock, so a slow or a quick machine kills mid-job alike.
    targets = sorted(chance.sample(range(20, ITEMS - 40), KILLS))
    printed = []
    for target in targets:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(CHILD_TIMEOUT_S, child.kill)
        watchdog.start()
        assert child.stdout is not None
        count = 0
        while count < target and child.stdout.readline():
            count += 1
        time.sleep(chance.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        watchdog.cancel()
        assert count == target or child.returncode == 0, f"a child failed before it was killed: {err}"
        printed.append(count + len(out.splitlines()))
    print("results printed by each killed child:", printed)
    assert any(0 < count < ITEMS for count in printed), "no child was killed in the middle of its job"
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as sync_client:
        items = list(sync_client.run_many(ECHO, ({"n": n} for n in range(ITEMS)), journal=journal, item_timeout=60))
    assert sorted(item.index for item in items) == list(range(ITEMS))
    assert all(item.ok and item.run.output_data == {"n": item.index} for item in items)
    made = cxpa_platform.runs(ECHO)[before:]
    assert len(made) == ITEMS, "a run was made twice (or not at all)"
    assert sorted(run["input_data"]["n"] for run in made) == list(range(ITEMS))
