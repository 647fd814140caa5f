"""docs/batches.md's first example runs as written: 200 documents through run_many on a local platform."""

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "batches.md"


def test_the_first_example_runs_as_written() -> None:
    """The block prints one line per document, each with the run's status and output."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block[1], str(DOC), "exec"), {"__name__": "batches_doc"})  # noqa: S102 - the doc's own example
    lines = printed.getvalue().splitlines()
    assert len(lines) == 200
    assert all("RunStatus.COMPLETED" in line or "completed" in line for line in lines)
    assert sorted(int(line.split()[0]) for line in lines) == list(range(200))
