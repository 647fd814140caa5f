"""Benchmark row 10's pieces: run lengths, the ratio's bounds, and the platform child's lifetime."""

import dataclasses
import itertools
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from cxpa_sdk.testing import SLOW

# The benchmarks are no part of the wheel the tests run against (tox): find them in the checkout, after
# the installed packages, so cxpa_sdk still comes from the wheel.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from benchmarks._common import API_KEY
from benchmarks._platform_child import platform_in_process
from benchmarks._result import FULL, QUICK
from benchmarks._row_many_waits import Side, _ratio, goal_seconds, lengths


def test_full_scale_is_the_issues_goal() -> None:
    """The full scale is 1000 runs from 10 to 60 s, evenly spread, with a goal of 72 s of wall time."""
    seconds = lengths(FULL)
    assert len(seconds) == 1000
    assert (seconds[0], seconds[-1]) == (10.0, 60.0)
    steps = {round(b - a, 9) for a, b in itertools.pairwise(seconds)}
    assert steps == {round(50 / 999, 9)}
    assert goal_seconds(FULL) == pytest.approx(72.0)


def test_quick_scale_goes_past_the_held_waits() -> None:
    """Quick row 10 starts more calls than an AsyncCxpa holds waits for, so it exercises the shared waits."""
    from cxpa_sdk._waits import HELD_WAITS  # noqa: PLC0415 - the module under measurement

    assert QUICK.many_calls > HELD_WAITS
    assert lengths(dataclasses.replace(QUICK, many_calls=1)) == [QUICK.many_max_s]


@pytest.mark.parametrize(
    ("sdk_stopped", "raw_stopped", "expected"),
    [(0, 0, "0.50"), (0, 3, "<= 0.50"), (3, 0, ">= 0.50"), (3, 3, "-")],
    ids=["both-finished", "raw-stopped", "sdk-stopped", "both-stopped"],
)
def test_ratio_says_when_it_is_only_a_bound(sdk_stopped: int, raw_stopped: int, expected: str) -> None:
    """A side stopped at its bound makes the ratio a bound (or none at all when both were stopped)."""
    assert _ratio(Side(seconds=10.0, stopped=sdk_stopped), Side(seconds=20.0, stopped=raw_stopped)) == expected


def test_platform_child_runs_a_slow_run_and_stops_with_the_block() -> None:
    """The child serves the local platform with the benchmarks' key; after the block nothing listens on its port."""
    with platform_in_process(runtime_workers=4) as base_url:
        with httpx2.Client(timeout=30.0) as http:
            response = http.post(
                f"{base_url}/api/agents/{SLOW}/runs/trigger-and-wait",
                json={"input": {"seconds": 0.05}, "timeoutMs": 10_000},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
        assert response.status_code == 200
        assert response.json()["status"] == "completed"
        port = urlsplit(base_url).port
    assert port is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
