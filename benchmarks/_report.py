"""BENCHMARKS.md: the machine, the command, the table and the notes."""

from __future__ import annotations

import datetime
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks._result import RowResult

_MET = {True: "yes", False: "**no**", None: "n/a"}


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo (or platform.processor() elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions(*names: str) -> str:
    """`name version` for each distribution installed, comma-separated."""
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def machine() -> list[str]:
    """The machine and software lines."""
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        f"- {_versions('cxpa-sdk', 'httpx2', 'httpcore2', 'h11', 'aiohttp', 'uvicorn')}",
        f"- peers: {_versions('httpx', 'httpcore', 'openai')}",
    ]


def _cell(text: str) -> str:
    """A table cell (pipes escaped)."""
    return text.replace("|", "\\|")


def row_of(line: str) -> int | None:
    """The row a table line (`| 12 | ...`), note (`- Row 12: ...`) or run line (`- Rows 12, 13: ...`) is about."""
    if line.startswith("| "):
        cell = line.split("|")[1].strip()
        return int(cell) if cell.isdigit() else None
    return None


def _run_rows(line: str) -> list[int]:
    """The rows a run line names: `- Rows 12, 13: ...` or `- Row 1: ...`."""
    label = line.removeprefix("- ").split(":", 1)[0]
    words = label.removeprefix("Rows ").removeprefix("Row ").replace(",", " ").split()
    return [int(word) for word in words if word.isdigit()]


def _label(rows: list[int]) -> str:
    """`Row 1` or `Rows 12, 13`: how a run line names its rows (`_run_rows` reads it back)."""
    return f"Row {rows[0]}" if len(rows) == 1 else "Rows " + ", ".join(str(number) for number in rows)


def _run_line(rows: list[int], command: str, started: datetime.datetime, seconds: float) -> str:
    return (
        f"- {_label(rows)}: measured {started:%Y-%m-%d %H:%M} UTC in {seconds:.0f} s with `{command}`, "
        f"on {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}."
    )


def _kept(previous: str, measured: set[int]) -> tuple[list[str], list[str], list[str]]:
    """The table lines, notes and run lines of `previous` about rows not `measured` (a partial run keeps them)."""
    table, notes, runs, section = [], [], [], ""
    for line in previous.splitlines():
        if line.startswith("## "):
            section = line
        elif section == "## Results" and (number := row_of(line)) is not None and number not in measured:
            table.append(line)
        elif section == "## Notes" and line.startswith("- Row ") and _run_rows(line)[0] not in measured:
            notes.append(line)
        elif section == "## Runs" and line.startswith("- Row"):
            left = [number for number in _run_rows(line) if number not in measured]
            if left:
                runs.append(f"- {_label(left)}:{line.split(':', 1)[1]}")
    return table, notes, runs


