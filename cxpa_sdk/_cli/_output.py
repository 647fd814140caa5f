"""What the `cxpa` command prints: JSON for machines, text for people, progress bars on a terminal.

rich renders progress bars and tables when it is installed (`cxpa-sdk[cli]`); a plain fallback
does otherwise. Nothing here talks to the platform, but much of what the command prints came from
there: every line that may carry it goes out through `say` (text, tables, errors) or `json_line`,
which show a character that could steer a terminal (an escape sequence, a carriage return, a
bidirectional override) as a visible escape.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib.util
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any

# The characters that steer a terminal or what it shows: the C0 controls (newline, carriage return
# and tab among them), DEL, the C1 controls, the line and paragraph separators, and the bidirectional
# marks, embeddings, overrides and isolates (CWE-150; CVE-2021-42574, "Trojan Source").
_STEERING = (
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)
_SHORT_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _visible(code: int) -> str:
    r"""How a steering character shows: `\n`, `\x1b`, `\u202e`."""
    if code in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_VISIBLE = {code: _visible(code) for code in _STEERING}
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _STEERING}


def printable(text: str) -> str:
    r"""`text` on one line that cannot steer a terminal: each steering character as a visible escape.

    A newline shows as `\n`, ESC as `\x1b`, a right-to-left override as `\u202e`; every other
    character, backslashes included, is kept.
    """
    return text.translate(_VISIBLE)


def say(stream: IO[str], text: str) -> None:
    """Write `text` to a terminal's stream as one line (see `printable`)."""
    stream.write(printable(text) + "\n")


def json_line(data: Any) -> str:
    r"""`data` as one line of JSON that cannot steer a terminal: the same JSON, its steering characters as `\uXXXX`.

    `json.dumps` escapes only the C0 controls; DEL, the C1 controls, the separators and the
    bidirectional controls can appear only inside strings, where `\uXXXX` decodes to the same text.
    """
    return json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)


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
        streams.stdout.write(json_line(data) + "\n")
        return
    if not isinstance(data, dict):
        say(streams.stdout, f"{data}")
        return
    width = max((len(k) for k in data), default=0)
    for key, item in data.items():
        shown = json_line(item) if isinstance(item, dict | list) else item
        say(streams.stdout, f"{key:<{width}}  {shown}")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], streams: Streams) -> None:
    """A table on stdout: rich's when installed, aligned text otherwise."""
    cells = [[printable(str(c)) for c in row] for row in rows]
    try:
        from rich.console import Console  # noqa: PLC0415 - optional, and only the CLI needs it
        from rich.table import Table  # noqa: PLC0415 - as Console above
        from rich.text import Text  # noqa: PLC0415 - as Console above
    except ImportError:
        widths = [max(len(c) for c in col) for col in zip(headers, *cells, strict=True)]
        for row in [headers, *cells]:
            say(streams.stdout, "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        return
    rich_table = Table(*headers)
    for row in cells:
        rich_table.add_row(*[Text(c) for c in row])  # Text, not str: a cell's `[red]` is not rich markup
    Console(file=streams.stdout, highlight=False).print(rich_table)


class _PlainBar:
    """A one-line progress bar redrawn with carriage returns, at most ten times a second."""

    def __init__(self, stream: IO[str], label: str, unit: str = "bytes") -> None:
        self.stream, self.label = stream, printable(label)
        self.size = _size if unit == "bytes" else _count
        self.started = time.monotonic()
        self.drawn = 0.0

    def update(self, done: int, total: int | None) -> None:
        moment = time.monotonic()
        if moment - self.drawn < 0.1 and done != total:
            return
        self.drawn = moment
        rate = done / max(moment - self.started, 1e-6)
        line = f"{self.label} {self.size(done)}"
        if total:
            eta = (total - done) / rate if rate else 0
            line += f" / {self.size(total)} ({done * 100 // total}%) {self.size(int(rate))}/s ETA {eta:.0f}s"
        else:
            line += f" {self.size(int(rate))}/s"
        self.stream.write("\r" + line.ljust(78))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _count(count: int) -> str:
    return f"{count} items"


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{count} B"


@contextmanager
def progress_bar(streams: Streams, label: str, *, unit: str = "bytes") -> Iterator[Any]:
    """A progress callback `(done, total)` drawing on stderr when it is a terminal; silent otherwise.

    `unit` is "bytes" (sizes, rich's download bar when rich is installed) or "items" (counts).
    """
    if not streams.stderr.isatty():
        yield None
    elif unit == "bytes" and importlib.util.find_spec("rich") is not None:
        with _rich_bar(streams, label) as update:
            yield update
    else:
        bar = _PlainBar(streams.stderr, label, unit)
        try:
            yield bar.update
        finally:
            bar.close()


@contextmanager
def _rich_bar(streams: Streams, label: str) -> Iterator[Any]:
    """The download bar of rich: size, speed and time left."""
    from rich.console import Console  # noqa: PLC0415 - optional, and only the CLI needs it
    from rich.progress import (  # noqa: PLC0415 - optional, and only the CLI needs it
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=streams.stderr), transient=False) as rich_bar:
        task = rich_bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            rich_bar.update(task, completed=done, total=total)

        yield update
