"""The benchmark suite runs end to end in --quick mode and writes a row for each measure (no speed checks)."""

import subprocess
import sys
from pathlib import Path

import pytest

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmarks_write_every_row(tmp_path: Path) -> None:
    """`python -m benchmarks --quick --output B.md` exits 0 with every row and line: no measure silently missing."""
    output = tmp_path / "B.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # rows 12 to 15 start children of their own: some seconds more on a loaded machine
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = [line for line in output.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    numbers = {line.split("|")[1].strip() for line in table}
    assert {str(n) for n in range(1, 16)} <= numbers
    assert not [line for line in table if "| error |" in line], "a row could not be measured"

    def row(number: int) -> list[str]:
        return [line for line in table if line.startswith(f"| {number} |")]

    assert len(row(4)) == 4, "row 4: warm and cold, each backend against its floor"
    assert sum('http_backend="aiohttp"' in line and "plain aiohttp" in line for line in row(4)) == 2
    assert len(row(8)) == 7, "row 8: httpx 0.28 and openai (sync, async), the aiohttp backend vs three peers"
    assert sum("plain aiohttp" in line for line in row(8)) == 1
    assert len(row(9)) == 2, "row 9: 1000 waits on each async backend"
    assert len(row(10)) == 2, "row 10: 1000 waits on real runs, on each async backend"
    assert len(row(11)) == 2, "row 11: the cost of a hook, sync and async"
    assert len(row(12)) == 4, "row 12: the runtime host's deliveries, sustained and answers alone, on each backend"
    assert sum("reports on aiohttp" in line for line in row(12)) == 2
    assert len(row(13)) == 1, "row 13: the runtime host's memory with many runs in flight"
    assert len(row(14)) == 4, "row 14: trigger rate, end to end, CPU per awaited run, memory per pending run"
    assert len(row(15)) == 1, "row 15: a journaled job killed and rerun: duplicates and lost items"
    assert row(15)[0].endswith("| yes |"), "row 15: a rerun after SIGKILL never duplicates nor loses"
    downloads = [line for line in row(5) if "(throughput" in line]
    assert sum("save(fsync=True)" in line for line in downloads) == 2
    assert sum("iter_bytes()" in line for line in downloads) == 3, "streaming: both backends, and the floor"