def render(
    rows: list[RowResult],
    command: str,
    quick: bool,
    started: datetime.datetime,
    seconds: float,
    *,
    previous: str = "",
) -> str:
    """The markdown document; the lines of `previous` (the file as it was) about rows not measured now are kept."""
    measured = sorted({r.number for r in rows})
    table, notes, runs = _kept(previous, set(measured))
    table += [
        f"| {r.number} | {_cell(r.measure)} | {_cell(r.sdk)} | {_cell(r.raw)} | {r.ratio} | {_cell(r.goal)} "
        f"| {_MET[r.met]} |"
        for r in rows
    ]
    table.sort(key=lambda line: row_of(line) or 0)  # stable: a row's lines keep their order
    notes += [f"- Row {r.number}: {note}" for r in rows for note in r.notes]
    notes.sort(key=lambda line: _run_rows(line)[0])
    runs.append(_run_line(measured, command, started, seconds))
    marks = [line.rstrip(" |").rsplit("|", 1)[1].strip() for line in table]
    met, judged = marks.count(_MET[True]), len(marks) - marks.count(_MET[None])
    out = [
        "# Benchmarks: cxpa-sdk against raw httpx2 and its peers",
        "",
        f"{met} of {judged} goals met ({len(marks) - judged} more lines reported without a goal)"
        + (" (**--quick**: tiny counts and sizes, numbers not meaningful)" if quick else "")
        + ". A run of some rows (`--rows`) replaces their lines and keeps the others: when and how each row"
        " was measured is under Runs.",
        "",
        "Command, from the repository root (in an environment with cxpa-sdk and its `testing` extra installed):",
        "",
        "```sh",
        "python -m benchmarks",
        "```",
        "",
        "## Runs",
        "",
        *runs,
        "",
        "## Machine (the newest run's)",
        "",
        *machine(),
        "",
        "## Results",
        "",
        "| # | Measure | cxpa-sdk (median) | peer (median) | Ratio SDK/peer (median of pairs) | Goal | Met |",
        "|---|---|---|---|---|---|---|",
        *table,
    ]
    out += [
        "",
        "## Method",
        "",
        "- Each line runs the SDK side (A) and its peer (B) alternately, A B A B ..., after a warm-up pair",
        "  that is not counted (exceptions in the notes). It reports the median of each side and the median",
        "  of the pairwise ratios SDK/peer (adjacent pairs cancel slow drifts of the machine). In rows 2, 3",
        "  and 8 each pair also alternates inside, in blocks of calls, so that shorter drifts cancel too.",
        "- The peer is raw httpx2 unless the line names another: raw httpx 0.28 (what the SDK ran on before",
        "  0.2.0), openai-python (`client.post(path, body=..., cast_to=object)`, its own options, retries and",
        "  parsing), or plain aiohttp (`ClientSession.post` + `.json()`, the floor under the aiohttp backend).",
        '  Lines on the aiohttp backend use `AsyncCxpa(http_backend="aiohttp")`.',
        "- Rows 2 to 5, 8, 9 and 11 talk to a minimal ASGI app (`benchmarks/_server.py`, no framework) under",
        "  uvicorn (h11) in another process on 127.0.0.1. Its listening socket is created with IPPROTO_TCP so",
        "  asyncio sets TCP_NODELAY on its connections. The SDK sets TCP_NODELAY on its client sockets; the raw httpx2",
        "  clients get the same option (`httpx2.HTTPTransport(socket_options=[(IPPROTO_TCP, TCP_NODELAY, 1)])`)",
        "  and the SDK's default timeouts, so neither side waits for delayed ACKs.",
        "- The raw side sends what the SDK sends for a trigger: `Authorization: Bearer`, a fresh uuid4",
        "  `Idempotency-Key`, `Content-Type: application/json`, the same body bytes, and parses the JSON answer.",
        "  The SDK additionally validates the answer against the spec and builds a typed result: that is the",
        "  overhead measured.",
        "- Row 5's `save()` also writes to a temporary file, checks the byte count and renames the file into",
        "  place (complete or absent); the raw side writes the target directly. `save(fsync=True)` also syncs",
        "  the file and its folder to disk; its raw side calls `os.fsync` on the file before closing it.",
        "  Its async lines also stream the file (`iter_bytes()`, each chunk counted and dropped, as a server",
        "  forwarding it does); the aiohttp backend's goal is on streaming, since a saved file's speed is",
        "  bounded by the page cache's writes, the same for every client.",
        "- Row 4 measures each backend against its floor warm (one client per side, its connections open)",
        "  and cold (a fresh client per burst, opening its connections; closing it is not timed).",
        "- A goal not met is explained by `python -m benchmarks._profile`, which sums a call's CPU by",
        "  package (the SDK, httpx2, httpcore2, h11, aiohttp, openai, asyncio, the socket calls).",
        "- Row 9 starts all its `trigger_run_and_wait` calls at once on one client (its pool of 100",
        "  connections); the server holds each request the run's `input.seconds` (asyncio.sleep) before it",
        "  answers the completed Run, so the calls go in waves of 100 and the wall time's floor is",
        "  ceil(calls / 100) x seconds. Its goal is no errors on the SDK side, on each SDK backend (httpx2,",
        "  aiohttp); the raw side is an httpx2.AsyncClient with the same pool limits, posting the same body.",
        "- Row 10 runs real runs: the local platform (`cxpa_sdk.testing.LocalPlatform`) in its own process",
        "  (`benchmarks/_platform_child.py`), its built-in `slow` agent sleeping each run's `input.seconds`",
        "  on a runtime thread, the lengths spread evenly from the shortest to the longest (the longest",
        "  started last). One `AsyncCxpa` per backend starts every `trigger_run_and_wait` at once; the raw",
        "  side (httpx2, the SDK's pool limits, no pool timeout) posts trigger-and-wait with timeoutMs",
        "  50000, then GETs the run with waitMs=50000 until it ends. Goal: no SDK error and a wall time",
        "  within 1.2 x the longest run. One measurement a side; a side still running at 4 x the goal's",
        "  wall time is stopped, its unfinished calls counted as errors. A TCP relay in front of the",
        "  platform counts each client's connections.",
        "- Row 11 compares the SDK with itself: a client with one hook that does nothing (`hooks=[Hook()]`)",
        "  against one without hooks, in alternating blocks as rows 2 and 3; it shows what the hook points",
        "  cost. A client without hooks does no hook work (rows 2 and 3 measure it against raw httpx2).",
        "- Row 12 measures the runtime host (`cxpa_sdk.runtime`) against its floor, a bare Starlette app whose",
        "  one route reads the body and answers 202, each under uvicorn (the benchmark server's settings) in a",
        "  process of its own. A load generator (one aiohttp.ClientSession, 32 requests in flight) POSTs signed",
        "  trigger deliveries (a fresh run id and `webhook-id` each, the same bytes and headers to both sides),",
        "  host and floor alternating in blocks. The host verifies each one (a `whsec_` secret), answers 202",
        "  and runs an async agent that returns at once; its `started` and `complete` go to a stub platform",
        "  (the benchmark server answering 200 at once), so that the platform's own work stays out. A host",
        "  block ends when every delivery is answered and every `complete` reported (the sustained rate, the",
        "  goal); the rate of answers alone is the second line. The ratio is of rates, host/floor.",
        "- Row 13 serves the local platform and the host in processes of their own (the platform's agent's",
        "  runtime URL is the host, its deliveries signed), triggers N runs whose async function reports",
        "  `started` and waits until released, and reads the host process's VmRSS (/proc) at idle after 20",
        "  warm-up runs and with all N waiting at once (the host's own count); the goal is on the growth per",
        "  run, with every run completed on the platform. It has no peer.",
        "- Row 14 runs N runs (100,000) of an inline agent (`LocalPlatform.add_agent(..., inline=True)`: each run",
        "  completes with its input inside the platform, on an event-loop timer, with no runtime thread and no",
        "  callback) from one sync `Cxpa` in a process of its own (`benchmarks/_scale_child.py`), against a",
        "  fresh local platform in another process for each measurement. Client CPU is the client process's",
        "  own (`resource.getrusage`), the platform's is read from /proc; the client's memory is VmHWM (reset",
        "  through /proc/self/clear_refs before the measured part) over VmRSS before it. One measurement a",
        "  line: each is 100,000 runs.",
        "- Row 15 kills a journaled `run_many` job (`benchmarks/_job_child.py`, a line printed per result)",
        "  with SIGKILL after k results, k drawn at random (seeded), several times, reruns it with its journal",
        "  to the end, and counts the platform's runs of the agent beyond the items (duplicates) and the items",
        "  without a completed run (lost). The platform serves in a thread of the benchmark process.",
        "",
        "## Notes",
        "",
        *notes,
    ]
    return "\n".join(out) + "\n"
