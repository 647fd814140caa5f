"""Row 5: download throughput and client peak RSS growth, `save()` against `client.stream()` + `iter_raw()`.

Throughput is measured without syncing to disk (`save()`, the default) and with it on both sides
(`save(fsync=True)` against the raw loop followed by `os.fsync`). The async lines measure each SDK
backend saving a file and streaming one (`iter_bytes()`, each chunk dropped, as a server forwarding
the file to a browser does) against raw httpx 0.28 async, and the aiohttp backend's stream against
plain aiohttp, its floor. The goal for the aiohttp backend is on streaming: a saved file's throughput
is bounded by the page cache's writes, the same for every client.

Every measurement runs in a fresh process (`benchmarks._download_child`) writing into its own temporary
folder, which is deleted afterwards. Before each one the disk is brought up to date (os.sync, untimed),
so that no measurement starts with the previous one's writeback still running.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from functools import partial

from benchmarks._common import MIB, REPO_ROOT
from benchmarks._result import RowResult, Scale
from benchmarks._runner import alternate

GOAL_RATIO = 0.95
# The aiohttp backend against raw httpx 0.28 async (what the SDK's async downloads ran on before).
GOAL_ASYNC_RATIO = 2.5
GOAL_RSS_MIB = 32
SAME_RSS_MIB = 4  # "the same for both sizes": the medians differ by less than this


def _measure(side: str, base_url: str, size: int, rss: list[float]) -> float:
    """One download in a fresh process; its throughput in MiB/s (its RSS growth goes to `rss`)."""
    os.sync()
    with tempfile.TemporaryDirectory(prefix="cxpa-bench-") as folder:
        done = subprocess.run(  # noqa: S603 - our own module, run with this interpreter
            [sys.executable, "-m", "benchmarks._download_child", side, base_url, str(size), folder],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
            timeout=300,
        )
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if result["bytes"] != size:
        raise RuntimeError(f"{side} wrote {result['bytes']} bytes, not {size}")
    rss.append(result["rss_growth_kib"] / 1024)
    return float(size / MIB / result["seconds"])


def _size(size: int) -> str:
    """A size in words."""
    return f"{size // 1024 // MIB} GiB" if size >= 1024 * MIB else f"{size // MIB} MiB"


def _throughput(
    base_url: str, size: int, reps: int, *, fsync: bool, warmup_pairs: int
) -> tuple[RowResult, list[float], list[float]]:
    """One throughput line for a size (with both sides syncing to disk or neither), and each side's RSS growths."""
    sdk_rss: list[float] = []
    raw_rss: list[float] = []
    suffix = "-fsync" if fsync else ""
    pairs = alternate(
        partial(_measure, "sdk" + suffix, base_url, size, sdk_rss),
        partial(_measure, "raw" + suffix, base_url, size, raw_rss),
        reps=reps,
        warmup_pairs=warmup_pairs,
    )
    del sdk_rss[:warmup_pairs], raw_rss[:warmup_pairs]  # the warm-up pairs' RSS
    sides = (
        "`save(fsync=True)` vs `stream()` + `iter_raw()` to a file + `os.fsync`"
        if fsync
        else "`save()` vs `stream()` + `iter_raw()` to a file"
    )
    done = "synced to disk" if fsync else "closed"
    low, high = pairs.ratio_range
    warmed = "after a warm-up pair" if warmup_pairs else "no warm-up pair (the row's first line warmed up)"
    line = RowResult(
        5,
        f"download {_size(size)}: {sides} (throughput)",
        f"{pairs.sdk_median:.0f} MiB/s",
        f"{pairs.raw_median:.0f} MiB/s",
        f"{pairs.ratio_median:.2f}",
        f"ratio >= {GOAL_RATIO}",
        pairs.ratio_median >= GOAL_RATIO,
        [
            f"{_size(size)}{', fsync' if fsync else ''}: {pairs.reps} pairs, {warmed}; pairwise ratios from "
            f"{low:.2f} to {high:.2f} (ratio of the two medians: {pairs.sdk_median / pairs.raw_median:.2f}). "
            "Each measurement a fresh "
            f"process, timed from the request to the file {done}. The SDK side's time includes its first call in "
            "the process (loading the spec) and `save()`'s temporary file and rename."
        ],
    )
    return line, sdk_rss, raw_rss


