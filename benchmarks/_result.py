"""One line of the results table, and the run's scale (full or quick)."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks._common import MIB


@dataclass(frozen=True)
class RowResult:
    """One line of the table: what was measured, both medians, the ratio, the goal and whether it is met.

    Attributes:
        number: The row's number (1 to 15); a row may have several lines.
        measure: What was measured.
        sdk: The SDK side's median, formatted.
        raw: The raw httpx2 side's median, formatted.
        ratio: The median of the pairwise ratios SDK/raw, formatted.
        goal: The goal, in words.
        met: Whether the goal is met (None: it could not be measured, or the line has no goal).
        notes: Details for the notes section (repetitions, errors, method).
    """

    number: int
    measure: str
    sdk: str
    raw: str
    ratio: str
    goal: str
    met: bool | None
    notes: list[str] = field(default_factory=list)


def failed_row(number: int, measure: str, error: BaseException) -> RowResult:
    """The line of a row whose measurement raised."""
    return RowResult(number, measure, "error", "error", "-", "-", None, [f"{type(error).__name__}: {error}"])


@dataclass(frozen=True)
class Scale:
    """How big each row is: counts, sizes and repetitions (pairs after the warm-up)."""

    import_reps: int
    import_environments: bool  # build bare and full environments for row 1 (else: the current one)
    cpu_calls: int
    cpu_reps: int
    cpu_block: int
    fanout_calls: int
    fanout_reps: int
    fanout_warmup_pairs: int
    download_sizes: tuple[int, int]
    download_reps: tuple[int, int]
    wait_seconds: float
    wait_reps: int
    create_count: int
    create_reps: int
    waits_calls: int
    waits_seconds: float
    waits_reps: int
    waits_warmup_pairs: int
    many_calls: int  # row 10: concurrent trigger_run_and_wait calls on real runs
    many_min_s: float  # row 10: the shortest run, in seconds
    many_max_s: float  # row 10: the longest run, in seconds
    deliveries_calls: int  # row 12: deliveries a side in one measurement
    deliveries_block: int  # row 12: deliveries a side in one block (the sides alternate block by block)
    deliveries_reps: int  # row 12: measurements a side after the warm-up
    hold_runs: int  # row 13: runs held in the runtime host at once
    scale_runs: int  # row 14: runs of the inline agent triggered and awaited by one client
    scale_single_runs: int  # row 14: single trigger_run calls, the trigger rate's peer
    crash_items: int  # row 15: items of the journaled run_many job killed and rerun
    crash_kills: int  # row 15: SIGKILLs before the rerun to the end


FULL = Scale(
    import_reps=9,
    import_environments=True,
    cpu_calls=2000,
    cpu_reps=11,
    cpu_block=50,
    fanout_calls=1000,
    fanout_reps=9,
    fanout_warmup_pairs=2,
    download_sizes=(64 * MIB, 1024 * MIB),
    download_reps=(15, 11),
    wait_seconds=0.2,
    wait_reps=15,
    create_count=50,
    create_reps=9,
    waits_calls=1000,
    waits_seconds=0.5,
    waits_reps=3,
    waits_warmup_pairs=1,
    many_calls=1000,
    many_min_s=10.0,
    many_max_s=60.0,
    deliveries_calls=1200,
    deliveries_block=200,
    deliveries_reps=5,
    hold_runs=1000,
    scale_runs=100_000,
    scale_single_runs=5_000,
    crash_items=10_000,
    crash_kills=5,
)

QUICK = Scale(
    import_reps=2,
    import_environments=False,
    cpu_calls=50,
    cpu_reps=2,
    cpu_block=10,
    fanout_calls=40,
    fanout_reps=2,
    fanout_warmup_pairs=1,
    download_sizes=(1 * MIB, 2 * MIB),
    download_reps=(2, 2),
    wait_seconds=0.2,
    wait_reps=2,
    create_count=20,
    create_reps=2,
    waits_calls=40,
    waits_seconds=0.1,
    waits_reps=1,
    waits_warmup_pairs=1,
    many_calls=100,
    many_min_s=0.5,
    many_max_s=1.5,
    deliveries_calls=64,
    deliveries_block=32,
    deliveries_reps=1,
    hold_runs=100,
    scale_runs=2_000,
    scale_single_runs=200,
    crash_items=500,
    crash_kills=2,
)
