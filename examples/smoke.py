"""Smoke run: build a real trigger_run request with the generated client and print it.

Nothing is sent over the network: a mock transport answers as the platform would.
Run it with `python examples/smoke.py` after `pip install .`.
"""

import json

import httpx2

from cxpa_api import AuthenticatedClient
from cxpa_api.api.callers import trigger_run
from cxpa_api.models import JsonObject, TriggerRunRequest


def answer(request: httpx2.Request) -> httpx2.Response:
    """Print the request the generated client built and answer like the platform."""
    print(f"{request.method} {request.url}")
    for name in ("Content-Type", "Idempotency-Key"):
        print(f"{name}: {request.headers[name]}")
    print("Authorization: Bearer <redacted>")
    print(request.read().decode())
    return httpx2.Response(202, json={"runId": "run_smoke", "status": "queued"})


def main() -> None:
    """Trigger agent 42 through the generated client and print the decoded answer."""
    base_url = "http://127.0.0.1:8787"
    client = AuthenticatedClient(base_url=base_url, token="smoke-key")
    client.set_httpx_client(httpx2.Client(base_url=base_url, transport=httpx2.MockTransport(answer)))
    body = TriggerRunRequest(input_=JsonObject.from_dict({"url": "https://example.com"}))
    result = trigger_run.sync(42, client=client, body=body, idempotency_key="smoke-1")
    print(json.dumps(result.to_dict() if result else None))


if __name__ == "__main__":
    main()
