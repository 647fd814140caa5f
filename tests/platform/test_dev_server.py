"""`cxpa dev-server --agent/--file-agent/--agent-key`, run as a user runs it: a child process on loopback."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from child_support import EXIT_TIMEOUT_S, START_TIMEOUT_S, child

from cxpa_sdk import AgentClient, Cxpa, TriggerPayload

AGENT_KEY = "dev-word-key-7f3a"
FILE = b"%PDF-1.7 dev server file\n" * 100


class Runtime:
    """A URL runtime on loopback: JSON runs complete with a word count; file runs answer with FILE."""

    def __init__(self) -> None:
        self.platform_url = ""
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = TriggerPayload.parse(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/file":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pdf")
                    self.send_header("Content-Length", str(len(FILE)))
                    self.send_header("Content-Disposition", 'attachment; filename="dev.pdf"')
                    self.end_headers()
                    self.wfile.write(FILE)
                    return
                self.send_response(202)
                self.end_headers()
                threading.Thread(target=runtime.work, args=(payload,), daemon=True).start()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def work(self, payload: TriggerPayload) -> None:
        """Report a word count through the dev server's callback endpoint."""
        with AgentClient.from_payload(payload, base_url=self.platform_url) as agent:
            agent.complete({"words": len(str(payload.input.get("text", "")).split())})


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    """A served URL runtime."""
    made = Runtime()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()
    thread.join(10)


def test_dev_server_runs_url_agents_and_fixed_agent_keys(runtime: Runtime) -> None:
    """`--agent`, `--file-agent` and `--agent-key`: the dev server's runs reach my runtime, and I know its key."""
    command = [
        sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0",
        "--agent", f"word={runtime.url}/run", "--file-agent", f"pdf={runtime.url}/file",
        "--agent-key", f"word={AGENT_KEY}",
    ]  # fmt: skip
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        banner = server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)
        url = banner[0].split(" at ")[1].strip()
        runtime.platform_url = url
        assert f"  7  word        platform    json           -> {runtime.url}/run\n" in banner
        assert any(line.startswith("  8  pdf") and "file_download" in line for line in banner)
        assert AGENT_KEY not in "".join(banner)
        with Cxpa(base_url=url, ingest_api_key="cxpa_local_ingest_key") as client:
            run = client.trigger_run_and_wait(7, {"text": "to be or not to be"}, timeout_ms=30_000)
            assert (run.status, run.output_data) == ("completed", {"words": 6})
            with client.trigger_run_and_download(8, {}) as download:
                assert (download.filename, download.read()) == ("dev.pdf", FILE)
            token = client.register_run(7, "ext-1").credentials_token
        resolved = subprocess.run(
            [sys.executable, "-m", "cxpa_sdk", "credential", "conn_demo", "--base-url", url,
             "--api-key", AGENT_KEY, "--credentials-token", token],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        server.process.terminate()
        assert server.wait(EXIT_TIMEOUT_S, since="SIGTERM") == 0
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["values"] == {"apiKey": "***"}
    assert AGENT_KEY not in resolved.stdout + resolved.stderr


def test_dev_server_serves_inline_agents() -> None:
    """`--inline-agent fast --inline-agent later=50`: their runs complete with their input inside the platform."""
    command = [
        sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0",
        "--inline-agent", "fast", "--inline-agent", "later=50",
    ]  # fmt: skip
    with child(command, what="`cxpa dev-server`", lines=True) as server:
        banner = server.lines.until("Ctrl-C stops it.\n", START_TIMEOUT_S)
        url = banner[0].split(" at ")[1].strip()
        assert "  7  fast        platform    json           inline, 0 ms a run\n" in banner
        assert "  8  later       platform    json           inline, 50 ms a run\n" in banner
        with Cxpa(base_url=url, ingest_api_key="cxpa_local_ingest_key") as client:
            ended = [item.run for item in client.run_many(8, [{"n": n} for n in range(50)])]
            assert sorted(run.output_data["n"] for run in ended if run is not None) == list(range(50))
        server.process.terminate()
        assert server.wait(EXIT_TIMEOUT_S, since="SIGTERM") == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--agent", "report"], "--agent: expected NAME=URL"),
        (["--agent", "x=ftp://host/run"], "must be http:// or https://"),
        (["--file-agent", "7=http://127.0.0.1:9/"], "must be a word"),
        (["--agent", "echo=http://127.0.0.1:9/"], "an agent named 'echo' already exists"),
        (["--agent-key", "nosuch=s3cret-value"], "no agent is named or numbered 'nosuch'"),
        (["--agent-key", "1=cxpa_local_ingest_key"], "already in use"),
        (["--inline-agent", "fast=-5"], "DELAY_MS must be a number of milliseconds >= 0"),
    ],
    ids=["no-url", "bad-scheme", "numeric-name", "taken-name", "unknown-agent", "key-in-use", "inline-delay"],
)
def test_bad_dev_server_flags_are_exit_2_before_serving(flags: list[str], message: str) -> None:
    """A bad `--agent`/`--agent-key` is exit 2 with one line saying what is wrong; a key is never echoed."""
    done = subprocess.run(
        [sys.executable, "-m", "cxpa_sdk", "dev-server", "--port", "0", *flags],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
    assert "s3cret-value" not in done.stderr
