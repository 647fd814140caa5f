"""An agent runtime on the runtime host (`cxpa_sdk.runtime`): the agent is a function, the host does the HTTP.

The platform POSTs the trigger payload to `/agents/word-count`; the host verifies it (with the keys in
CXPA_SIGNING_SECRET), answers 202 at once and runs the function in the background: `started` on entry,
its return value is `complete`, an exception is `fail`. A run whose input has `"approval": true` waits
on token `tok_<runId>` in place until it is resumed; a run whose input has `"seconds": n` sleeps n
seconds, and a cancel stops it at that await (nothing is reported after a cancel).

    cxpa dev-server --agent word-count=http://127.0.0.1:9000/agents/word-count &   # the agent is id 7
    CXPA_API_URL=http://127.0.0.1:8787 cxpa runtime serve agent_runtime:runtime --port 9000
    cxpa wait 7 --input '{"text": "to be or not to be"}'

With --self-test it starts a local platform, serves itself there, and runs the agent three times (a
plain run, an approval run that it resumes, and a slow run that it cancels), printing the results.
"""

import argparse
import asyncio
import os
import socket
import threading
import time
from typing import Any

from cxpa_sdk import ResumePayload
from cxpa_sdk.runtime import RunContext, Runtime

MAX_SECONDS = 60.0  # the longest a slow run works, in seconds

runtime = Runtime()  # signing keys from CXPA_SIGNING_SECRET; the platform URL from CXPA_API_URL


@runtime.agent("word-count", max_concurrency=8)
async def word_count(run: RunContext) -> dict[str, Any]:
    """Count the words of input.text, reporting progress; wait for an approval when asked to."""
    words = str(run.input.get("text", "")).split()
    await run.output({"progress": 0.5, "words": len(words)})
    await asyncio.sleep(min(float(run.input.get("seconds", 0)), MAX_SECONDS))  # a cancel stops the run here
    if run.input.get("approval"):
        approval = await run.wait_for_token(f"tok_{run.run_id}", "waiting for a person to approve the count")
        return {"words": len(words), "approved": True, **approval}
    run.outputs = len(words)
    return {"words": len(words)}


@word_count.on_resume
async def word_count_resumed(run: RunContext, payload: ResumePayload) -> dict[str, Any]:
    """A resume that reached a restarted process: count again from the run's input, which the payload carries."""
    return {"words": len(str(run.input.get("text", "")).split()), "approved": True, **payload.output}


def self_test() -> None:
    """Serve the runtime, point a local platform's agent at it, and run it (with an approval, and cancelled)."""
    import uvicorn  # noqa: PLC0415

    from cxpa_sdk import Cxpa  # noqa: PLC0415
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415

    platform = LocalPlatform()
    with platform.serve() as platform_url:
        os.environ["CXPA_API_URL"] = platform_url  # this process's runtime reports to its own platform
        sock = socket.create_server(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(runtime.asgi(), log_level="warning"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        agent = platform.add_agent("word-count", f"http://127.0.0.1:{sock.getsockname()[1]}/agents/word-count")
        with Cxpa(base_url=platform_url, ingest_api_key=platform.ingest_key) as client:

            def reached(run_id: str, status: str) -> str:
                deadline = time.monotonic() + 30
                while client.get_run(agent.id, run_id).status != status and time.monotonic() < deadline:
                    time.sleep(0.02)
                return str(client.get_run(agent.id, run_id).status)

            first = client.trigger_run(agent.id, {"text": "to be or not to be"})
            result = client.wait_for_run(agent.id, first.run_id, timeout=30)
            print(f"run {result.run_id}: {result.status}, output {result.output_data}")
            run_id = client.trigger_run(agent.id, {"text": "ship it", "approval": True}).run_id
            reached(run_id, "waiting")
            platform.resume(f"tok_{run_id}", {"approvedBy": "self-test"})  # the runtime is sent the resume payload
            approved = client.wait_for_run(agent.id, run_id, timeout=30)
            print(f"run {approved.run_id}: {approved.status}, output {approved.output_data}")
            slow_id = client.trigger_run(agent.id, {"text": "a long job", "seconds": MAX_SECONDS}).run_id
            reached(slow_id, "running")
            client.cancel_run(agent.id, slow_id)  # the runtime is sent the cancel payload
            print(f"run {slow_id}: {reached(slow_id, 'cancelled')}")
        server.should_exit = True


def main() -> None:
    """Serve the runtime (or run the self-test)."""
    parser = argparse.ArgumentParser(description="A word-count agent runtime.")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    import uvicorn  # noqa: PLC0415

    uvicorn.run(runtime.asgi(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
