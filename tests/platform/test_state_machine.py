"""The run state machine: every (status, event) pair, as a pure rule and over HTTP."""

import httpx2
import pytest

from cxpa_sdk.testing import LocalPlatform
from cxpa_sdk.testing._errors import ApiError
from cxpa_sdk.testing._runs import RunRecord, check_cancel, check_event

EVENTS = {
    "started": {"type": "started"},
    "output": {"type": "output", "output": 1},
    "complete": {"type": "output", "output": 1, "complete": True},
    "fail": {"type": "output", "failed": True, "error": {"message": "x"}},
    "waiting": {"type": "waiting", "tokenId": "t", "description": "d"},
}
STATUSES = ["queued", "running", "waiting", "completed", "failed", "cancelled"]
# The diagram of the contract: queued -> running -> completed | failed | cancelled; running <-> waiting.
ALLOWED = {
    ("queued", "started"): "running",
    ("waiting", "started"): "running",
    ("running", "output"): "running",
    ("running", "complete"): "completed",
    ("running", "fail"): "failed",
    ("running", "waiting"): "waiting",
}
PAIRS = [(s, e) for s in STATUSES for e in EVENTS]


@pytest.mark.parametrize(("status", "event"), PAIRS, ids=[f"{s}-{e}" for s, e in PAIRS])
def test_event_rule(status: str, event: str) -> None:
    """Each allowed pair moves to its status; every other pair is 409 (run_cancelled or run_finished when terminal)."""
    run = RunRecord("run_x", 1, {}, status=status)
    if (status, event) in ALLOWED:
        assert check_event(run, EVENTS[event]) == ALLOWED[(status, event)]
        return
    with pytest.raises(ApiError) as caught:
        check_event(run, EVENTS[event])
    assert caught.value.status == 409
    expected = {"cancelled": "run_cancelled", "completed": "run_finished", "failed": "run_finished"}.get(
        status, "invalid_transition"
    )
    assert caught.value.code == expected


@pytest.mark.parametrize("status", STATUSES)
def test_cancel_rule(status: str) -> None:
    """Queued, running and waiting runs can be cancelled; terminal runs can't."""
    run = RunRecord("run_x", 1, {}, status=status)
    if status in ("queued", "running", "waiting"):
        check_cancel(run)
    else:
        with pytest.raises(ApiError, match="can't be cancelled"):
            check_cancel(run)


def drive(platform: LocalPlatform, http: httpx2.Client, agent_id: int, path: list[str]) -> tuple[str, dict]:
    """A new run of a runtime-less agent, moved by callback events along `path`."""
    run_id = http.post(f"/api/agents/{agent_id}/runs/trigger", json={"input": {}}).json()["runId"]
    auth = {"Authorization": f"Bearer {platform.agent_api_key(agent_id)}"}
    for event in path:
        response = httpx2.post(f"{platform.base_url}/api/runs/{run_id}/callback", json=EVENTS[event], headers=auth)
        assert response.status_code == 200, response.text
    return run_id, auth


# A path of allowed events that reaches each status, and the events then refused.
REACH = {
    "queued": [],
    "running": ["started"],
    "waiting": ["started", "waiting"],
    "completed": ["started", "complete"],
    "failed": ["started", "fail"],
}


@pytest.mark.parametrize(
    ("status", "event"),
    [(s, e) for s in REACH for e in EVENTS if (s, e) not in ALLOWED],
    ids=[f"{s}-{e}" for s in REACH for e in EVENTS if (s, e) not in ALLOWED],
)
def test_illegal_transition_over_http_is_409(
    cxpa_platform: LocalPlatform, http: httpx2.Client, status: str, event: str
) -> None:
    """Every illegal event answers 409 over HTTP and leaves the run as it was."""
    agent = cxpa_platform.add_agent(f"manual-{status}-{event}")
    run_id, auth = drive(cxpa_platform, http, agent.id, REACH[status])
    response = httpx2.post(f"{cxpa_platform.base_url}/api/runs/{run_id}/callback", json=EVENTS[event], headers=auth)
    assert response.status_code == 409
    assert cxpa_platform.run(run_id)["status"] == status
