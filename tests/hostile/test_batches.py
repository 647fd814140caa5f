"""trigger_many against a platform whose batch answers lie: missing, repeated, foreign, reordered, silent.

Also a retryable item error, a huge answer and malformed ids. Every item gets its own run or an error,
and an item the answer leaves in doubt is sent again as a single trigger with its own key (never a new key).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hostile.hostile_server import DEADLINE, GRACE, HostileServer, Request, both, json_response, perform

from cxpa_sdk import APITimeoutError, Cxpa, InvalidResponseError, UnprocessableEntityError

ITEMS = [(f"item-{n}", {"n": n}) for n in range(4)]

Liar = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def accepted(key: str, run_id: str | None = None) -> dict[str, Any]:
    """An accepted entry for `key` (its run id made from the key unless given)."""
    return {"idempotencyKey": key, "runId": run_id or batch_run(key), "status": "queued", "replayed": False}


def batch_run(key: str) -> str:
    """The run id the batch answer gives an item."""
    return "run_b" + hashlib.sha256(key.encode()).hexdigest()[:12]


def single_run(key: str) -> str:
    """The run id a single trigger with this key is answered."""
    return "run_s" + hashlib.sha256(key.encode()).hexdigest()[:12]


def platform(liar: Liar) -> Callable[[socket.socket, Request, threading.Event], bool]:
    """Batches answered by `liar(items)`; single triggers answered honestly (a run id from their key)."""

    def handler(conn: socket.socket, request: Request, stop: threading.Event) -> bool:
        if request.path.endswith("/trigger-batch"):
            items = json.loads(request.body)["items"]
            conn.sendall(json_response(200, {"items": liar(items)}))
        else:
            key = request.headers["idempotency-key"]
            conn.sendall(json_response(202, {"runId": single_run(key), "status": "queued"}))
        return True

    return handler


def trigger_many(client: Any) -> Any:
    """The job's items, as `(key, run id or None, error or None)`, in order (awaitable on an async client)."""
    found = client.trigger_many(1, ITEMS, job="hostile")

    def row(item: Any) -> tuple[str, str | None, BaseException | None]:
        return item.key, item.handle.run_id if item.handle else None, item.error

    if isinstance(client, Cxpa):
        return [row(item) for item in found]

    async def gather() -> list[tuple[str, str | None, BaseException | None]]:
        return [row(item) async for item in found]

    return gather()


def singles(server: HostileServer) -> list[str]:
    """The Idempotency-Keys of the single triggers the server was sent."""
    return [
        key
        for key, path in zip(server.header("idempotency-key"), server.paths, strict=True)
        if path.endswith("/trigger") and key
    ]


def keys_sent(server: HostileServer) -> list[str]:
    """The Idempotency-Keys of the items of the batches the server was sent, in order."""
    return [
        item["idempotencyKey"]
        for request in server.requests
        if request.path.endswith("/trigger-batch")
        for item in json.loads(request.body)["items"]
    ]


LIES: dict[str, tuple[Liar, set[int]]] = {
    # name: (the lie, the items it leaves in doubt, which must be sent again on their own)
    "items missing": (lambda items: [accepted(items[0]["idempotencyKey"])], {1, 2, 3}),
    "an item repeated with another run": (
        lambda items: (
            [accepted(i["idempotencyKey"]) for i in items] + [accepted(items[1]["idempotencyKey"], "run_other")]
        ),
        {1},
    ),
    "entries about keys never sent": (
        lambda items: [accepted("cxpa-item-not-sent"), *[accepted(i["idempotencyKey"]) for i in items[:2]]],
        {2, 3},
    ),
    "out of order": (lambda items: [accepted(i["idempotencyKey"]) for i in reversed(items)], set()),
    "a retryable item error (503)": (
        lambda items: [
            {
                "idempotencyKey": items[0]["idempotencyKey"],
                "status": 503,
                "error": {"code": "unavailable", "message": "busy"},
            },
            *[accepted(i["idempotencyKey"]) for i in items[1:]],
        ],
        {0},
    ),
}


@both
@pytest.mark.parametrize("lie", list(LIES))
def test_an_item_left_in_doubt_goes_again_alone_with_its_key(mode: str, lie: str) -> None:
    """Each item's run is its batch entry, or (left in doubt) its single trigger's, sent with the item's own key."""
    liar, doubtful = LIES[lie]
    with HostileServer(platform(liar)) as server:
        outcome = perform(mode, server, trigger_many)
        assert outcome.error is None, outcome.describe()
        sent = keys_sent(server)
        assert len(sent) == len(ITEMS), "one batch"
        assert sorted(singles(server)) == sorted(sent[n] for n in doubtful)
    for n, (key, run_id, error) in enumerate(outcome.value):
        assert (key, error) == (ITEMS[n][0], None)
        assert run_id == (single_run(sent[n]) if n in doubtful else batch_run(sent[n])), n


@both
def test_a_final_item_error_is_that_items_result(mode: str) -> None:
    """A 422 for one item: its UnprocessableEntityError naming its key; it is not sent again."""

    def liar(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        failed = {"code": "idempotency_key_reused", "message": "other body"}
        return [{"idempotencyKey": items[0]["idempotencyKey"], "status": 422, "error": failed}] + [
            accepted(i["idempotencyKey"]) for i in items[1:]
        ]

    with HostileServer(platform(liar)) as server:
        outcome = perform(mode, server, trigger_many)
        assert singles(server) == []
    _key, run_id, error = outcome.value[0]
    assert run_id is None
    assert isinstance(error, UnprocessableEntityError)
    assert error.code == "idempotency_key_reused"
    assert error.idempotency_key == keys_sent(server)[0]
    assert all(row[2] is None for row in outcome.value[1:])


@both
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda items: [accepted(i["idempotencyKey"], "..") for i in items], id="a run id out of its rule"),
        pytest.param(
            lambda items: [{"idempotencyKey": i["idempotencyKey"]} for i in items],
            id="entries with neither run nor error",
        ),
        pytest.param(
            lambda items: [accepted(i["idempotencyKey"]) for i in items] + [{"pad": "x" * (12 << 20)}], id="12 MiB"
        ),
    ],
)
def test_an_answer_outside_the_spec_is_every_items_error(mode: str, answer: Liar) -> None:
    """An answer the spec refuses (or over the answer limit): every item's InvalidResponseError, none sent alone."""
    with HostileServer(platform(answer)) as server:
        outcome = perform(mode, server, trigger_many, deadline=10.0)
        assert singles(server) == []
    assert outcome.error is None, outcome.describe()
    assert [type(row[2]) for row in outcome.value] == [InvalidResponseError] * len(ITEMS)
    assert all(row[1] is None for row in outcome.value)


@both
def test_a_silent_platform_ends_every_item_by_the_deadline(mode: str) -> None:
    """No answer to the batch: every item's APITimeoutError by the deadline (it may have been applied)."""

    def silent(conn: socket.socket, request: Request, stop: threading.Event) -> None:
        stop.wait(DEADLINE + 3 * GRACE)

    with HostileServer(silent) as server:
        outcome = perform(mode, server, trigger_many)
    assert outcome.elapsed < DEADLINE + GRACE
    errors = [row[2] for row in outcome.value]
    assert all(isinstance(error, APITimeoutError) and error.may_have_been_applied for error in errors)
