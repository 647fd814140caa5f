"""The platform streams a file download through in constant memory: it never buffers the file.

The platform runs in its own process (`python -m cxpa_sdk.testing`), so that its peak resident memory
(VmHWM in /proc/PID/status, Linux) measures the server alone, not the test that reads the file.
"""

from __future__ import annotations

import hashlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx2
import pytest

import cxpa_api
import cxpa_sdk
from cxpa_sdk.testing import DEFAULT_INGEST_KEY, REPORT, report_bytes

# Load and chaos tests: the primary Python runs them; the others run the rest (tox.ini).
pytestmark = pytest.mark.heavy

MIB = 1 << 20
FILE_BYTES = 256 * MIB
CHUNK_BYTES = 64 << 10
WARM_UP_BYTES = MIB
MAX_GROWTH_BYTES = 32 * MIB
STARTUP_S = 30.0
DOWNLOAD_S = 120.0
BANNER = "CXPA local platform at "


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", line
            return int(value) * 1024
    raise AssertionError(f"no VmHWM line in /proc/{pid}/status")


def first_line(stream: IO[str], timeout_s: float) -> str:
    """The first line a pipe gives within `timeout_s` seconds (read on a helper thread, so it can't hang)."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True)
    reader.start()
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        raise AssertionError(f"the platform printed nothing within {timeout_s} s") from None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """`python -m cxpa_sdk.testing --port 0` in a subprocess: its pid and base URL; killed afterwards."""
    # The subprocess imports the same cxpa_sdk and cxpa_api as this test, installed or from the checkout.
    roots = {str(Path(module.__file__).resolve().parent.parent) for module in (cxpa_sdk, cxpa_api)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*sorted(roots), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "platform.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "cxpa_sdk.testing", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = first_line(process.stdout, STARTUP_S)
        assert line.startswith(BANNER), f"unexpected first line {line!r}; log: {log.read_text(errors='replace')}"
        base_url = line.removeprefix(BANNER).strip()
        assert base_url.startswith("http://127.0.0.1:"), base_url
        yield process.pid, base_url
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def download(client: httpx2.Client, size: int) -> tuple[int, str, str | None]:
    """Stream a `size`-byte report from the file agent: bytes received, their sha256, and Content-Length."""
    body = {"input": {"sizeBytes": size, "chunkBytes": CHUNK_BYTES}}
    digest = hashlib.sha256()
    received = 0
    deadline = time.monotonic() + DOWNLOAD_S
    with client.stream("POST", f"/api/agents/{REPORT}/runs/trigger-and-download", json=body) as response:
        assert response.status_code == 200, response.read()[:500]
        for chunk in response.iter_raw():
            received += len(chunk)
            digest.update(chunk)
            assert time.monotonic() < deadline, f"the download took over {DOWNLOAD_S} s ({received} bytes so far)"
        return received, digest.hexdigest(), response.headers.get("content-length")


def expected_sha256(size: int) -> str:
    """The sha256 of the report agent's `size` bytes, hashed chunk by chunk (never joined)."""
    digest = hashlib.sha256()
    for chunk in report_bytes(size):
        digest.update(chunk)
    return digest.hexdigest()


def test_a_256_mib_download_raises_the_server_peak_memory_by_under_32_mib(server: tuple[int, str]) -> None:
    """A 256 MiB download arrives whole and intact while the server's peak memory grows by under 32 MiB."""
    pid, base_url = server
    headers = {"Authorization": f"Bearer {DEFAULT_INGEST_KEY}"}
    timeout = httpx2.Timeout(30.0)
    with httpx2.Client(base_url=base_url, headers=headers, timeout=timeout, trust_env=False) as client:
        warm_up = download(client, WARM_UP_BYTES)
        assert warm_up == (WARM_UP_BYTES, expected_sha256(WARM_UP_BYTES), str(WARM_UP_BYTES))
        before = peak_rss_bytes(pid)
        received, sha256, content_length = download(client, FILE_BYTES)
        after = peak_rss_bytes(pid)
    assert received == FILE_BYTES
    assert content_length == str(received)
    assert sha256 == expected_sha256(FILE_BYTES)
    growth = after - before
    assert growth < MAX_GROWTH_BYTES, (
        f"the server's peak memory grew by {growth / MIB:.1f} MiB ({before / MIB:.1f} -> {after / MIB:.1f} MiB)"
    )
