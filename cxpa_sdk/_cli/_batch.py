"""`cxpa batch`: run an agent on every line of a JSON Lines file, one result line per item.

Each input line is a JSON object, the input of one run, keyed by its line number (from 1) or by
`--key-field`; each output line is `{"key", "run_id", "status", "output", "error"}`, in the order
the runs end. With `--journal`, a rerun of a stopped or killed job triggers nothing twice and
writes the whole result file again (the runs that ended come back from the journal).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .._errors import CxpaError
from ._output import Streams, progress_bar, say

HELP = "run an agent on every line of a JSON Lines file; a result line each"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `cxpa batch`."""
    parser.add_argument("agent_id", type=int)
    parser.add_argument("inputs", help="a JSON Lines file of inputs (one JSON object a line), or - for stdin")
    parser.add_argument("-o", "--output", required=True, help="the JSON Lines file of results (written anew)")
    parser.add_argument("--journal", help="a SQLite file recording the job: rerun with it to go on, nothing twice")
    parser.add_argument("--job", help="the job's name (keys each item's run; default: the journal's)")
    parser.add_argument("--key-field", help="key each item by this field of its input (default: its line number)")
    parser.add_argument("--batch-size", type=int, default=1000, help="items per request (1 to 1000, default 1000)")
    parser.add_argument("--max-pending", type=int, default=1000, help="runs waited for at once (default 1000)")
    parser.add_argument("--item-timeout", type=float, default=3600.0, help="seconds each run may take (default 3600)")


class _Lines:
    """The input lines as `(key, input)` pairs, and the lines that are not an input (their results, written here)."""

    def __init__(self, stream: IO[str], key_field: str | None) -> None:
        self.stream = stream
        self.key_field = key_field
        self.bad: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for number, line in enumerate(self.stream, start=1):
            if not line.strip():
                continue
            key = str(number)
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError(f"a JSON {type(value).__name__}, not an object")  # noqa: TRY004, TRY301 - one message for bad lines
                if self.key_field is not None:
                    key = value[self.key_field]
                    if isinstance(key, bool) or not isinstance(key, str | int):
                        raise ValueError(f"its {self.key_field!r} is not a string or an integer")  # noqa: TRY301 - as above
                    key = str(key)
            except (ValueError, KeyError) as exc:
                reason = f"no field {self.key_field!r}" if isinstance(exc, KeyError) else str(exc)
                error = {"type": "InvalidInput", "message": f"line {number}: {reason}"}
                self.bad.append(_line(key, None, None, None, error))
                continue
            yield key, value


def _line(
    key: str, run_id: str | None, status: str | None, output: Any, error: dict[str, str] | None
) -> dict[str, Any]:
    return {"key": key, "run_id": run_id, "status": status, "output": output, "error": error}


def _result(item: Any) -> dict[str, Any]:
    """A FinishedItem as a result line."""
    if item.run is not None:
        run = item.run
        error = None if run.error is None else {"type": run.error.name or "RunError", "message": run.error.message}
        return _line(item.key, run.run_id, run.status.value, run.output_data, error)
    failure: CxpaError = item.error
    return _line(item.key, item.run_id, None, None, {"type": type(failure).__name__, "message": str(failure)})


def _total(path: str) -> int | None:
    """How many lines the inputs file has (for the bar's ETA), or None for stdin."""
    if path == "-":
        return None
    with Path(path).open("rb") as file:
        return sum(1 for line in file if line.strip())


def run_batch(args: argparse.Namespace, streams: Streams, client: Any) -> tuple[int, int, bool]:
    """Run the job and write its results: (results written, results not completed, interrupted)."""
    total = _total(args.inputs)
    source = streams.stdin if args.inputs == "-" else Path(args.inputs).open(encoding="utf-8")  # noqa: SIM115 - closed below
    written = not_completed = 0
    try:
        lines = _Lines(source, args.key_field)
        items = client.run_many(
            args.agent_id,
            lines,
            job=args.job,
            journal=args.journal,
            batch_size=args.batch_size,
            max_pending=args.max_pending,
            item_timeout=args.item_timeout,
        )
        with Path(args.output).open("w", encoding="utf-8") as out, progress_bar(streams, "runs", unit="items") as bar:
            try:
                for result in _results(items, lines):
                    out.write(json.dumps(result, separators=(",", ":")) + "\n")
                    out.flush()
                    written += 1
                    not_completed += result["status"] != "completed"
                    if bar is not None:
                        bar(written, total)
            except KeyboardInterrupt:
                items.close()
                return written, not_completed, True
    finally:
        if source is not streams.stdin:
            source.close()
    return written, not_completed, False


def _results(items: Iterator[Any], lines: _Lines) -> Iterator[dict[str, Any]]:
    """Each item's result line, with the bad lines' results as soon as they are read."""
    for item in items:
        while lines.bad:
            yield lines.bad.pop(0)
        yield _result(item)
    yield from lines.bad


def report(args: argparse.Namespace, streams: Streams, written: int, not_completed: int, interrupted: bool) -> None:
    """What the job came to, on stderr."""
    if interrupted:
        if args.journal:
            again = "rerun with the same --journal to go on"
        elif args.job:
            again = "a rerun with the same --job triggers nothing twice, within the platform's 24-hour replay window"
        else:
            again = "without --journal or --job, a rerun triggers every item again"
        say(streams.stderr, f"cxpa: interrupted after {written} results in {args.output}; {again}")
        return
    say(streams.stderr, f"cxpa: {written} results in {args.output}, {not_completed} not completed")
