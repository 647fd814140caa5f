"""A FastAPI agent runtime that verifies the platform's signed deliveries and is resumed by an approval.

The platform signs each POST to the runtime's URL (trigger, resume, cancel) with the Standard Webhooks
headers; the runtime refuses anything unsigned, tampered, stale or replayed (docs/runtimes.md,
"Signed deliveries"). Its runs wait for an approval, and finish from the resume payload alone (it
carries the run's input): no state in the runtime.

    cxpa dev-server --signing-secret "$CXPA_SIGNING_SECRET" --agent approve=http://127.0.0.1:9001/cxpa
    CXPA_API_URL=http://127.0.0.1:8787 CXPA_SIGNING_SECRET=whsec_... python examples/runtime_fastapi.py --port 9001
    cxpa resume AGENT_ID RUN_ID tok_RUN_ID --output '{"approvedBy": "dana"}'

`--self-test` runs it against a local platform that signs: a run approved, a forged delivery refused.
"""

import argparse
import base64
import os
import threading
from collections.abc import Callable

import uvicorn
from fastapi import BackgroundTasks, FastAPI, Request, Response

from cxpa_sdk import (
    AgentClient,
    DeliveryVerificationError,
    InvalidArgumentError,
    ResumePayload,
    TriggerPayload,
    verify_delivery,
)

app = FastAPI()


@app.post("/cxpa")
async def deliveries(request: Request, background: BackgroundTasks) -> Response:
    """Take a delivery: verified over the body's bytes as received, answered at once, worked on after."""
    try:
        payload = verify_delivery(await request.body(), request.headers, secrets=os.environ["CXPA_SIGNING_SECRET"])
    except DeliveryVerificationError as exc:
        return Response(f"refused: {exc.check}", status_code=401)  # never act on it
    except InvalidArgumentError:
        return Response("not a runtime payload", status_code=400)
    if isinstance(payload, TriggerPayload):
        background.add_task(ask_for_approval, payload)
    elif isinstance(payload, ResumePayload):
        background.add_task(finish, payload)
    return Response(status_code=202)  # a CancelPayload: nothing runs between the wait and the resume


def ask_for_approval(payload: TriggerPayload) -> None:
    """Report the run waiting on its token: the block ends, the run stays paused until it is resumed."""
    with AgentClient.from_payload(payload) as agent:  # the platform's URL from CXPA_API_URL
        agent.waiting(f"tok_{payload.run_id}", f"approve the report on {payload.input.get('topic')}")


def finish(payload: ResumePayload) -> None:
    """Finish the run from the resume payload alone: its input and the approver's output."""
    with AgentClient.from_payload(payload) as agent:  # sends started: waiting -> running
        agent.complete({"topic": (payload.input or {}).get("topic"), "approved": True, **payload.output})


def serve(port: int) -> tuple[str, Callable[[], None]]:
    """Serve the app on loopback in a background thread; its URL, and a function that stops it."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/cxpa", stop


def self_test() -> None:
    """Run it against a local platform that signs: one run approved and finished, one forged delivery refused."""
    import httpx2  # noqa: PLC0415

    from cxpa_sdk import Cxpa  # noqa: PLC0415
    from cxpa_sdk.testing import LocalPlatform  # noqa: PLC0415

    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    os.environ["CXPA_SIGNING_SECRET"] = secret  # what the runtime trusts
    platform = LocalPlatform(signing_secret=secret)  # what the platform signs with
    with platform.serve() as platform_url:
        os.environ["CXPA_API_URL"] = platform_url  # where the runtime reports
        url, stop = serve(0)
        agent = platform.add_agent("approve", url)
        with Cxpa(base_url=platform_url, ingest_api_key=platform.ingest_key) as client:
            handle = client.trigger_run(agent.id, {"topic": "Q3"})
            waits = (event for event in handle.events(timeout=30) if event.type == "waiting")
            token = next(waits).waiting
            if token is None:
                raise SystemExit("the waiting event names no token")
            handle.resume(token.token_id, {"approvedBy": "dana"})  # POST .../resume: the runtime is sent the payload
            run = handle.result(timeout=30)
            print(f"run {run.run_id}: {run.status}, output {run.output_data}")
        forged: dict[str, object] = {"runId": run.run_id, "agentId": agent.id, "input": {}, "agentApiKey": "stolen"}
        answer = httpx2.post(url, json=forged)  # no signature: refused, nothing runs
        print(f"an unsigned delivery: {answer.status_code} {answer.text}")
        stop()


def main() -> None:
    """Serve the runtime (or run the self-test)."""
    parser = argparse.ArgumentParser(description="A FastAPI agent runtime that verifies signed deliveries.")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    uvicorn.run(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
