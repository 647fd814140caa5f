"""`cxpa demo`: the six seed operations end to end, over real HTTP, against a local platform."""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._client import Cxpa
from .._runtime._agent import AgentClient
from ..testing import ECHO, REPORT, STANDALONE, LocalPlatform, RuntimeCall, report_bytes
from ._output import Streams, progress_bar, table

DEMO_FILE_BYTES = 8 << 20


def _runtime(resume_ready: threading.Event) -> Callable[[RuntimeCall], None]:
    """The demo's own agent runtime: started, output, waiting, resolve a credential, complete."""

    def runtime(call: RuntimeCall) -> None:
        with AgentClient.from_payload(call.payload, base_url=call.base_url) as agent:
            agent.output({"step": "collecting"}, outputs=1)
            agent.waiting(f"tok_{call.run_id}", "waiting for a person to approve")
            resume_ready.set()
            if call.wait_for_resume(timeout=30) is None:
                raise TimeoutError("nobody approved within 30 s")
            agent.started()
            credential = agent.resolve_credential("conn_demo")
            agent.complete({"approved": True, "credential_keys": sorted(credential.values)}, outputs=2)

    return runtime


def _sha256(chunks: Any) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class StepFailed(Exception):
    """A demo step got an answer other than the one it checks for (raised also under `python -O`)."""


def expect(holds: bool, why: str) -> None:
    """Fail the step with `why` unless `holds`."""
    if not holds:
        raise StepFailed(why)


def run_demo(output_dir: Path | None, streams: Streams) -> bool:
    """Run every step, print a table of steps with timings, and say whether all passed.

    The downloaded file is kept in `output_dir`; without one it goes to a temporary folder that is
    removed at the end. Either way the last line says where it went.
    """
    if output_dir is not None:
        passed = _run_steps(output_dir, streams)
        streams.stdout.write(f"the downloaded file is kept in {output_dir.resolve()}\n")
        return passed
    with tempfile.TemporaryDirectory(prefix="cxpa-demo-") as temporary:
        passed = _run_steps(Path(temporary), streams)
    streams.stdout.write(f"the downloaded file was saved in {temporary} and removed with it (keep it: --output-dir)\n")
    return passed


def _run_steps(output_dir: Path, streams: Streams) -> bool:
    """Every step against a fresh local platform, its file saved in `output_dir`: whether all passed."""
    platform = LocalPlatform()
    resume_ready = threading.Event()
    runtime_agent = platform.add_agent("demo-runtime", _runtime(resume_ready), max_run_duration_ms=60_000)
    rows: list[list[str]] = []
    passed = True

    def step(name: str, action: Callable[[], str]) -> None:
        nonlocal passed
        started = time.perf_counter()
        try:
            detail, ok = action(), True
        except Exception as exc:  # a failed step is reported in the table, not raised
            detail, ok = f"{type(exc).__name__}: {exc}", False
        passed &= ok
        rows.append([name, "ok" if ok else "FAILED", f"{(time.perf_counter() - started) * 1000:.0f} ms", detail])

    with platform.serve() as base_url, Cxpa(base_url=base_url, ingest_api_key=platform.ingest_key) as client:
        streams.stdout.write(f"cxpa demo: a local CXPA platform at {base_url}\n")

        def trigger() -> str:
            run = client.trigger_run(ECHO, {"url": "https://example.com"})
            expect(run.run_id.startswith("run_"), f"the run id {run.run_id!r} does not start with run_")
            return f"run {run.run_id} {run.status}"

        def trigger_and_wait() -> str:
            result = client.trigger_run_and_wait(ECHO, {"topic": "Q3 financial summary"}, timeout_ms=30_000)
            if result.timed_out or result.status != "completed":
                raise StepFailed(f"the run ended {result.status}")
            expect(result.output_data == {"topic": "Q3 financial summary"}, "the output is not the input echoed")
            return f"run {result.run_id} completed with its output"

        def trigger_and_download() -> str:
            output_dir.mkdir(parents=True, exist_ok=True)
            request = {"sizeBytes": DEMO_FILE_BYTES, "filename": "q3-report.pdf"}
            with (
                client.trigger_run_and_download(REPORT, request) as download,
                progress_bar(streams, download.filename) as progress,
            ):
                path = download.save(output_dir, progress=progress)
            with path.open("rb") as saved:
                expect(_sha256(saved) == _sha256(report_bytes(DEMO_FILE_BYTES)), "the saved file's sha256 differs")
            return f"{path} ({path.stat().st_size} bytes, sha256 checked)"

        def register() -> str:
            registered = client.register_run(ECHO, "demo-external-run")
            expect(bool(registered.credentials_token), "no credentials token")
            return f"run {registered.run_id}, token valid {registered.expires_in_seconds} s"

        def ingest() -> str:
            ingested = client.ingest_run(STANDALONE, "demo-exec-1", "completed", output={"pages": 42}, outputs=42)
            expect(ingested.status == "completed", f"the ingested run is {ingested.status}")
            return f"run {ingested.run_id} completed"

        def agent_runtime() -> str:
            run_id = client.trigger_run(runtime_agent.id, {"report": "Q3"}).run_id
            if not resume_ready.wait(30):
                raise TimeoutError("the runtime never reached waiting")
            platform.resume(f"tok_{run_id}", {"approved_by": "demo"})
            run = client.wait_for_run(runtime_agent.id, run_id, timeout=30).raise_for_status()
            expect(run.output_data == {"approved": True, "credential_keys": ["apiKey"]}, "the runtime's output differs")
            return f"run {run_id}: started, output, waiting, resolved a credential, completed"

        for name, action in [
            ("trigger_run", trigger),
            ("trigger_run_and_wait", trigger_and_wait),
            ("trigger_run_and_download", trigger_and_download),
            ("register_run", register),
            ("ingest_run", ingest),
            ("agent runtime", agent_runtime),
        ]:
            step(name, action)
    table(rows, ["step", "result", "time", "detail"], streams)
    streams.stdout.write("all steps passed\n" if passed else "some steps FAILED\n")
    return passed
