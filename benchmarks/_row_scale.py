"""Row 14: N runs of a short inline agent triggered and awaited by one client process.

The local platform serves in a process of its own (`benchmarks._platform_child --inline-agent`), a
fresh one for each measurement, its inline agent completing each run inside the platform (no runtime
thread, no callback), so the platform's runtimes stay out of what is measured. The client is a fresh
process too (`benchmarks._scale_child`), one sync `Cxpa`, warmed up before the measured part; its
CPU time is its own (`resource.getrusage`), the platform's is read from /proc. Lines:

- trigger rate and client CPU per run: `trigger_many` (the batch endpoint, 1000 items a request)
  against a loop of single `trigger_run` calls (fewer of them: a loop of 100,000 would take minutes);
- end to end: `run_many` over N items (default batch size and max_pending), runs/s from the first
  trigger to the last result;
- client CPU per awaited run, of the same `run_many`;
- client memory per pending run: `run_many` with max_pending=N over N runs that each last long
  enough for all N to be triggered before the first ends; the growth of the peak resident memory
  (VmHWM) over the resident memory before, divided by N.

One measurement a line (each is N runs; the house's alternating pairs would take many minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from benchmarks._common import REPO_ROOT
from benchmarks._platform_child import INLINE_AGENT_ID, platform_child
from benchmarks._proc import cpu_seconds
from benchmarks._result import RowResult, Scale, failed_row

GOAL_RATE = 10_000  # runs/s end to end
GOAL_TRIGGER_CPU_US = 50.0
GOAL_AWAITED_CPU_US = 100.0
GOAL_PENDING_KIB = 2.0
CHILD_TIMEOUT_S = 900.0
HOLD_FACTOR = 1.5  # a pending run lasts 1.5 x the time its N triggers took, plus HOLD_EXTRA_S
HOLD_EXTRA_S = 3.0


@dataclass(frozen=True)
class Measured:
    """One client measurement and the platform's CPU time during it."""

    runs: int
    wall_s: float
    cpu_s: float
    rss_before_kib: int
    peak_kib: int
    ok: int
    errors: int
    platform_cpu_s: float

    @property
    def rate(self) -> float:
        """Runs per second of wall time."""
        return self.runs / self.wall_s

    @property
    def cpu_us(self) -> float:
        """The client's CPU time per run, in microseconds."""
        return self.cpu_s / self.runs * 1e6

    @property
    def platform_us(self) -> float:
        """The platform's CPU time per run, in microseconds."""
        return self.platform_cpu_s / self.runs * 1e6


