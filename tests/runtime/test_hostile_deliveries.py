"""Deliveries a contract-following platform never sends, POSTed over real HTTP to a Runtime under uvicorn.

Each is refused before any work starts (the agent function is never called), with the check named
and no key in the answer: unsigned, signed by another key, tampered, stale, replayed, not a payload,
too large, or to an agent the runtime does not serve.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx2
import pytest
from delivery_support import new_secret, signed
from runtime_support import SECRET, runtime_for, serving

from cxpa_sdk.runtime import RunContext, Runtime
from cxpa_sdk.testing import LocalPlatform

CANCEL = json.dumps({"type": "cancelled", "runId": "run_hostile", "agentId": 7}).encode()


@pytest.fixture
def served(platform: LocalPlatform) -> Iterator[tuple[str, list[str]]]:
    """A served runtime whose one agent records every call; its agent URL and the calls."""
    runtime = runtime_for(platform)
    calls: list[str] = []

    @runtime.agent("guarded")
    async def guarded(run: RunContext) -> None:
        calls.append(run.run_id)

    with serving(runtime, platform) as url:
        yield f"{url}/agents/guarded", calls


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> httpx2.Response:
    """POST a delivery as a platform would (JSON)."""
    return httpx2.post(url, content=body, headers={"content-type": "application/json", **(headers or {})})


@pytest.mark.parametrize(
    ("case", "check"),
    [
        ("unsigned", "unsigned"),
        ("another key", "signature"),
        ("tampered body", "signature"),
        ("stale", "timestamp"),
    ],
)
def test_forged_delivery_is_refused_with_401(served: tuple[str, list[str]], case: str, check: str) -> None:
    """A delivery without a trusted, fresh signature over its very bytes answers 401 naming the check."""
    url, calls = served
    trigger = json.dumps({"runId": "run_forged", "agentId": 7, "input": {}, "agentApiKey": "k"}).encode()
    headers = {
        "unsigned": {},
        "another key": signed(trigger, secrets=(new_secret(),)),
        "tampered body": signed(trigger.replace(b"{}", b'{"x":1}'), secrets=(SECRET,)),
        "stale": signed(trigger, secrets=(SECRET,), timestamp=int(time.time()) - 3600),
    }[case]
    answer = post(url, trigger, headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["check"] == check
    assert SECRET.removeprefix("whsec_") not in answer.text
    time.sleep(0.1)
    assert calls == []


def test_replayed_delivery_is_refused(served: tuple[str, list[str]]) -> None:
    """The same signed delivery (same webhook-id) a second time answers 401 `replayed`."""
    url, _ = served
    headers = signed(CANCEL, secrets=(SECRET,))
    assert post(url, CANCEL, headers).status_code == 202
    again = post(url, CANCEL, headers)
    assert again.status_code == 401
    assert again.json()["error"]["check"] == "replayed"


def test_signed_body_that_is_no_payload_is_refused_with_400(served: tuple[str, list[str]]) -> None:
    """A well-signed body that is not a runtime payload answers 400 naming the field; nothing runs."""
    url, calls = served
    body = json.dumps({"runId": "run_x", "agentId": 7, "input": "not an object", "agentApiKey": "k"}).encode()
    answer = post(url, body, signed(body, secrets=(SECRET,)))
    assert answer.status_code == 400
    assert "input" in answer.json()["error"]["message"]
    assert calls == []


def test_oversized_delivery_is_refused_with_413(served: tuple[str, list[str]]) -> None:
    """A body over the host's limit (2 MiB) answers 413 without being read whole."""
    url, calls = served
    answer = post(url, b"x" * (3 * 1024 * 1024))
    assert answer.status_code == 413
    assert calls == []


def test_unknown_agent_path_is_404(served: tuple[str, list[str]]) -> None:
    """A delivery to an agent the runtime does not serve answers 404, and a GET to an agent 405."""
    url, _ = served
    assert post(url.replace("/guarded", "/other"), CANCEL, signed(CANCEL, secrets=(SECRET,))).status_code == 404
    assert httpx2.get(url).status_code == 405


def test_runtime_without_keys_takes_unsigned_deliveries(platform: LocalPlatform) -> None:
    """A Runtime given no key (none in CXPA_SIGNING_SECRET either) takes deliveries unverified, as documented."""
    runtime = Runtime(base_url=platform.base_url, secrets=(), public_keys=())

    @runtime.agent("open")
    async def open_agent(run: RunContext) -> None:
        """Never triggered here."""

    with serving(runtime, platform) as url:
        assert post(f"{url}/agents/open", CANCEL).status_code == 202
