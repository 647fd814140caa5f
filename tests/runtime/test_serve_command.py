"""`cxpa runtime serve module:runtime`: a child process serves a Runtime that the local platform delivers to.

It prints where each agent is served, completes a run over real HTTP, and stops cleanly on SIGTERM,
draining its runs (a real signal to a child process); a target that is not a Runtime, or not found,
is a usage error (exit 2) of one line.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path

import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, child
from runtime_support import SECRET, settled

from cxpa_sdk import Cxpa
from cxpa_sdk._cli._main import run
from cxpa_sdk._cli._output import Streams
from cxpa_sdk.testing import LocalPlatform

MODULE = """
from cxpa_sdk.runtime import Runtime, SyncRunContext

runtime = Runtime()  # CXPA_API_URL and CXPA_SIGNING_SECRET from the environment
not_a_runtime = 42


@runtime.agent("shout")
def shout(run: SyncRunContext) -> dict[str, str]:
    return {"text": run.input["text"].upper()}
"""


def test_serve_serves_the_runtime_until_sigterm(platform: LocalPlatform, client: Cxpa, tmp_path: Path) -> None:
    """The command prints each agent's URL, its runs complete, and SIGTERM stops it with exit 0."""
    (tmp_path / "shouting.py").write_text(MODULE, encoding="utf-8")
    env = {**os.environ, "CXPA_API_URL": platform.base_url, "CXPA_SIGNING_SECRET": SECRET}
    command = [sys.executable, "-m", "cxpa_sdk", "runtime", "serve", "shouting:runtime", "--port", "0"]
    with child(command, what="`cxpa runtime serve`", lines=True, cwd=tmp_path, env=env) as server:
        banner = server.lines.until("Ctrl-C or SIGTERM stops it.\n", START_TIMEOUT_S)
        assert banner[0].startswith("CXPA runtime at http://127.0.0.1:")
        agent_url = banner[1].removeprefix("agent shout: ").strip()
        assert agent_url.endswith("/agents/shout")
        agent = platform.add_agent("shout", agent_url)
        run_id = client.trigger_run(agent.id, {"text": "quiet"}).run_id
        row = settled(platform, run_id, "completed", "failed")
        server.process.send_signal(signal.SIGTERM)
        code = server.wait(EXIT_TIMEOUT_S, since="SIGTERM")
        rest = server.lines.rest(EXIT_TIMEOUT_S)
    assert row["output_data"] == {"text": "QUIET"}, row
    assert rest == "stopped\n"
    assert code == 0
    assert SECRET not in "".join(banner) + rest


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("shouting", "expected module:attribute"),
        ("no_such_module:runtime", "no module named 'no_such_module'"),
        ("shouting:missing", "has no attribute 'missing'"),
        ("shouting:not_a_runtime", "is a int, not a cxpa_sdk.runtime.Runtime"),
    ],
    ids=["no-colon", "no-module", "no-attribute", "not-a-runtime"],
)
def test_serve_refuses_a_target_that_is_no_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, message: str
) -> None:
    """A target that names no Runtime is one line on stderr and exit 2; nothing is served."""
    (tmp_path / "shouting.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "shouting", raising=False)
    streams = Streams(io.StringIO(), io.StringIO(), io.StringIO())
    code = run(["runtime", "serve", target, "--port", "0"], streams)
    assert code == 2
    assert message in streams.stderr.getvalue()
    assert streams.stderr.getvalue().count("\n") == 1
    assert streams.stdout.getvalue() == ""


DRAINED = """
import asyncio
import time
from typing import Any

from cxpa_sdk.runtime import RunContext, Runtime, SyncRunContext

runtime = Runtime(drain_seconds=3)


@runtime.agent("quick")
async def quick(run: RunContext) -> dict[str, bool]:
    await asyncio.sleep(1)  # ends within the drain time
    return {"done": True}


@runtime.agent("slow-async")
async def slow_async(run: RunContext) -> None:
    await asyncio.sleep(60)


@runtime.agent("slow-sync")
def slow_sync(run: SyncRunContext) -> None:
    deadline = time.monotonic() + 60
    while not run.cancelled and time.monotonic() < deadline:
        time.sleep(0.02)


@runtime.agent("waits")
async def waits(run: RunContext) -> dict[str, Any]:
    return await run.wait_for_token(f"tok_{run.run_id}", "waiting across a restart")
"""


def test_sigterm_drains_then_fails_the_runs_left(platform: LocalPlatform, client: Cxpa, tmp_path: Path) -> None:
    """On SIGTERM a run ending within the drain completes, the rest fail "runtime shut down", a waiting one waits."""
    (tmp_path / "drained.py").write_text(DRAINED, encoding="utf-8")
    env = {**os.environ, "CXPA_API_URL": platform.base_url, "CXPA_SIGNING_SECRET": SECRET}
    command = [sys.executable, "-m", "cxpa_sdk", "runtime", "serve", "drained:runtime", "--port", "0"]
    with child(command, what="`cxpa runtime serve`", lines=True, cwd=tmp_path, env=env) as server:
        banner = server.lines.until("Ctrl-C or SIGTERM stops it.\n", START_TIMEOUT_S)
        urls = dict(line.removeprefix("agent ").strip().split(": ") for line in banner[1:-1])
        agents = {name: platform.add_agent(f"drained-{name}", url).id for name, url in urls.items()}
        runs = {name: client.trigger_run(agent_id, {}).run_id for name, agent_id in agents.items()}
        for name, run_id in runs.items():
            settled(platform, run_id, "waiting" if name == "waits" else "running")
        server.process.send_signal(signal.SIGTERM)
        code = server.wait(EXIT_TIMEOUT_S, since="SIGTERM")
        rest = server.lines.rest(EXIT_TIMEOUT_S)
    rows = {name: platform.run(run_id) for name, run_id in runs.items()}
    assert (rows["quick"]["status"], rows["quick"]["output_data"]) == ("completed", {"done": True})
    for name in ("slow-async", "slow-sync"):
        assert rows[name]["status"] == "failed", name
        assert rows[name]["error"]["name"] == "RuntimeShutDown"
        assert rows[name]["error"]["message"].startswith("runtime shut down")
    assert rows["waits"]["status"] == "waiting"
    assert (code, rest) == (0, "stopped\n")
