"""trigger_runs_batch on the local platform: each item the single trigger with its key, answered per item."""

import uuid

import httpx2

from cxpa_sdk.testing import ECHO, STANDALONE, LocalPlatform


def batch(http: httpx2.Client, items: list[dict], agent: int = ECHO) -> httpx2.Response:
    """POST trigger-batch."""
    return http.post(f"/api/agents/{agent}/runs/trigger-batch", json={"items": items})


def fresh() -> str:
    """A key no other test uses."""
    return f"k-{uuid.uuid4().hex}"


def test_a_batch_starts_a_run_per_item_and_again_replays_each(
    http: httpx2.Client, cxpa_platform: LocalPlatform
) -> None:
    """Five items: five runs, answered in order; the same batch again: the same runs, replayed, none new."""
    before = len(cxpa_platform.runs(ECHO))
    items = [{"idempotencyKey": fresh(), "input": {"n": n}} for n in range(5)]
    first = batch(http, items)
    assert first.status_code == 200
    entries = first.json()["items"]
    assert [e["idempotencyKey"] for e in entries] == [i["idempotencyKey"] for i in items]
    assert not any(e["replayed"] for e in entries)
    assert len(cxpa_platform.runs(ECHO)) == before + 5
    again = batch(http, items).json()["items"]
    assert [e["runId"] for e in again] == [e["runId"] for e in entries]
    assert all(e["replayed"] for e in again)
    assert len(cxpa_platform.runs(ECHO)) == before + 5
    assert [cxpa_platform.run(e["runId"])["input_data"] for e in entries] == [{"n": n} for n in range(5)]


def test_an_item_and_a_single_trigger_share_their_key(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A single trigger, then an item with its key and input: replayed; and the other way round."""
    key = fresh()
    single = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {"a": 1}}, headers={"Idempotency-Key": key})
    item = batch(http, [{"idempotencyKey": key, "input": {"a": 1}}]).json()["items"][0]
    assert (item["runId"], item["replayed"]) == (single.json()["runId"], True)
    other = fresh()
    first = batch(http, [{"idempotencyKey": other, "input": {"b": 2}}]).json()["items"][0]
    later = http.post(f"/api/agents/{ECHO}/runs/trigger", json={"input": {"b": 2}}, headers={"Idempotency-Key": other})
    assert later.json()["runId"] == first["runId"]
    assert later.headers["idempotent-replayed"] == "true"


def test_one_items_error_leaves_the_others(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A key reused with another input (422) and an input over 1 MiB (413): those items' errors; the rest run."""
    reused = fresh()
    batch(http, [{"idempotencyKey": reused, "input": {"v": 1}}])
    before = len(cxpa_platform.runs(ECHO))
    items = [
        {"idempotencyKey": reused, "input": {"v": 2}},
        {"idempotencyKey": fresh(), "input": {"x": "y" * (1 << 20)}},
        {"idempotencyKey": fresh(), "input": {"ok": True}},
    ]
    entries = batch(http, items).json()["items"]
    assert (entries[0]["status"], entries[0]["error"]["code"]) == (422, "idempotency_key_reused")
    assert (entries[1]["status"], entries[1]["error"]["code"]) == (413, "payload_too_large")
    assert entries[2]["runId"].startswith("run_")
    assert len(cxpa_platform.runs(ECHO)) == before + 1


def test_whole_request_errors_act_on_no_item(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """A repeated key, 1001 items, no items, an unknown agent, a standalone agent, no key: refused whole."""
    before = len(cxpa_platform.runs())
    key = fresh()
    repeated = batch(http, [{"idempotencyKey": key, "input": {}}, {"idempotencyKey": key, "input": {}}])
    assert repeated.status_code == 400
    assert key in repeated.json()["error"]["message"]
    assert batch(http, [{"idempotencyKey": fresh(), "input": {}} for _ in range(1001)]).status_code == 400
    assert batch(http, []).status_code == 400
    unknown = batch(http, [{"idempotencyKey": fresh(), "input": {}}], agent=999_999)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "agent_not_found")
    assert batch(http, [{"idempotencyKey": fresh(), "input": {}}], agent=STANDALONE).status_code == 409
    anonymous = httpx2.post(
        f"{cxpa_platform.base_url}/api/agents/{ECHO}/runs/trigger-batch",
        json={"items": [{"idempotencyKey": "a", "input": {}}]},
    )
    assert anonymous.status_code == 401
    assert len(cxpa_platform.runs()) == before


def test_a_thousand_items_in_one_request(http: httpx2.Client, cxpa_platform: LocalPlatform) -> None:
    """The most a batch holds: 1000 runs from one request."""
    before = len(cxpa_platform.runs(ECHO))
    entries = batch(http, [{"idempotencyKey": fresh(), "input": {"n": n}} for n in range(1000)]).json()["items"]
    assert len({e["runId"] for e in entries}) == 1000
    assert len(cxpa_platform.runs(ECHO)) == before + 1000


def test_an_older_platform_answers_404_not_found() -> None:
    """LocalPlatform(batch_triggers=False): the route is an unknown path (404 not_found), no run made."""
    platform = LocalPlatform(batch_triggers=False)
    with platform.serve() as base_url:
        answer = httpx2.post(
            f"{base_url}/api/agents/{ECHO}/runs/trigger-batch",
            json={"items": [{"idempotencyKey": "a", "input": {}}]},
            headers={"Authorization": f"Bearer {platform.ingest_key}"},
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
        assert platform.runs() == []
