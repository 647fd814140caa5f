"""Many triggers in one request (`trigger_runs_batch`, an extension of the contract), as an I/O-free flow.

Each item of a batch is the single trigger with its Idempotency-Key: the platform keeps one record
for both, so an item the batch left unanswered, or a whole batch a platform without the extension
refused (404), is sent again as a single trigger with the same key, and never runs twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from .. import _config as check
from .._errors import APIStatusError, CxpaError, mask, status_error
from .._logging import logger
from ..types import RunStatus, TriggeredRun
from ._engine import Answer, Flow, Operation, Settings, Sleep, call, call_secrets, deadline_at, new_idempotency_key
from ._operations import _route, answered

MAX_BATCH_ITEMS = 1000
"""The most items one `trigger_runs_batch` request may carry (the spec's maxItems)."""

MAX_BATCH_BYTES = 16 * 1024 * 1024
"""The largest body the SDK sends in one batch (the spec's limit is larger): bigger jobs take more requests."""

KEY_PREFIX = "cxpa-item-"


class BatchItem(NamedTuple):
    """One item to trigger: its Idempotency-Key, and its single trigger's body (`check.encode_body({"input": ...})`)."""

    idempotency_key: str
    body: bytes


def batch_bytes(item: BatchItem) -> int:
    """About what an item adds to a batch's body, in bytes."""
    return len(item.body) + len(item.idempotency_key) + 24


def item_idempotency_key(agent_id: int, job: str, item_key: str) -> str:
    """The Idempotency-Key of a job's item: the same agent, job and item key give the same key, in any process.

    A SHA-256 of the three, so neither the job's name nor the item's key reaches the platform, and
    no choice of them can collide with another's (each part is length-prefixed).
    """
    parts = (str(agent_id), job, item_key)
    digest = hashlib.sha256("".join(f"{len(part)}:{part}" for part in parts).encode()).hexdigest()
    return KEY_PREFIX + digest[:48]


def trigger_batch(
    settings: Settings, agent_id: int, items: Sequence[BatchItem]
) -> Flow[dict[str, TriggeredRun | APIStatusError]]:
    """POST trigger-batch: the answer of each item, by its Idempotency-Key.

    The answer is checked against the request: an entry about a key that was not sent is dropped,
    and a key answered more than once is dropped (which of its entries is true, nobody can say), so
    the items missing from the result are the ones the caller must send again (with their keys: no
    run twice). An item's error is the error its single trigger would have raised.
    Raises NotFoundError (404) where the platform lacks the extension, or the agent is unknown
    (`code` "agent_not_found").
    """
    agent = check.agent_id(agent_id)
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH_ITEMS} items, not {len(items)}")
    method, path = _route("trigger_runs_batch", agentId=agent)
    op = Operation("trigger_runs_batch", method, path, _body(items), answers={200: "TriggerBatchAnswer"})
    answer = yield from call(settings, op, deadline=deadline_at(settings), idempotency_key=new_idempotency_key())
    asked = {item.idempotency_key for item in items}
    found: dict[str, TriggeredRun | APIStatusError] = {}
    repeated: set[str] = set()
    secrets = call_secrets(settings)
    for entry in answer.data["items"]:
        key = entry["idempotencyKey"]
        if key not in asked:
            logger.debug("trigger_runs_batch: ignored an entry about a key that was not sent")
        elif key in found or key in repeated:
            repeated.add(key)
            found.pop(key, None)
        else:
            found[key] = _item(entry, answer, secrets)
    if repeated or len(found) < len(asked):
        logger.info(
            "trigger_runs_batch: %d of %d items unanswered or answered twice; each is sent again on its own",
            len(asked) - len(found),
            len(asked),
        )
    return found


def _body(items: Sequence[BatchItem]) -> bytes:
    """The batch's JSON, from each item's trigger body: `{"idempotencyKey": key, "input": ...}` per item.

    Each item's `{"input": ...}` is encoded once (when it is read, so that a bad input is refused
    before anything is sent); here the key is set before its fields, as canonical JSON orders them.
    """
    parts = [b'{"idempotencyKey":' + json.dumps(item.idempotency_key).encode() + b"," + item.body[1:] for item in items]
    return b'{"items":[' + b",".join(parts) + b"]}"


def _item(entry: Mapping[str, Any], answer: Answer, secrets: tuple[str, ...]) -> TriggeredRun | APIStatusError:
    """One entry of the answer: the item's run, or the error its single trigger would have raised."""
    key = entry["idempotencyKey"]
    if "error" in entry:
        error = entry["error"]
        return status_error(
            entry["status"],
            code=error["code"],
            message=mask(error["message"], secrets) or "",
            run_id=None,
            request_id=answer.request_id,
            attempts=answer.attempts,
            idempotency_key=key,
            retry_after=None,
        )
    run = TriggeredRun(entry["runId"], RunStatus(entry["status"]))
    return answered(run, answer._replace(replayed=bool(entry.get("replayed"))))


LINGER_S = 0.1
"""How long a job's wait pauses after a held round that settled few runs, so the next round settles more."""

FEW_PER_ROUND = 25
"""Fewer runs than this settled by a held round (of more waiting) is few: each round lists every waiting run."""


def linger(settled: int, waiting: int) -> Flow[None]:
    """After a held wait round: pause LINGER_S when it settled few of many runs, else go on at once.

    Every round of a job's wait lists all its waiting runs (up to 1000 a request), so a round that
    settles one run of a thousand costs the client and the platform a thousand runs' worth of
    request for one result. Runs that end one by one are collected a tenth of a second at a time
    instead: a little latency per result, for a round cost shared by many.
    """
    if settled < FEW_PER_ROUND and waiting > settled:
        yield Sleep(LINGER_S)


def retryable(error: CxpaError) -> bool:
    """Whether an item's error is worth sending the item again on its own (its trigger retries it)."""
    status = getattr(error, "status_code", None)
    return status is None or status in (408, 409, 429) or status >= 500
