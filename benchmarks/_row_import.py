"""Row 1: the wall time of `python -c "import cxpa_sdk"` against `python -c "import httpx2"`, fresh processes."""

from __future__ import annotations

import compileall
import subprocess
import sys
import time

from benchmarks._common import REPO_ROOT
from benchmarks._result import RowResult, Scale
from benchmarks._runner import alternate

GOAL_RATIO = 1.3


def _import_seconds(module: str) -> float:
    """The wall time of a fresh interpreter that imports `module` and exits."""
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - this interpreter, a fixed import statement
        [sys.executable, "-c", f"import {module}"], cwd=REPO_ROOT, check=True, timeout=60
    )
    return time.perf_counter() - started


def _compile_sources() -> None:
    """Bring the repository's bytecode up to date, as `pip install` does for an installed package.

    With PYTHONDONTWRITEBYTECODE set (as on some machines) a source edited since its .pyc was written
    is compiled again on every import: 1.7 ms for one 130-line module here, paid by the SDK side only.
    """
    for package in ("cxpa_sdk", "generated"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)


def run(scale: Scale) -> list[RowResult]:
    """Measure the import pair alternately, on up-to-date bytecode."""
    _compile_sources()
    pairs = alternate(lambda: _import_seconds("cxpa_sdk"), lambda: _import_seconds("httpx2"), reps=scale.import_reps)
    return [
        RowResult(
            1,
            'import: `python -c "import cxpa_sdk"` vs `python -c "import httpx2"` (subprocess wall time)',
            f"{pairs.sdk_median * 1000:.0f} ms",
            f"{pairs.raw_median * 1000:.0f} ms",
            f"{pairs.ratio_median:.2f}",
            f"ratio <= {GOAL_RATIO}",
            pairs.ratio_median <= GOAL_RATIO,
            [
                f"{pairs.reps} pairs after a warm-up pair; the wall time includes interpreter start-up on both sides. "
                "The repository's bytecode is compiled first (compileall), as pip does for an installed package."
            ],
        )
    ]
