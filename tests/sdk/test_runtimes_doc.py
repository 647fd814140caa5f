"""Every Python block of docs/runtimes.md runs as written, against the local platform, and does what the page says.

The blocks are fragments of a runtime (they read a `request_body`, a `body`, a `call`), so each
runs where the page puts it: inside a runtime the local platform calls, or on a delivery it made,
with the names the page's sentences set up. They run as the page shows them (`exec` of the block's
text, nothing added), and a new block without a harness here fails `test_every_block_has_a_harness`.
The quoted excerpts of examples/ are run with their files (tests/cli/test_examples.py).
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from delivery_support import TRIGGER, body_of, new_secret, signed

from cxpa_sdk import (
    AgentClient,
    Cxpa,
    DeliveryVerificationError,
    ResumePayload,
    RunStatus,
    TriggerPayload,
    parse_runtime_payload,
)
from cxpa_sdk.testing import LocalPlatform, RuntimeCall
from cxpa_sdk.testing._server import serve_in_thread

PAGE = Path(__file__).resolve().parents[2] / "docs" / "runtimes.md"
BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.DOTALL)
EXCERPT = re.compile(r"# examples/\w+\.py\n")
APPROVAL = 6


def blocks() -> list[str]:
    """The page's Python blocks, in order, but the excerpts of example files."""
    return [m["code"] for m in BLOCK.finditer(PAGE.read_text(encoding="utf-8")) if not EXCERPT.match(m["code"])]


