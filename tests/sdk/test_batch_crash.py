"""A journaled job killed with SIGKILL at random moments, then rerun: every item once, no run twice."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import ECHO, LocalPlatform

ITEMS = 600
KILLS = 4

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
    printed = []
    for _ in range(KILLS):
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(chance.uniform(0.5, 2.0))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        printed.append(len(out.splitlines()))
    print("results printed by each killed child:", printed)
    assert any(0 < count < ITEMS for count in printed), "no child was killed in the middle of its job"
    with Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as sync_client:
        items = list(sync_client.run_many(ECHO, ({"n": n} for n in range(ITEMS)), journal=journal, item_timeout=60))
    assert sorted(item.index for item in items) == list(range(ITEMS))
    assert all(item.ok and item.run.output_data == {"n": item.index} for item in items)
    made = cxpa_platform.runs(ECHO)[before:]
    assert len(made) == ITEMS, "a run was made twice (or not at all)"
    assert sorted(run["input_data"]["n"] for run in made) == list(range(ITEMS))
