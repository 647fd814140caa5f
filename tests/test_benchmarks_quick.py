"""The benchmark suite runs end to end in --quick mode and writes a row for each measure (no speed checks)."""

import subprocess
import sys
from pathlib import Path

import pytest

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmarks_write_every_row(tmp_path: Path) -> None:
    """`python -m benchmarks --quick --output B.md` exits 0; rows 1 to 8, downloads with and without fsync."""
    output = tmp_path / "B.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    table = [line for line in output.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    numbers = {line.split("|")[1].strip() for line in table}
    assert {str(n) for n in range(1, 9)} <= numbers
    assert not [line for line in table if "| error |" in line], "a row could not be measured"
    peers = [line for line in table if line.startswith("| 8 |")]
    assert len(peers) == 4, "row 8: sync and async, against httpx 0.28 and openai-python"
    downloads = [line for line in table if line.startswith("| 5 |") and "(throughput)" in line]
    assert len(downloads) == 4
    assert sum("save(fsync=True)" in line for line in downloads) == 2