def run_block(code: str, **names: Any) -> dict[str, Any]:
    """Execute a block as written, with the names its page sets up; its namespace after."""
    module = types.ModuleType("runtimes_doc_block")  # a module, as a user's file is (dataclasses look it up)
    module.__dict__.update(names)
    sys.modules[module.__name__] = module
    try:
        # dont_inherit: not this file's `from __future__ import annotations` (a block must run without it)
        exec(compile(code, str(PAGE), "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the docs' own examples, as shown
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


@pytest.fixture
def configured(cxpa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> LocalPlatform:
    """The local platform, named by CXPA_API_URL and CXPA_INGEST_KEY as a runtime or an app would find it."""
    monkeypatch.setenv("CXPA_API_URL", cxpa_platform.base_url)
    monkeypatch.setenv("CXPA_INGEST_KEY", cxpa_platform.ingest_key)
    return cxpa_platform


def client_of(platform: LocalPlatform) -> Cxpa:
    """A client of the platform."""
    return Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key)


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) until `condition()` holds."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def a_runtime_host(code: str, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The host block, served under uvicorn, verifies a signed delivery, waits in place, and completes on resume."""
    secret = new_secret()
    monkeypatch.setenv("CXPA_SIGNING_SECRET", secret)
    app = run_block(code)["app"]
    with serve_in_thread(app) as url:
        agent = platform.add_agent("doc-host", f"{url}/agents/word-count", signing_secret=secret)
        with client_of(platform) as client:
            run_id = client.trigger_run(agent.id, {"text": "to be or not to be"}).run_id
            until(lambda: client.get_run(agent.id, run_id).status == RunStatus.WAITING, "the run never waited")
            client.resume_run(agent.id, run_id, f"tok_{run_id}", {"approvedBy": "dana"})
            run = client.wait_for_run(agent.id, run_id, timeout=20)
    assert run.output_data == {"words": 6, "keyed": True, "approvedBy": "dana"}


def typed_input(code: str, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The typed-input block: a good input is counted from the dataclass, a bad one fails naming the field."""
    monkeypatch.delenv("CXPA_SIGNING_SECRET", raising=False)
    app = run_block(code)["runtime"].asgi()
    with serve_in_thread(app) as url, client_of(platform) as client:
        agent = platform.add_agent("doc-typed", f"{url}/agents/word-count")
        good = client.trigger_run_and_wait(agent.id, {"text": "a b c"}, timeout_ms=20_000)
        bad = client.trigger_run_and_wait(agent.id, {"text": 3}, timeout_ms=20_000)
    assert (good.status, good.output_data) == (RunStatus.COMPLETED, {"words": 3})
    assert bad.status == RunStatus.FAILED
    assert bad.error is not None
    assert bad.error.message == "input.text: expected a string, got int"


def file_agents(code: str, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The file-agent block: the generator's CSV reaches the caller under the declared name."""
    monkeypatch.delenv("CXPA_SIGNING_SECRET", raising=False)
    app = run_block(code)["runtime"].asgi()
    with serve_in_thread(app) as url, client_of(platform) as client:
        agent = platform.add_agent("doc-file", f"{url}/agents/csv-report", output_kind="file_download")
        with client.trigger_run_and_download(agent.id, {"rows": 3}) as download:
            saved = download.save(tmp_path)
    assert saved.name == "report.csv"
    assert saved.read_text() == "row,square\n0,0\n1,1\n2,4\n"


def the_agent_client(code: str, platform: LocalPlatform) -> None:
    """The agent client block, run as a runtime on the trigger payload's bytes, completes its run."""
    agent = platform.add_agent(
        "doc-agent-client", lambda call: run_block(code, request_body=json.dumps(call.payload).encode())
    )
    with client_of(platform) as client:
        run = client.trigger_run_and_wait(agent.id, {}, timeout_ms=20_000)
    assert (run.status, run.output_data, run.outputs) == (RunStatus.COMPLETED, {"pages": 42}, 42)


def resuming_from_an_app(code: str, platform: LocalPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    """The app's block resumes a waiting run of the approval agent with its client, and sees it complete."""
    with client_of(platform) as client:
        run_id = client.trigger_run(APPROVAL, {}).run_id
        until(lambda: client.get_run(APPROVAL, run_id).status == RunStatus.WAITING, "the run never waited")
        run_block(code, agent_id=APPROVAL, run_id=run_id)
        assert client.get_run(APPROVAL, run_id).output_data == {"approved": True, "approvedBy": "dana"}
    assert capsys.readouterr().out == "completed\n"


class _UrlRuntime(http.server.BaseHTTPRequestHandler):
    """A URL runtime: a trigger makes its run wait on `tok_<runId>`; a resume runs the page's block on its bytes."""

    code: str
    errors: list[BaseException]

    def do_POST(self) -> None:
        """Answer 202, then work on the delivery."""
        body = self.rfile.read(int(self.headers["content-length"]))
        self.send_response(202)
        self.end_headers()
        threading.Thread(target=self.work, args=(body,), daemon=True).start()

    def work(self, body: bytes) -> None:
        """The trigger's half, by hand; the resume's half, the page's block."""
        try:
            payload = parse_runtime_payload(body)
            if isinstance(payload, TriggerPayload):
                with AgentClient.from_payload(payload) as agent:
                    agent.waiting(f"tok_{payload.run_id}", "approve")
            elif isinstance(payload, ResumePayload):
                run_block(self.code, body=body)
        except BaseException as exc:
            self.errors.append(exc)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def resumed_url_runtime(code: str, platform: LocalPlatform) -> None:
    """The resume block, run on a resume payload's bytes, completes the run with the input and the output."""
    errors: list[BaseException] = []
    handler = type("Runtime", (_UrlRuntime,), {"code": code, "errors": errors})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        agent = platform.add_agent("doc-resume", f"http://127.0.0.1:{server.server_address[1]}/")
        with client_of(platform) as client:
            run_id = client.trigger_run(agent.id, {"topic": "Q3"}).run_id
            until(lambda: client.get_run(agent.id, run_id).status == RunStatus.WAITING, "the run never waited")
            client.resume_run(agent.id, run_id, f"tok_{run_id}", {"approvedBy": "dana"})
            run = client.wait_for_run(agent.id, run_id, timeout=20)
    finally:
        server.shutdown()
        server.server_close()
    assert not errors
    assert run.output_data == {"approved": True, "input": {"topic": "Q3"}, "approvedBy": "dana"}


def the_cancel_pattern(code: str, platform: LocalPlatform, caplog: pytest.LogCaptureFixture) -> None:
    """The cancel pattern stops its work once the run is cancelled, and sends nothing after (no 409 for a fail)."""
    steps: list[int] = []
    returned = threading.Event()

    def do_one_step(step: int) -> None:
        steps.append(step)
        time.sleep(0.01)

    runtime = run_block(code, do_one_step=do_one_step, RuntimeCall=RuntimeCall)["runtime"]

    def observed(call: RuntimeCall) -> None:
        try:
            runtime(call)
        finally:
            returned.set()

    agent = platform.add_agent("doc-cancel", observed)
    caplog.set_level(logging.DEBUG, logger="cxpa_sdk")
    with client_of(platform) as client:
        run_id = client.trigger_run(agent.id, {}).run_id
        until(lambda: len(steps) >= 3, "the runtime never stepped")
        client.cancel_run(agent.id, run_id)
        assert returned.wait(20)
        assert client.get_run(agent.id, run_id).status == RunStatus.CANCELLED
    assert len(steps) < 100
    assert not [r for r in caplog.records if "already ended" in r.getMessage() or r.levelno >= logging.WARNING]


def stopping_on_a_cancel_payload(code: str, platform: LocalPlatform) -> None:
    """The cancel payload block sets the run's stop event."""
    stops = {"run_8f14e45fceea167a": threading.Event(), "run_other": threading.Event()}
    body = json.dumps({"type": "cancelled", "runId": "run_8f14e45fceea167a", "agentId": 42}).encode()
    run_block(code, body=body, stops=stops)
    assert stops["run_8f14e45fceea167a"].is_set()
    assert not stops["run_other"].is_set()


def verifying_with_keys(code: str, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed parse block reads a delivery signed with CXPA_SIGNING_SECRET, and refuses a changed one."""
    secret = new_secret()
    monkeypatch.setenv("CXPA_SIGNING_SECRET", f"{new_secret()}, {secret}")  # rotating: two keys in the variable
    body = body_of()
    headers = signed(body, secrets=(secret,))
    assert run_block(code, body=body, headers=headers)["payload"] == TriggerPayload.parse(TRIGGER)
    with pytest.raises(DeliveryVerificationError, match="replayed"):
        run_block(code, body=body, headers=headers)
    with pytest.raises(DeliveryVerificationError, match="signature"):
        run_block(code, body=body.replace(b"Q3", b"Q4"), headers=signed(body, secrets=(secret,)))


def a_shared_store(code: str, platform: LocalPlatform) -> None:
    """The Redis store keeps each id once, for the ttl rounded up to whole seconds (SET NX EX)."""
    kept: dict[str, int] = {}

    class FakeRedis:
        def set(self, name: str, value: int, *, nx: bool, ex: int) -> bool | None:
            assert nx
            if name in kept:
                return None
            kept[name] = ex
            return True

    store = run_block(code)["RedisSeenDeliveries"](FakeRedis())
    assert store.first_time("msg_1", ttl=600.5)
    assert not store.first_time("msg_1", ttl=600.5)
    assert kept == {"cxpa:delivery:msg_1": 601}


# Each block's harness, in the page's order, with a phrase of the block that it must contain.
HARNESSES: list[tuple[str, Callable[..., None]]] = [
    ('@runtime.agent("word-count", max_concurrency=8)', a_runtime_host),
    ("async def word_count(run: RunContext[Text])", typed_input),
    ('@runtime.file_agent("csv-report"', file_agents),
    ('resolve_credential("conn_demo")', the_agent_client),
    ("client.resume_run(agent_id, run_id", resuming_from_an_app),
    ('agent.complete({"approved": True, "input": payload.input', resumed_url_runtime),
    ("def runtime(call: RuntimeCall)", the_cancel_pattern),
    ("stop.set()", stopping_on_a_cancel_payload),
    ('secrets=os.environ["CXPA_SIGNING_SECRET"]', verifying_with_keys),
    ("class RedisSeenDeliveries", a_shared_store),
]


def test_every_block_has_a_harness() -> None:
    """The page's blocks and the harnesses match one to one, in order: a new block needs a way to run."""
    found = blocks()
    assert len(found) == len(HARNESSES)
    for code, (phrase, _) in zip(found, HARNESSES, strict=True):
        assert phrase in code


@pytest.mark.parametrize(
    ("index", "harness"), list(enumerate(h for _, h in HARNESSES)), ids=[h.__name__ for _, h in HARNESSES]
)
def test_the_block_runs_as_written(
    index: int,
    harness: Callable[..., None],
    configured: LocalPlatform,
    request: pytest.FixtureRequest,
) -> None:
    """The block runs against the local platform and does what the page says it does."""
    extra = {
        name: request.getfixturevalue(name)
        for name in ("capsys", "caplog", "monkeypatch", "tmp_path")
        if name in harness.__code__.co_varnames[: harness.__code__.co_argcount]
    }
    harness(blocks()[index], configured, **extra)


@pytest.fixture(autouse=True)
def _no_leftover_logging() -> Iterator[None]:
    """Blocks run in this process: leave the cxpa_sdk logger as it was."""
    level = logging.getLogger("cxpa_sdk").level
    yield
    logging.getLogger("cxpa_sdk").setLevel(level)