def measure(mode: str, runs: int, seconds: float | None = None) -> Measured:
    """One measurement in a fresh client process against a fresh platform process."""
    with platform_child(8, inline_agent=True) as child:
        before = cpu_seconds(child.pid)
        command = [sys.executable, "-m", "benchmarks._scale_child", mode, "--base-url", child.url]
        command += ["--agent", str(INLINE_AGENT_ID), "--runs", str(runs)]
        command += [] if seconds is None else ["--seconds", str(seconds)]
        done = subprocess.run(  # noqa: S603 - our own module, run with this interpreter
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
        )
        platform_cpu = cpu_seconds(child.pid) - before
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the client ({mode}) failed: {done.stderr.strip()[-500:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return Measured(runs, platform_cpu_s=platform_cpu, **answer)


def _counts(m: Measured) -> str:
    return f"{m.ok} ok, {m.errors} errors"


def _trigger_line(scale: Scale, many: Measured, single: Measured) -> RowResult:
    met = many.cpu_us <= GOAL_TRIGGER_CPU_US and not many.errors
    return RowResult(
        14,
        f"trigger rate and client CPU per run: `Cxpa.trigger_many` over {many.runs} items of an inline agent "
        f"(batch endpoint) vs a loop of {single.runs} `Cxpa.trigger_run` (runs/s; client CPU a run)",
        f"{many.rate:,.0f} runs/s; {many.cpu_us:.0f} µs CPU a run",
        f"{single.rate:,.0f} runs/s; {single.cpu_us:.0f} µs CPU a run",
        f"{many.rate / single.rate:.1f} (rates)",
        f"client CPU <= {GOAL_TRIGGER_CPU_US:.0f} µs a run (`trigger_many`)",
        met,
        [
            f"trigger: `trigger_many` {many.runs} items in {many.wall_s:.1f} s ({_counts(many)}), client CPU "
            f"{many.cpu_s:.2f} s; the platform's CPU {many.platform_cpu_s:.1f} s = {many.platform_us:.0f} µs a run. "
            f"Loop of `trigger_run`: {single.runs} calls in {single.wall_s:.1f} s ({_counts(single)}), client CPU "
            f"{single.cpu_s:.2f} s; the platform's {single.platform_us:.0f} µs a run. One measurement each, a fresh "
            "client and platform process each.",
        ],
    )


def _run_many_lines(many: Measured) -> list[RowResult]:
    measure = (
        f"`Cxpa.run_many` over {many.runs} items of an inline agent (batch triggers, batched `wait_for_runs`, "
        "default batch size 1000 and max_pending 1000), one client process"
    )
    note = (
        f"run_many: {many.runs} items in {many.wall_s:.1f} s ({_counts(many)}); client CPU {many.cpu_s:.2f} s "
        f"({many.cpu_s / many.wall_s:.0%} of a core), the platform's CPU {many.platform_cpu_s:.1f} s "
        f"({many.platform_cpu_s / many.wall_s:.0%} of a core, {many.platform_us:.0f} µs a run): on 2 cores, client "
        f"and platform together need {(many.cpu_s + many.platform_cpu_s) / many.runs * 1e6:.0f} µs of CPU a run."
    )
    return [
        RowResult(
            14,
            f"{measure}: end to end (runs/s, first trigger to last result)",
            f"{many.rate:,.0f} runs/s",
            "-",
            "-",
            f">= {GOAL_RATE:,} runs/s, 0 errors",
            many.rate >= GOAL_RATE and not many.errors,
            [note],
        ),
        RowResult(
            14,
            f"{measure}: client CPU per awaited run",
            f"{many.cpu_us:.0f} µs",
            "-",
            "-",
            f"<= {GOAL_AWAITED_CPU_US:.0f} µs a run",
            many.cpu_us <= GOAL_AWAITED_CPU_US and not many.errors,
        ),
    ]


def _pending_line(pending: Measured, seconds: float) -> RowResult:
    growth = max(0, pending.peak_kib - pending.rss_before_kib)
    per_run = growth / pending.runs
    return RowResult(
        14,
        f"client memory per pending run: `Cxpa.run_many(max_pending={pending.runs})` over {pending.runs} runs of "
        f"{seconds:.0f} s, all pending at once (peak RSS growth / runs)",
        f"{per_run * 1024:.0f} bytes a run",
        "-",
        "-",
        f"<= {GOAL_PENDING_KIB:g} KiB a run, 0 errors",
        per_run <= GOAL_PENDING_KIB and not pending.errors,
        [
            f"pending: RSS {pending.rss_before_kib / 1024:.1f} MiB before, peak {pending.peak_kib / 1024:.1f} MiB "
            f"(VmHWM) with {pending.runs} runs pending: growth {growth / 1024:.1f} MiB; {_counts(pending)} in "
            f"{pending.wall_s:.1f} s (each run {seconds:.0f} s long, so that all are triggered before the first ends).",
        ],
    )


def run(scale: Scale) -> list[RowResult]:
    """Measure each line in fresh processes; a line that cannot be measured fails alone."""
    runs = scale.scale_runs
    lines: list[RowResult] = []
    try:
        many = measure("trigger-many", runs)
        single = measure("trigger-single", scale.scale_single_runs)
        lines.append(_trigger_line(scale, many, single))
    except Exception as exc:  # one failed line must not lose the others
        lines.append(failed_row(14, "trigger rate: `trigger_many` vs a loop of `trigger_run`", exc))
        many = None
    try:
        lines += _run_many_lines(measure("run-many", runs))
    except Exception as exc:
        lines.append(failed_row(14, "`run_many`: end to end and client CPU per awaited run", exc))
    try:
        trigger_s = many.wall_s if many is not None else runs / 1000
        seconds = HOLD_FACTOR * trigger_s + HOLD_EXTRA_S
        lines.append(_pending_line(measure("pending", runs, seconds), seconds))
    except Exception as exc:
        lines.append(failed_row(14, "client memory per pending run", exc))
    return lines
