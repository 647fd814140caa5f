"""Row 15: a journaled `run_many` job killed with SIGKILL at random moments, then rerun to the end.

The local platform serves in a thread of the benchmark process (so that its runs can be counted), with
an inline agent whose runs complete after INLINE_DELAY_S. The job (`benchmarks._job_child`: N items
keyed `item-<i>`, `run_many(..., journal="job.sqlite")`) runs in a child process that prints a line
per result; the parent kills it with SIGKILL once it has printed k lines, k drawn at random (a
seeded generator; the k of the kills sorted, so that each run gets further), reruns it with the same
journal, and after the last kill reruns it to the end. Duplicates: runs the platform holds for the
agent beyond N. Lost: items without a completed run in the last rerun's results. Both must be 0.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._common import API_KEY, REPO_ROOT
from benchmarks._result import RowResult, Scale
from cxpa_sdk.testing import LocalPlatform

INLINE_DELAY_S = 0.05
SEED = 15
RUN_TIMEOUT_S = 600.0


@dataclass
class Outcome:
    """What the kills and the last rerun came to."""

    kills: list[tuple[int, int]] = field(default_factory=list)  # (k asked, lines printed when killed)
    final: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # key -> (run id, status)
    final_lines: int = 0
    platform_runs: int = 0
    seconds: float = 0.0


def _job(base_url: str, agent: int, items: int, journal: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "benchmarks._job_child", "--base-url", base_url, "--agent", str(agent)]
    command += ["--items", str(items), "--journal", str(journal)]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE)  # noqa: S603 - our own module


def _killed_after(process: subprocess.Popen[bytes], k: int) -> int:
    """Read the job's lines; SIGKILL it after the k-th (or let it end first); how many lines it printed."""
    assert process.stdout is not None  # noqa: S101 - Popen with stdout=PIPE always has it
    printed = 0
    while printed < k and process.stdout.readline():
        printed += 1
    process.kill()
    process.wait(30)
    process.stdout.close()
    return printed


def measure(scale: Scale) -> Outcome:
    """Kill the job `crash_kills` times, rerun it to the end; count the runs and results."""
    items = scale.crash_items
    rng = random.Random(SEED)  # noqa: S311 - kill moments, not security
    moments = sorted(rng.sample(range(1, items), scale.crash_kills))
    outcome = Outcome()
    platform = LocalPlatform(ingest_key=API_KEY, builtin_agents=False)
    agent = platform.add_agent("inline", inline=True, inline_delay_s=INLINE_DELAY_S).id
    started = time.perf_counter()
    with platform.serve() as base_url, tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "job.sqlite"
        for k in moments:
            outcome.kills.append((k, _killed_after(_job(base_url, agent, items, journal), k)))
        last = _job(base_url, agent, items, journal)
        out, _ = last.communicate(timeout=RUN_TIMEOUT_S)
        if last.returncode != 0:
            raise RuntimeError(f"the last rerun exited {last.returncode}")
        for line in out.decode().splitlines():
            key, run_id, status = json.loads(line)
            outcome.final_lines += 1
            outcome.final[key] = (run_id, status)
        outcome.platform_runs = len(platform.runs(agent))
    outcome.seconds = time.perf_counter() - started
    return outcome


def run(scale: Scale) -> list[RowResult]:
    """One line: duplicates and lost items after the kills and the rerun."""
    items = scale.crash_items
    outcome = measure(scale)
    duplicates = outcome.platform_runs - items
    completed = {key for key, (_, status) in outcome.final.items() if status == "completed"}
    lost = items - len(completed)
    run_ids = {run_id for run_id, _ in outcome.final.values()}
    kills = ", ".join(f"after {printed} results" for _, printed in outcome.kills)
    return [
        RowResult(
            15,
            f'crash and rerun: a journaled `Cxpa.run_many` job of {items} items (journal="job.sqlite") in a child '
            f"process, SIGKILLed {len(outcome.kills)} times at random moments, then rerun to the end (duplicate "
            "runs on the platform; items lost)",
            f"{duplicates} duplicates, {lost} lost",
            "-",
            "-",
            "0 duplicates, 0 lost",
            duplicates == 0 and lost == 0,
            [
                f"kills (SIGKILL, k drawn at random with seed {SEED}, sorted): {kills}; then the rerun to the end "
                f"printed {outcome.final_lines} results, {len(completed)} items completed, {len(run_ids)} distinct "
                f"runs; the platform held {outcome.platform_runs} runs of the agent. Inline agent, each run "
                f"{INLINE_DELAY_S * 1000:.0f} ms; the platform in a thread of the benchmark process; "
                f"{outcome.seconds:.1f} s in all.",
            ],
        )
    ]