SAVE_TO_FILE = "to a file (throughput; SDK peak RSS growth)"
STREAMED = (
    "streamed, each chunk counted and dropped, as a server forwarding the file does (throughput; SDK peak RSS growth)"
)
# (SDK side, peer side, what the line compares, the goal ratio or None: reported)
ASYNC_LINES = [
    (
        "sdk-async",
        "httpx028-async",
        "`AsyncCxpa` `await save()` (httpx2) vs raw httpx 0.28 `AsyncClient.stream()` + `aiter_raw()` " + SAVE_TO_FILE,
        None,
    ),
    (
        "sdk-aiohttp",
        "httpx028-async",
        '`AsyncCxpa(http_backend="aiohttp")` `await save()` vs raw httpx 0.28 `AsyncClient.stream()` + `aiter_raw()` '
        + SAVE_TO_FILE,
        None,
    ),
    (
        "sdk-async-stream",
        "httpx028-async-stream",
        "`AsyncCxpa` `iter_bytes()` (httpx2) vs raw httpx 0.28 `aiter_raw()`, " + STREAMED,
        None,
    ),
    (
        "sdk-aiohttp-stream",
        "httpx028-async-stream",
        '`AsyncCxpa(http_backend="aiohttp")` `iter_bytes()` vs raw httpx 0.28 `aiter_raw()`, ' + STREAMED,
        GOAL_ASYNC_RATIO,
    ),
    (
        "sdk-aiohttp-stream",
        "aiohttp-stream",
        '`AsyncCxpa(http_backend="aiohttp")` `iter_bytes()` vs plain aiohttp `content.iter_any()` (the floor), '
        + STREAMED,
        None,
    ),
]


def _async_lines(base_url: str, size: int, reps: int) -> list[RowResult]:
    """Async download throughput, saved and streamed: each SDK backend against raw httpx 0.28 async and aiohttp."""
    lines = []
    for side, peer, what, goal in ASYNC_LINES:
        sdk_rss: list[float] = []
        pairs = alternate(
            partial(_measure, side, base_url, size, sdk_rss),
            partial(_measure, peer, base_url, size, []),
            reps=reps,
        )
        del sdk_rss[:1]
        rss = statistics.median(sdk_rss)
        low, high = pairs.ratio_range
        lines.append(
            RowResult(
                5,
                f"async download {_size(size)}: {what}",
                f"{pairs.sdk_median:.0f} MiB/s, {rss:.1f} MiB",
                f"{pairs.raw_median:.0f} MiB/s",
                f"{pairs.ratio_median:.2f}",
                "reported" if goal is None else f"ratio >= {goal}, RSS growth < {GOAL_RSS_MIB} MiB",
                None if goal is None else pairs.ratio_median >= goal and rss < GOAL_RSS_MIB,
                [
                    f"async {_size(size)}, {side} vs {peer}: {pairs.reps} pairs after a warm-up pair; pairwise "
                    f"ratios from {low:.2f} to {high:.2f}; each measurement a fresh process, as above."
                ],
            )
        )
    _explain_by_the_floor(lines)
    return lines


def _explain_by_the_floor(lines: list[RowResult]) -> None:
    """Add to the aiohttp streaming goal, when not met, how plain aiohttp itself fares against the same peer."""
    goal, floor = lines[3], lines[4]  # ASYNC_LINES' order: the goal's line, then the floor's
    if goal.met is not False:
        return
    sdk, peer = float(goal.sdk.split()[0]), float(goal.raw.split()[0])
    plain = float(floor.raw.split()[0])
    goal.notes.append(
        f"Goal not met; plain aiohttp, the floor, streamed {plain:.0f} MiB/s in this run: {plain / peer:.2f}x raw "
        f"httpx 0.28's {peer:.0f} MiB/s, so no client on aiohttp reaches {GOAL_ASYNC_RATIO}x against this "
        f"server here; the SDK's {sdk:.0f} MiB/s is {sdk / plain:.2f}x the floor's."
    )


def run(scale: Scale, base_url: str) -> list[RowResult]:
    """Measure both sizes alternately, without then with fsync: a throughput line each, then one peak-RSS line."""
    lines: list[RowResult] = []
    sdk_rss: dict[int, list[float]] = {}
    raw_rss: dict[int, list[float]] = {}
    for index, (size, reps) in enumerate(zip(scale.download_sizes, scale.download_reps, strict=True)):
        first = int(index == 0)  # the row's first line warms up with one pair
        line, sdk_rss[size], raw_rss[size] = _throughput(base_url, size, reps, fsync=False, warmup_pairs=first)
        lines.append(line)
    for size, reps in zip(scale.download_sizes, scale.download_reps, strict=True):
        lines.append(_throughput(base_url, size, reps, fsync=True, warmup_pairs=0)[0])
    lines += _async_lines(base_url, scale.download_sizes[-1], scale.download_reps[-1])
    small, large = scale.download_sizes
    sdk_small, sdk_large = statistics.median(sdk_rss[small]), statistics.median(sdk_rss[large])
    raw_small, raw_large = statistics.median(raw_rss[small]), statistics.median(raw_rss[large])
    met = max(sdk_small, sdk_large) < GOAL_RSS_MIB and abs(sdk_large - sdk_small) < SAME_RSS_MIB
    lines.append(
        RowResult(
            5,
            f"download: client peak RSS growth, {_size(small)} / {_size(large)}",
            f"{sdk_small:.1f} / {sdk_large:.1f} MiB",
            f"{raw_small:.1f} / {raw_large:.1f} MiB",
            "-",
            f"SDK < {GOAL_RSS_MIB} MiB, the same for both sizes (within {SAME_RSS_MIB} MiB)",
            met,
            [
                "Peak RSS growth: VmHWM reset (/proc/self/clear_refs) after the client is built, then VmHWM "
                "after the download minus VmRSS before it, in the measuring process; medians of the same runs."
            ],
        )
    )
    return lines
