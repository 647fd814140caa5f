"""BENCHMARKS.md as `python -m benchmarks` writes it: a run of some rows replaces their lines and keeps the others."""

import datetime
import sys
from pathlib import Path

# The benchmarks are no part of the wheel the tests run against (tox): find them in the checkout, after
# the installed packages, so cxpa_sdk still comes from the wheel.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks._report import render
from benchmarks._result import RowResult

EARLY = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
LATE = datetime.datetime(2026, 12, 6, 23, 0, tzinfo=datetime.UTC)


def line(number: int, sdk: str, met: bool | None, note: str) -> RowResult:
    """One table line of row `number`, with one note."""
    return RowResult(number, f"measure {number}", sdk, "raw", "1.00", "goal", met, [note])


def results(document: str) -> list[str]:
    """The table's lines."""
    return [row for row in document.splitlines() if row.startswith("| ") and row.split("|")[1].strip().isdigit()]


def test_a_run_of_some_rows_replaces_their_lines_and_keeps_the_others() -> None:
    """Rows 1, 2 and 12 measured once, then row 12 again: rows 1 and 2 stay as they were, row 12 is the new one."""
    first = render(
        [line(1, "a1", True, "one"), line(2, "a2", False, "two"), line(12, "old", True, "twelve old")],
        "python -m benchmarks --rows 1,2,12",
        False,
        EARLY,
        60.0,
    )
    second = render(
        [line(12, "new", False, "twelve new"), line(12, "new too", None, "twelve again")],
        "python -m benchmarks --rows 12",
        False,
        LATE,
        5.0,
        previous=first,
    )
    assert [row.split("|")[3].strip() for row in results(second)] == ["a1", "a2", "new", "new too"]
    assert "- Row 1: one" in second
    assert "- Row 2: two" in second
    assert "- Row 12: twelve new" in second
    assert "twelve old" not in second
    assert "- Rows 1, 2: measured 2026-12-01 09:30 UTC in 60 s with `python -m benchmarks --rows 1,2,12`" in second
    assert "- Row 12: measured 2026-12-06 23:00 UTC in 5 s with `python -m benchmarks --rows 12`" in second
    assert second.startswith("# Benchmarks")
    assert "1 of 3 goals met (1 more lines reported without a goal)" in second


def test_a_run_of_every_row_keeps_nothing_and_names_no_machine_path() -> None:
    """A full run replaces every line and every run line; the command shown is the portable one."""
    first = render([line(1, "a1", True, "one")], "python -m benchmarks --rows 1", False, EARLY, 1.0)
    second = render([line(1, "b1", True, "uno")], "python -m benchmarks", False, LATE, 2.0, previous=first)
    assert [row.split("|")[3].strip() for row in results(second)] == ["b1"]
    assert "2026-12-01" not in second
    assert "- Row 1: uno" in second
    assert "one" not in second.split("## Notes")[1]
    assert "/work" not in second
    assert "```sh\npython -m benchmarks\n```" in second
