"""What the `cxpa` command prints: JSON for machines, text for people, progress bars on a terminal.

rich renders progress bars and tables when it is installed (`cxpa-sdk[cli]`); a plain fallback
does otherwise. Nothing here talks to the platform.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any


@dataclasses.dataclass
class Streams:
    """The standard streams a command uses (tests pass their own)."""

    stdin: IO[str] = dataclasses.field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = dataclasses.field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = dataclasses.field(default_factory=lambda: sys.stderr)


def plain(value: Any) -> Any:
    """A result as plain JSON data: dataclasses to dicts, enums to values, times to RFC 3339."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def emit(value: Any, streams: Streams, fmt: str) -> None:
    """Print one result: a JSON document on stdout, or `key: value` lines for people."""
    data = plain(value)
    if fmt == "json":
        streams.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    if not isinstance(data, dict):
        streams.stdout.write(f"{data}\n")
        return
    width = max((len(k) for k in data), default=0)
    for key, item in data.items():
        shown = json.dumps(item, ensure_ascii=False) if isinstance(item, dict | list) else item
        streams.stdout.write(f"{key:<{width}}  {shown}\n")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], streams: Streams) -> None:
    """A table on stdout: rich's when installed, aligned text otherwise."""
    try:
        from rich.console import Console  # noqa: PLC0415 - optional, and only the CLI needs it
        from rich.table import Table  # noqa: PLC0415
    except ImportError:
        widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
        for row in [headers, *rows]:
            streams.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
        return
    rich_table = Table(*headers)
    for row in rows:
        rich_table.add_row(*[str(c) for c in row])
    Console(file=streams.stdout, highlight=False).print(rich_table)


class _PlainBar:
    """A one-line progress bar redrawn with carriage returns, at most ten times a second."""

    def __init__(self, stream: IO[str], label: str) -> None:
        self.stream, self.label = stream, label
        self.started = time.monotonic()
        self.drawn = 0.0

    def update(self, done: int, total: int | None) -> None:
        moment = time.monotonic()
        if moment - self.drawn < 0.1 and done != total:
            return
        self.drawn = moment
        rate = done / max(moment - self.started, 1e-6)
        line = f"{self.label} {_size(done)}"
        if total:
            eta = (total - done) / rate if rate else 0
            line += f" / {_size(total)} ({done * 100 // total}%) {_size(int(rate))}/s ETA {eta:.0f}s"
        else:
            line += f" {_size(int(rate))}/s"
        self.stream.write("\r" + line.ljust(78))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{count} B"


@contextmanager
def progress_bar(streams: Streams, label: str) -> Iterator[Any]:
    """A progress callback `(done, total)` drawing on stderr when it is a terminal; silent otherwise."""
    if not streams.stderr.isatty():
        yield None
        return
    try:
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import (  # noqa: PLC0415 - optional, and only the CLI needs it
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        bar = _PlainBar(streams.stderr, label)
        try:
            yield bar.update
        finally:
            bar.close()
        return
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=streams.stderr), transient=False) as rich_bar:
        task = rich_bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            rich_bar.update(task, completed=done, total=total)

        yield update
