"""An agent runtime: a small HTTP server that receives trigger payloads and reports through AgentClient.

The platform POSTs the trigger payload (runId, agentId, input, agentApiKey, credentialsToken) to the
runtime's URL; the runtime answers 202 at once and works in the background, calling back with
started, output and complete (or fail, with the exception, if anything raises).

A run whose input has `"approval": true` reports `waiting` on token `tok_<runId>` and stops working.
When the token is resumed, the platform POSTs a resume payload (`"type": "resumed"`, runId, tokenId,
output, agentApiKey, credentialsToken) to the same URL; the runtime answers 202 and finishes the run.

A run whose input has `"seconds": n` works for n seconds in small steps. When a run is cancelled, the
platform POSTs a cancel payload (`"type": "cancelled"`, runId, agentId) to the same URL: the runtime
sets that run's stop event and its work stops at the next step. (A runtime that missed the payload
would still learn of it: its next callback raises RunCancelledError, and `agent.is_cancelled()` asks.)

    cxpa dev-server --agent word-count=http://127.0.0.1:9000/ &   # a local platform; the agent is id 7
    CXPA_API_URL=http://127.0.0.1:8787 python examples/agent_runtime.py --port 9000
    cxpa wait 7 --input '{"text": "to be or not to be"}'

With --self-test it starts a local platform, registers itself as an agent there, triggers a run
(an approval run that it resumes, and a slow run that it cancels) and prints the results.
"""

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cxpa_sdk import (
    AgentClient,
    CancelPayload,
    InvalidArgumentError,
    ResumePayload,
    RunCancelledError,
    TriggerPayload,
    parse_runtime_payload,
)

MAX_SECONDS = 60.0  # the longest a slow run works, in seconds
STEP_SECONDS = 0.05  # one step of work: how soon a cancel stops it

_stops: dict[str, threading.Event] = {}  # run id -> set when the run is cancelled
_stops_lock = threading.Lock()


def stop_event(run_id: str) -> threading.Event:
    """The event that a cancel payload for `run_id` sets: made when the trigger payload arrives."""
    with _stops_lock:
        return _stops.setdefault(run_id, threading.Event())


def cancelled(payload: CancelPayload) -> None:
    """Stop the work of a cancelled run (a cancel for a run that already ended here changes nothing)."""
    with _stops_lock:
        stop = _stops.get(payload.run_id)
    if stop is not None:
        stop.set()


def work(payload: TriggerPayload, base_url: str | None) -> None:
    """The agent's job: count the words of input.text, reporting progress on the way; stop when cancelled."""
    stop = stop_event(payload.run_id)
    try:
        with AgentClient.from_payload(payload, base_url=base_url) as agent:  # sends started; fail() if this raises
            words = str(payload.input.get("text", "")).split()
            agent.output({"progress": 0.5, "words": len(words)})
            seconds = min(float(payload.input.get("seconds", 0)), MAX_SECONDS)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if stop.wait(STEP_SECONDS):  # the cancel payload arrived: stop working
                    agent.is_cancelled()  # confirms it, so the block's end reports nothing
                    return
            if payload.input.get("approval"):
                agent.waiting(f"tok_{payload.run_id}", "waiting for a person to approve the count")
                return  # the run waits; the block leaves it waiting, and the resume payload finishes it
            agent.complete({"words": len(words)}, outputs=len(words))
    except RunCancelledError:
        return  # a callback said so (the cancel payload was missed): the block sent nothing more
    finally:
        with _stops_lock:
            _stops.pop(payload.run_id, None)


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
                payload = parse_runtime_payload(body)  # a TriggerPayload, a ResumePayload or a CancelPayload
            except InvalidArgumentError as exc:
                self.send_error(400, str(exc))
                return
            if isinstance(payload, CancelPayload):
                cancelled(payload)  # quick: the answer is only logged by the platform
            elif isinstance(payload, ResumePayload):
                threading.Thread(target=resumed, args=(payload, base_url), daemon=True).start()
            else:
                stop_event(payload.run_id)  # before the work starts, so an early cancel is not missed
                threading.Thread(target=work, args=(payload, base_url), daemon=True).start()
            self.send_response(202)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the platform records the runs."""

    return Handler


def self_test() -> None:
    """Serve the runtime, point a local platform's agent at it, and run it (with an approval, and cancelled)."""
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
            slow_id = client.trigger_run(agent.id, {"text": "a long job", "seconds": MAX_SECONDS}).run_id
            deadline = time.monotonic() + 30
            while client.get_run(agent.id, slow_id).status != "running" and time.monotonic() < deadline:
                time.sleep(0.02)
            client.cancel_run(agent.id, slow_id)  # the runtime is sent the cancel payload
            while slow_id in _stops and time.monotonic() < deadline:  # its work ends and forgets the run
                time.sleep(0.02)
            stopped = "stopped" if slow_id not in _stops else "still running"
            print(f"run {slow_id}: {client.get_run(agent.id, slow_id).status}, its work {stopped}")
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
