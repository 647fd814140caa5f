"""Every script in examples/ runs against the local platform, so no example can rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from forwarding_support import FORWARDING_EXAMPLES

from cxpa_sdk.testing import LocalPlatform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = {
    "trigger_run.py": ([], "started run_"),
    "trigger_run_and_wait.py": ([], "output of run_"),
    "trigger_run_and_download.py": ([], "saved report.pdf (application/pdf, 1048576 bytes)"),
    "register_run.py": ([], "registered run_"),
    "ingest_run.py": ([], "is completed"),
    "smoke.py": ([], '"runId": "run_smoke"'),
    # Signed deliveries verified, a run resumed through the public endpoint and finished from the resume payload.
    **{
        name: (
            ["--self-test"],
            "completed, output {'approved': True, 'approvedBy': 'dana', 'topic': 'Q3'}\n"
            "an unsigned delivery: 401 refused: unsigned",
        )
        for name in ("runtime_fastapi.py", "runtime_flask.py")
    },
}


# Served, not run: tests/runtime/test_example_runtime.py serves it against the local platform.
SERVED = {"agent_runtime.py"}


def test_every_example_is_tested() -> None:
    """No script in examples/ escapes a test: this one's, the forwarding servers' (tests/forwarding), or SERVED."""
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(SCRIPTS) | set(FORWARDING_EXAMPLES) | SERVED


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_runs(name: str, cxpa_platform: LocalPlatform, tmp_path: Path) -> None:
    """The example exits 0 and prints what it promises, configured only through the environment."""
    args, expected = SCRIPTS[name]
    env = {**os.environ, "CXPA_API_URL": cxpa_platform.base_url, "CXPA_INGEST_KEY": cxpa_platform.ingest_key}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
