"""An agent runtime: a small HTTP server that receives trigger payloads and reports through AgentClient.

The platform POSTs the trigger payload (runId, agentId, input, agentApiKey, credentialsToken) to the
runtime's URL; the runtime answers 202 at once and works in the background, calling back with
started, output and complete (or fail, with the exception, if anything raises).

A run whose input has `"approval": true` reports `waiting` on token `tok_<runId>` and stops working.
When the token is resumed, the platform POSTs a resume payload (`"type": "resumed"`, runId, tokenId,
output, agentApiKey, credentialsToken) to the same URL; the runtime answers 202 and finishes the run.

    cxpa dev-server --agent word-count=http://127.0.0.1:9000/ &   # a local platform; the agent is id 7
    CXPA_API_URL=http://127.0.0.1:8787 python examples/agent_runtime.py --port 9000
    cxpa wait 7 --input '{"text": "to be or not to be"}'

With --self-test it starts a local platform, registers itself as an agent there, triggers a run
(and an approval run that it resumes) and prints the results.
"""

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cxpa_sdk import AgentClient, InvalidArgumentError, ResumePayload, TriggerPayload, parse_runtime_payload


def work(payload: TriggerPayload, base_url: str | None) -> None:
    """The agent's job: count the words of input.text, reporting progress on the way."""
    with AgentClient.from_payload(payload, base_url=base_url) as agent:  # sends started; fail() if this raises
        words = str(payload.input.get("text", "")).split()
        agent.output({"progress": 0.5, "words": len(words)})
        if payload.input.get("approval"):
            agent.waiting(f"tok_{payload.run_id}", "waiting for a person to approve the count")
            return  # the run waits; the block leaves it waiting, and the resume payload finishes it
        agent.complete({"words": len(words)}, outputs=len(words))


def resumed(payload: ResumePayload, base_url: str | None) -> None:
    """Finish a run that was waiting on its token: back to running, then complete."""
    with AgentClient.from_payload(payload, base_url=base_url) as agent:  # sends started: waiting -> running
        agent.complete({"approved": True, **payload.output})


def make_handler(base_url: str | None) -> type[BaseHTTPRequestHandler]:
    """A request handler that validates the payload and starts the work on a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                payload = parse_runtime_payload(body)  # a TriggerPayload, or a ResumePayload once resumed
            except InvalidArgumentError as exc:
                self.send_error(400, str(exc))
                return
            if isinstance(payload, ResumePayload):
                job = threading.Thread(target=resumed, args=(payload, base_url), daemon=True)
            else:
                job = threading.Thread(target=work, args=(payload, base_url), daemon=True)
            job.start()
            self.send_response(202)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the platform records the runs."""

    return Handler


def self_test() -> None:
    """Serve the runtime, point a local platform's agent at it, and run it once (and once with an approval)."""
    from cxpa_sdk import Cxpa  # noqa: PLC0415
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415

    platform = LocalPlatform()
    with platform.serve() as platform_url:
        server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(platform_url))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        agent = platform.add_agent("word-count", f"http://127.0.0.1:{server.server_address[1]}/")
        with Cxpa(base_url=platform_url, ingest_api_key=platform.ingest_key) as client:
            first = client.trigger_run(agent.id, {"text": "to be or not to be"})
            result = client.wait_for_run(agent.id, first.run_id, timeout=30)
            print(f"run {result.run_id}: {result.status}, output {result.output_data}")
            run_id = client.trigger_run(agent.id, {"text": "ship it", "approval": True}).run_id
            deadline = time.monotonic() + 30
            while client.get_run(agent.id, run_id).status != "waiting" and time.monotonic() < deadline:
                time.sleep(0.02)
            platform.resume(f"tok_{run_id}", {"approvedBy": "self-test"})  # the runtime is sent the resume payload
            approved = client.wait_for_run(agent.id, run_id, timeout=30)
            print(f"run {approved.run_id}: {approved.status}, output {approved.output_data}")
        server.shutdown()
        server.server_close()


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
