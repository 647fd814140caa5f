"""An agent runtime: a small HTTP server that receives trigger payloads and reports through AgentClient.

The platform POSTs the trigger payload (runId, agentId, input, agentApiKey, credentialsToken) to the
runtime's URL; the runtime answers 202 at once and works in the background, calling back with
started, output and complete (or fail, with the exception, if anything raises).

    python examples/agent_runtime.py --port 9000   # then register http://127.0.0.1:9000/ as the agent's URL

With --self-test it starts a local platform, registers itself as an agent there, triggers a run and
prints the result.
"""

import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cxpa_sdk import AgentClient, InvalidArgumentError, TriggerPayload


def work(payload: TriggerPayload, base_url: str | None) -> None:
    """The agent's job: count the words of input.text, reporting progress on the way."""
    with AgentClient.from_payload(payload, base_url=base_url) as agent:  # sends started; fail() if this raises
        words = str(payload.input.get("text", "")).split()
        agent.output({"progress": 0.5})
        agent.complete({"words": len(words)}, outputs=len(words))


def make_handler(base_url: str | None) -> type[BaseHTTPRequestHandler]:
    """A request handler that validates the payload and starts the work on a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                payload = TriggerPayload.parse(body)
            except InvalidArgumentError as exc:
                self.send_error(400, str(exc))
                return
            threading.Thread(target=work, args=(payload, base_url), daemon=True).start()
            self.send_response(202)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the platform records the runs."""

    return Handler


def self_test() -> None:
    """Serve the runtime, point a local platform's agent at it, and run it once."""
    from cxpa_sdk import Cxpa  # noqa: PLC0415
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415

    platform = LocalPlatform()
    with platform.serve() as platform_url:
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(platform_url))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        agent = platform.add_agent("word-count", f"http://127.0.0.1:{server.server_address[1]}/")
        with Cxpa(base_url=platform_url, ingest_api_key=platform.ingest_key) as client:
            result = client.trigger_run_and_wait(agent.id, {"text": "to be or not to be"}, timeout_ms=30_000)
        server.shutdown()
        server.server_close()
    print(f"run {result.run_id}: {result.status}, output {result.output_data}")


def main() -> None:
    """Serve the runtime (or run the self-test)."""
    parser = argparse.ArgumentParser(description="A word-count agent runtime.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(None))  # base URL from CXPA_API_URL
    print(f"runtime listening on http://127.0.0.1:{args.port}/")
    server.serve_forever()


if __name__ == "__main__":
    main()
