"""The generated client builds a real request for every operation (the README's smoke run)."""

import httpx2

from cxpa_api import AuthenticatedClient
from cxpa_api.api.callers import trigger_run
from cxpa_api.models import JsonObject, TriggerRunRequest


def test_generated_client_builds_and_sends_a_trigger() -> None:
    """trigger_run sends the path, bearer key, Idempotency-Key and JSON body the contract names."""
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(202, json={"runId": "run_1", "status": "queued"}, headers={"X-Request-Id": "r"})

    client = AuthenticatedClient(base_url="http://127.0.0.1:8787", token="sentinel-key")
    client.set_httpx_client(
        httpx2.Client(
            base_url="http://127.0.0.1:8787",
            transport=httpx2.MockTransport(handler),
            headers={"Authorization": "Bearer sentinel-key"},
        )
    )
    body = TriggerRunRequest(input_=JsonObject.from_dict({"url": "https://example.com"}))
    answer = trigger_run.sync(42, client=client, body=body, idempotency_key="key-1")
    (request,) = seen
    assert request.method == "POST"
    assert request.url.path == "/api/agents/42/runs/trigger"
    assert request.headers["Authorization"] == "Bearer sentinel-key"
    assert request.headers["Idempotency-Key"] == "key-1"
    assert request.read() == b'{"input":{"url":"https://example.com"}}'
    assert answer is not None
    assert answer.run_id == "run_1"
