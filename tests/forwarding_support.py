"""The forwarding examples, served as their users run them: a child process on 127.0.0.1 in front of the platform."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from child_support import START_TIMEOUT_S, child

from cxpa_sdk.testing import REPORT, LocalPlatform, report_bytes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Each web framework's recipe of docs/downloads.md, as a script: `--port 0` serves it on a free port.
FORWARDING_EXAMPLES = ["forward_fastapi.py", "forward_flask.py", "forward_django.py"]


@contextmanager
def served_example(name: str, platform: LocalPlatform, *, pid: list[int] | None = None) -> Iterator[str]:
    """Serve examples/`name` against `platform`; its base URL. `pid`, when given, receives the child's pid."""
    env = {**os.environ, "CXPA_API_URL": platform.base_url, "CXPA_INGEST_KEY": platform.ingest_key}
    with child([sys.executable, str(EXAMPLES / name), "--port", "0"], what=name, lines=True, env=env) as server:
        line = server.lines.next(START_TIMEOUT_S, "the address it serves on")
        assert line.startswith("serving on http://127.0.0.1:"), f"{name} printed {line!r}"
        if pid is not None:
            pid.append(server.process.pid)
        yield line.removeprefix("serving on ").strip()


def sha256_of_report(size: int) -> str:
    """The sha256 of the `report` agent's file of `size` bytes."""
    digest = hashlib.sha256()
    for chunk in report_bytes(size):
        digest.update(chunk)
    return digest.hexdigest()


def ended_run(platform: LocalPlatform, seconds: float = 15.0) -> dict[str, object]:
    """The newest `report` run's row once it has ended, polled for at most `seconds`."""
    for _ in range(int(seconds / 0.05)):
        runs = platform.runs(REPORT)
        if runs and runs[-1]["status"] in ("completed", "failed", "cancelled"):
            return runs[-1]
        time.sleep(0.05)
    raise AssertionError(f"the newest report run had not ended after {seconds} s: {platform.runs(REPORT)[-1:]}")
