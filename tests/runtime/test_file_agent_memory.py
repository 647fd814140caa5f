"""A file agent streams 1 GiB through the runtime host in flat memory (the runtime in a child process, heavy).

The runtime is served by `cxpa runtime serve` in its own process, so that its peak resident memory
(VmHWM in /proc/PID/status, Linux) measures the host alone; the platform and the downloading client
are this process. The file is made by an async generator, 1 MiB at a time, and checked by its digest.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path

import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, child
from runtime_support import SECRET, settled

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import LocalPlatform

pytestmark = pytest.mark.heavy  # the primary Python runs it (tox.ini)

MIB = 1 << 20
FILE_BYTES = 1024 * MIB
MAX_GROWTH_BYTES = 48 * MIB  # the host's peak may grow by this much over its idle size, for any file size

MODULE = """
import hashlib
from cxpa_sdk.runtime import AgentFile, RunContext, Runtime

runtime = Runtime()


@runtime.file_agent("big", filename="big.bin")
async def big(run: RunContext) -> AgentFile:
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
    async def chunks():
        for _ in range(run.input["mib"]):
            yield block
    return AgentFile(chunks(), length=run.input["mib"] * len(block))
"""


def rss_bytes(pid: int, field: str) -> int:
    """A process's VmRSS or VmHWM, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
def test_one_gibibyte_file_through_the_host_in_flat_memory(
    platform: LocalPlatform, client: Cxpa, tmp_path: Path
) -> None:
    """1 GiB arrives whole (digest and length); the host's peak grows by at most MAX_GROWTH_BYTES."""
    (tmp_path / "bigfile.py").write_text(MODULE, encoding="utf-8")
    env = {**os.environ, "CXPA_API_URL": platform.base_url, "CXPA_SIGNING_SECRET": SECRET}
    command = [sys.executable, "-m", "cxpa_sdk", "runtime", "serve", "bigfile:runtime", "--port", "0"]
    with child(command, what="`cxpa runtime serve`", lines=True, cwd=tmp_path, env=env) as server:
        banner = server.lines.until("Ctrl-C or SIGTERM stops it.\n", START_TIMEOUT_S)
        agent_url = banner[1].removeprefix("agent big: ").strip()
        agent = platform.add_agent("big", agent_url, output_kind="file_download")
        with client.trigger_run_and_download(agent.id, {"mib": 1}) as warm_up:  # imports and first buffers
            warm_up.read()
        idle = rss_bytes(server.process.pid, "VmRSS")
        digest, size = hashlib.sha256(), 0
        with client.trigger_run_and_download(agent.id, {"mib": FILE_BYTES // MIB}) as download:
            for chunk in download.iter_bytes():
                digest.update(chunk)
                size += len(chunk)
        peak = rss_bytes(server.process.pid, "VmHWM")
        row = settled(platform, download.run_id, "completed", "failed")
        server.process.send_signal(signal.SIGTERM)
        server.wait(EXIT_TIMEOUT_S, since="SIGTERM")
    block = hashlib.sha256(b"seed").digest() * 32768
    expected = hashlib.sha256()
    for _ in range(FILE_BYTES // MIB):
        expected.update(block)
    assert size == FILE_BYTES
    assert digest.hexdigest() == expected.hexdigest()
    assert row["status"] == "completed"
    assert peak - idle <= MAX_GROWTH_BYTES, f"the host grew {(peak - idle) / MIB:.1f} MiB for a 1 GiB file"
