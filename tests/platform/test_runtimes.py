"""Runtimes: Python callables and URLs, crashes, hangs, and the trigger payload they receive."""

import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from cxpa_sdk.testing import LocalPlatform, RuntimeCall
from cxpa_sdk.testing._server import serve_in_thread


def wait_row(http: httpx2.Client, agent_id: int, run_id: str) -> dict:
    """The run's row once it ends (long poll, 10 s at most)."""
    return http.get(f"/api/agents/{agent_id}/runs/{run_id}", params={"waitMs": 10000}).json()


def trigger(http: httpx2.Client, agent_id: int, input_data: dict | None = None) -> str:
    """Trigger a run; its id."""
    return str(http.post(f"/api/agents/{agent_id}/runs/trigger", json={"input": input_data or {}}).json()["runId"])


def test_callable_receives_the_trigger_payload(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A Python runtime gets runId, agentId, input, agentApiKey and credentialsToken, and the base URL."""
    seen: list[RuntimeCall] = []

    def runtime(call: RuntimeCall) -> None:
        seen.append(call)
        auth = {"Authorization": f"Bearer {call.payload['agentApiKey']}"}
        url = f"{call.base_url}/api/runs/{call.run_id}/callback"
        httpx2.post(url, json={"type": "started"}, headers=auth).raise_for_status()
        httpx2.post(url, json={"type": "output", "output": "ok", "complete": True}, headers=auth).raise_for_status()

    agent = cxpa_platform.add_agent("payload-check", runtime)
    run_id = trigger(http, agent.id, {"q": 1})
    assert wait_row(http, agent.id, run_id)["status"] == "completed"
    payload = seen[0].payload
    assert set(payload) == {"runId", "agentId", "input", "agentApiKey", "credentialsToken"}
    assert (payload["runId"], payload["agentId"], payload["input"]) == (run_id, agent.id, {"q": 1})
    assert payload["agentApiKey"] == cxpa_platform.agent_api_key(agent.id)
    assert "agentApiKey" not in repr(seen[0])


def test_crashing_runtime_fails_the_run(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A runtime that raises ends its run failed with the exception's type, message and traceback."""

    def crash(call: RuntimeCall) -> None:
        raise KeyError("no such thing")

    agent = cxpa_platform.add_agent("crash", crash)
    row = wait_row(http, agent.id, trigger(http, agent.id))
    assert row["status"] == "failed"
    assert row["error"]["name"] == "KeyError"
    assert "no such thing" in row["error"]["message"]
    assert "Traceback" in row["error"]["stack"]


def test_hanging_runtime_fails_at_max_run_duration(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A runtime past its agent's maxRunDurationMs ends the run failed and sees `cancelled`."""
    stopped = threading.Event()

    def hang(call: RuntimeCall) -> None:
        if call.cancelled.wait(10):
            stopped.set()

    agent = cxpa_platform.add_agent("hang", hang, max_run_duration_ms=200)
    row = wait_row(http, agent.id, trigger(http, agent.id))
    assert row["status"] == "failed"
    assert row["error"] == {"name": "TimeoutError", "message": "the run exceeded maxRunDurationMs (200 ms)"}
    assert stopped.wait(5)


def test_runtime_returning_early_fails_the_run(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A runtime that returns without ending its run leaves nothing running forever."""
    agent = cxpa_platform.add_agent("lazy", lambda call: None)
    row = wait_row(http, agent.id, trigger(http, agent.id))
    assert row["status"] == "failed"
    assert row["error"]["message"] == "the runtime returned with the run still queued"


@pytest.fixture(scope="module")
def url_runtime(cxpa_platform_session: LocalPlatform) -> Iterator[tuple[str, list[dict]]]:
    """An external runtime: `/json` calls back from a thread; `/file` streams a file; `/broken` is 500."""
    received: list[dict] = []

    def call_back(payload: dict, base_url: str) -> None:
        auth = {"Authorization": f"Bearer {payload['agentApiKey']}"}
        url = f"{base_url}/api/runs/{payload['runId']}/callback"
        httpx2.post(url, json={"type": "started"}, headers=auth)
        httpx2.post(url, json={"type": "output", "output": {"via": "url"}, "complete": True}, headers=auth)

    async def json_runtime(request: Request) -> Response:
        payload = await request.json()
        received.append(payload)
        threading.Thread(target=call_back, args=(payload, cxpa_platform_session.base_url)).start()
        return JSONResponse({"accepted": True}, 202)

    async def file_runtime(request: Request) -> Response:
        received.append(await request.json())

        async def body() -> Iterator[bytes]:
            for _ in range(4):
                yield b"x" * 1000

        return StreamingResponse(
            body(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="export.csv"'}
        )

    async def broken(request: Request) -> Response:
        return Response("nope", 500)

    app = Starlette(
        routes=[
            Route("/json", json_runtime, methods=["POST"]),
            Route("/file", file_runtime, methods=["POST"]),
            Route("/broken", broken, methods=["POST"]),
        ]
    )
    with serve_in_thread(app) as base_url:
        yield base_url, received


def test_url_runtime_receives_payload_and_calls_back(
    http: httpx2.Client, cxpa_platform: LocalPlatform, url_runtime: tuple[str, list[dict]]
) -> None:
    """A URL runtime gets the payload as a JSON POST and reports through the callback endpoint."""
    base, received = url_runtime
    agent = cxpa_platform.add_agent("url-json", f"{base}/json")
    run_id = trigger(http, agent.id, {"u": 1})
    row = wait_row(http, agent.id, run_id)
    (payload,) = [p for p in received if p["runId"] == run_id]
    assert (payload["agentId"], payload["input"]) == (agent.id, {"u": 1})
    assert (row["status"], row["output_data"]) == ("completed", {"via": "url"})


def test_url_file_runtime_streams_through(
    http: httpx2.Client, cxpa_platform: LocalPlatform, url_runtime: tuple[str, list[dict]]
) -> None:
    """A URL file runtime's streamed answer reaches the downloader with its name and type."""
    base, _ = url_runtime
    agent = cxpa_platform.add_agent("url-file", f"{base}/file", output_kind="file_download")
    response = http.post(f"/api/agents/{agent.id}/runs/trigger-and-download", json={"input": {}})
    assert response.status_code == 200
    assert response.content == b"x" * 4000
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="export.csv"'
    assert wait_row(http, agent.id, response.headers["x-run-id"])["status"] == "completed"


def test_url_runtime_error_fails_the_run(
    http: httpx2.Client, cxpa_platform: LocalPlatform, url_runtime: tuple[str, list[dict]]
) -> None:
    """A URL runtime answering 500 ends the run failed, naming the answer."""
    base, _ = url_runtime
    agent = cxpa_platform.add_agent("url-broken", f"{base}/broken")
    row = wait_row(http, agent.id, trigger(http, agent.id))
    assert row["status"] == "failed"
    assert row["error"]["message"] == f"the runtime at {base}/broken answered 500"


def test_unreachable_url_runtime_fails_the_run(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A URL runtime nobody listens on ends the run failed."""
    agent = cxpa_platform.add_agent("url-gone", "http://127.0.0.1:9/nothing")
    row = wait_row(http, agent.id, trigger(http, agent.id))
    assert row["status"] == "failed"
    assert "did not answer" in row["error"]["message"]


def test_serve_stops_cleanly_and_fast() -> None:
    """Leaving serve() stops the server thread and closes its socket within a second."""
    platform = LocalPlatform()
    before = set(threading.enumerate())
    with platform.serve() as base_url:
        assert httpx2.get(f"{base_url}/nowhere").status_code == 404
        assert (
            httpx2.post(
                f"{base_url}/api/agents/1/runs/trigger-and-wait",
                json={"input": {}},
                headers={"Authorization": f"Bearer {platform.ingest_key}"},
            ).status_code
            == 200
        )
        started = time.monotonic()
    assert time.monotonic() - started < 1
    assert [t for t in set(threading.enumerate()) - before if t.name == "cxpa-platform"] == []
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{base_url}/nowhere")


def test_served_sockets_send_without_delay() -> None:
    """Accepted connections have TCP_NODELAY, so no answer waits for the client's delayed ACK."""
    import socket  # noqa: PLC0415

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        sock = send.__self__.transport.get_extra_info("socket")  # type: ignore[attr-defined]
        flag = str(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-nodelay", flag)]})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    with serve_in_thread(app) as base_url:
        assert httpx2.get(base_url).headers["x-nodelay"] == "1"
