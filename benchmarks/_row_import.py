"""Row 1: the wall time of `python -c "import cxpa_sdk"` against a peer's import, fresh processes, two environments.

- bare: a new virtual environment with the cxpa-sdk wheel and its dependencies only, where the peer
  is `import httpx2` (what the SDK cannot be faster than by much);
- full: the same wheel with the `cli` and `testing` extras, plus httpx 0.28, where the peer is
  `import httpx` (0.28's `__init__` imports its own CLI, which pulls in rich and click when they
  are installed, as they are beside uvicorn and the `cli` extra).

Both environments are built in a temporary folder for the run, from a wheel of the repository (pip
compiles the bytecode, as for any installed package). `--quick` measures in the current
environment instead.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from benchmarks._common import REPO_ROOT
from benchmarks._result import RowResult, Scale
from benchmarks._runner import alternate

GOALS = {"bare": 1.15, "full": 1.0}
PEERS = {"bare": "httpx2", "full": "httpx"}
WHAT = {
    "bare": "bare environment (cxpa-sdk and its dependencies)",
    "full": "with the `cli` and `testing` extras and httpx 0.28",
}
PIP_TIMEOUT_S = 900


def _import_seconds(python: str, module: str) -> float:
    """The wall time of a fresh interpreter that imports `module` and exits."""
    started = time.perf_counter()
    subprocess.run([python, "-c", f"import {module}"], check=True, timeout=60)  # noqa: S603 - fixed import
    return time.perf_counter() - started


def _self_times(python: str, module: str) -> dict[str, float]:
    """Each module's own import time in ms for `import module` (`-X importtime`, a fresh interpreter)."""
    done = subprocess.run(  # noqa: S603 - fixed import
        [python, "-X", "importtime", "-c", f"import {module}"], check=True, timeout=60, capture_output=True, text=True
    )
    times: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            times[name.strip()] = int(own) / 1000
    return times


def _explain(python: str, peer: str, runs: int = 5) -> str:
    """Where `import cxpa_sdk` spends what `import <peer>` does not (`-X importtime`, medians of `runs`)."""
    ours, theirs = (
        [_self_times(python, "cxpa_sdk") for _ in range(runs)],
        [_self_times(python, peer) for _ in range(runs)],
    )
    beyond = set(ours[0]) - set(theirs[0])
    own = statistics.median(sum(t for name, t in run.items() if name.startswith("cxpa_sdk")) for run in ours)
    extra = statistics.median(sum(t for name, t in run.items() if name in beyond) for run in ours) - own
    peer_total = statistics.median(sum(run.values()) for run in theirs)
    slowest = sorted(((statistics.median(run.get(n, 0.0) for run in ours), n) for n in beyond), reverse=True)[:5]
    return (
        f"Goal not met; `-X importtime`, medians of {runs} runs: `import {peer}` takes {peer_total:.1f} ms of "
        f"module code; `import cxpa_sdk` adds {own:.1f} ms in its own modules and {extra:.1f} ms in the other "
        f"modules it needs beyond {peer}'s; the slowest of those: "
        + ", ".join(f"{name} {ms:.1f} ms" for ms, name in slowest)
        + ". The rest of the wall time is the interpreter's start-up, the same on both sides."
    )


def _pip(python: str, *args: str) -> None:
    subprocess.run([python, "-m", "pip", "-q", *args], check=True, timeout=PIP_TIMEOUT_S)  # noqa: S603


def _environments(folder: Path) -> dict[str, str]:
    """The two environments' interpreters, built from one wheel of the repository."""
    _pip(sys.executable, "wheel", "--no-deps", "-w", str(folder / "wheel"), str(REPO_ROOT))
    wheel = next((folder / "wheel").glob("cxpa_sdk-*.whl"))
    pythons: dict[str, str] = {}
    for name, requirements in (("bare", [str(wheel)]), ("full", [f"{wheel}[cli,testing]", "httpx==0.28.1"])):
        venv.create(folder / name, with_pip=True)
        pythons[name] = str(folder / name / "bin" / "python")
        _pip(pythons[name], "install", *requirements)
    return pythons


def _line(name: str, python: str, scale: Scale, quick: bool) -> RowResult:
    peer = PEERS[name]
    pairs = alternate(
        lambda: _import_seconds(python, "cxpa_sdk"), lambda: _import_seconds(python, peer), reps=scale.import_reps
    )
    where = "the current environment (--quick)" if quick else WHAT[name]
    line = RowResult(
        1,
        f'import, {where}: `python -c "import cxpa_sdk"` vs `python -c "import {peer}"` (subprocess wall time)',
        f"{pairs.sdk_median * 1000:.0f} ms",
        f"{pairs.raw_median * 1000:.0f} ms",
        f"{pairs.ratio_median:.2f}",
        f"ratio <= {GOALS[name]}",
        pairs.ratio_median <= GOALS[name],
        [
            f"{WHAT[name]}: {pairs.reps} pairs after a warm-up pair; the wall time includes interpreter start-up "
            "on both sides."
        ],
    )
    if line.met is False:
        line.notes.append(_explain(python, peer))
    return line


def run(scale: Scale) -> list[RowResult]:
    """Measure each environment's import pair alternately."""
    if not scale.import_environments:
        return [_line(name, sys.executable, scale, quick=True) for name in ("bare", "full")]
    with tempfile.TemporaryDirectory(prefix="cxpa-bench-import-") as folder:
        return [_line(name, python, scale, quick=False) for name, python in _environments(Path(folder)).items()]
