"""The command line: choose rows and scale, start the server, run the rows, print and write the table."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from benchmarks import (
    _row_cpu,
    _row_crash,
    _row_create,
    _row_deliveries,
    _row_download,
    _row_fanout,
    _row_hooks,
    _row_import,
    _row_many_waits,
    _row_peers,
    _row_runtime_memory,
    _row_scale,
    _row_wait,
    _row_waits,
)
from benchmarks._common import REPO_ROOT
from benchmarks._report import render
from benchmarks._result import FULL, QUICK, RowResult, Scale, failed_row
from benchmarks._server import serve_in_process

ALL_ROWS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
SERVED_ROWS = frozenset({2, 3, 4, 5, 8, 9, 11})
NAMES = {1: "import", 2: "CPU per call, sync", 3: "CPU per call, async", 4: "async fan-out", 5: "download"}
NAMES |= {6: "wait latency", 7: "client creation", 8: "CPU per call against peers", 9: "concurrent waits"}
NAMES |= {10: "many waits on real runs", 11: "the cost of a hook", 12: "runtime host deliveries"}
NAMES |= {13: "runtime host memory", 14: "100,000 runs from one client", 15: "crash and rerun"}


def _rows(text: str) -> list[int]:
    """Parse `--rows 2,3`."""
    rows = sorted({int(part) for part in text.split(",") if part.strip()})
    if not rows or any(r not in ALL_ROWS for r in rows):
        raise argparse.ArgumentTypeError(f"rows are numbers among {ALL_ROWS}, comma-separated")
    return rows


def parse(argv: list[str]) -> argparse.Namespace:
    """The options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="cxpa-sdk against raw httpx2.")
    parser.add_argument("--quick", action="store_true", help="tiny counts and sizes: seconds in total")
    parser.add_argument("--rows", type=_rows, default=list(ALL_ROWS), help="rows to run, e.g. 2,3 (default: all)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="the markdown to write (default: BENCHMARKS.md at the repository root; none with --quick)",
    )
    return parser.parse_args(argv)


def _measure(number: int, scale: Scale, base_url: str | None) -> list[RowResult]:
    """Run one row."""
    served: dict[int, Callable[[Scale, str], list[RowResult]]] = {
        2: _row_cpu.run_sync,
        3: _row_cpu.run_async,
        4: _row_fanout.run,
        5: _row_download.run,
        8: _row_peers.run,
        9: _row_waits.run,
        11: _row_hooks.run,
    }
    if number in served:
        if base_url is None:
            raise RuntimeError("the benchmark server is not running")
        return served[number](scale, base_url)
    local: dict[int, Callable[[Scale], list[RowResult]]] = {
        1: _row_import.run,
        6: _row_wait.run,
        7: _row_create.run,
        10: _row_many_waits.run,  # serves the local platform in a process of its own
        12: _row_deliveries.run,  # serves the host, its floor and a stub platform in processes of their own
        13: _row_runtime_memory.run,  # serves the local platform and the host in processes of their own
        14: _row_scale.run,  # a fresh platform and client process for each measurement
        15: _row_crash.run,  # serves the local platform in a thread; the job in a child, killed and rerun
    }
    return local[number](scale)


@contextlib.contextmanager
def _server_if(needed: bool) -> Iterator[str | None]:
    """The benchmark server's URL when some row needs it, else None."""
    if not needed:
        yield None
        return
    with serve_in_process() as base_url:
        yield base_url


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 0 when every selected row could be measured (goals met or not), else 1."""
    args = parse(sys.argv[1:] if argv is None else argv)
    scale = QUICK if args.quick else FULL
    output = args.output if args.output is not None or args.quick else REPO_ROOT / "BENCHMARKS.md"
    arguments = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "benchmarks", *arguments])  # from the repository root, on any machine
    started_at = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    results: list[RowResult] = []
    with _server_if(bool(SERVED_ROWS & set(args.rows))) as base_url:
        for number in args.rows:
            row_started = time.perf_counter()
            print(f"row {number} ({NAMES[number]}) ...", end=" ", flush=True)
            try:
                lines = _measure(number, scale, base_url)
            except Exception as exc:  # one failed row must not lose the others
                lines = [failed_row(number, NAMES[number], exc)]
            results += lines
            print(f"{time.perf_counter() - row_started:.1f} s")
            for line in lines:
                print(
                    f"  {line.measure}: SDK {line.sdk}, raw {line.raw}, ratio {line.ratio}, goal {line.goal}, "
                    f"met {line.met}"
                )
    previous = output.read_text(encoding="utf-8") if output is not None and output.exists() else ""
    document = render(results, command, args.quick, started_at, time.perf_counter() - started, previous=previous)
    if output is not None:
        output.write_text(document, encoding="utf-8")
        print(f"wrote {output}")
    return 1 if any(r.sdk == "error" for r in results) else 0
