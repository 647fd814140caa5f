"""The batch trigger (`trigger_runs_batch`, an extension): many `trigger_run`s of one agent on one request.

Each item is exactly the `trigger_run` sent with its key as the Idempotency-Key and `{"input": ...}`
as the body: it claims the idempotency record that trigger would (the same principal, key and
fingerprint of method, path and body), so an item replays an earlier trigger and a later trigger
replays the item. Items are handled one after another on the request's own task: no thread per item.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from cxpa_api.models import TriggeredRun

from ._errors import MAX_BODY_BYTES, ApiError, payload_too_large
from ._idempotency import StoredAnswer, final, fingerprint

if TYPE_CHECKING:
    from ._core import PlatformCore
    from ._runs import Agent

logger = logging.getLogger("cxpa_sdk.testing")
MAX_BATCH_BODY_BYTES = 32 << 20
"""The largest `trigger_runs_batch` body, in bytes (32 MiB; each item's input stays within 1 MiB)."""
_JSON = {"content-type": "application/json"}


def unique_keys(items: Sequence[Mapping[str, Any]]) -> None:
    """Raise 400 `invalid_body` naming the first key that an item repeats."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item["idempotencyKey"]
        if key in seen:
            raise ApiError(
                400,
                "invalid_body",
                f"items[{index}].idempotencyKey: {json.dumps(key)} repeats the key of items[{seen[key]}]",
            )
        seen[key] = index


def trigger_path(agent: Agent) -> str:
    """The path of the agent's single trigger, whose idempotency records the items share."""
    return f"/api/agents/{agent.id}/runs/trigger"


def trigger_batch(
    core: PlatformCore,
    agent: Agent,
    principal: str,
    items: Sequence[Mapping[str, Any]],
    *,
    trace_context: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Trigger each item as its single trigger would be; the answer's entries, in the items' order.

    The caller has checked the key, the agent (`core.check_triggerable`) and the body (valid, keys
    unique); what is left can only fail one item (TriggerBatchItemFailed), never the others.
    """
    path = trigger_path(agent)
    return [
        _trigger_item(core, agent, item, principal=principal, path=path, trace_context=trace_context) for item in items
    ]


def _trigger_item(
    core: PlatformCore,
    agent: Agent,
    item: Mapping[str, Any],
    *,
    principal: str,
    path: str,
    trace_context: Mapping[str, str],
) -> dict[str, Any]:
    """One item, exactly as the single trigger with its key and body: its TriggerBatchItem* entry."""
    key = item["idempotencyKey"]
    # The single trigger's body as a client writes it (compact JSON, UTF-8): its size is the one that
    # trigger's 1 MiB limit counts, and its JSON value the one its fingerprint compares.
    body = json.dumps({"input": item["input"]}, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        if len(body) > MAX_BODY_BYTES:
            raise payload_too_large(MAX_BODY_BYTES)  # refused before the key is claimed, as a trigger is
        replay = core.idempotency.begin(principal, key, fingerprint("POST", path, body))
    except ApiError as exc:
        return _failed(key, exc.status, exc.body())
    if replay is not None:
        return _replayed(key, replay)
    try:
        run = core.trigger(agent, dict(item["input"]), trace_context=dict(trace_context))
    except ApiError as exc:
        core.idempotency.finish(principal, key, _stored(exc.status, exc.body()) if final(exc) else None)
        return _failed(key, exc.status, exc.body())
    except Exception:
        # What a single trigger's crash is answered (500 internal_error, the key freed), for this item only.
        logger.exception("trigger_runs_batch: the item with key %r failed", key)
        core.idempotency.finish(principal, key, None)
        crash = ApiError(500, "internal_error", "the local platform failed to handle the request")
        return _failed(key, crash.status, crash.body())
    except BaseException:
        core.idempotency.finish(principal, key, None)
        raise
    answer = TriggeredRun.from_dict({"runId": run.id, "status": run.status}).to_dict()
    core.idempotency.finish(principal, key, _stored(202, answer))
    return {"idempotencyKey": key, **answer, "replayed": False}


def _failed(key: str, status: int, error_body: Mapping[str, Any]) -> dict[str, Any]:
    """A TriggerBatchItemFailed: the item's key, the status and the `error` of its Error envelope."""
    return {"idempotencyKey": key, "status": status, "error": dict(error_body["error"])}


def _replayed(key: str, replay: StoredAnswer) -> dict[str, Any]:
    """The entry of an item that replays an earlier trigger (or item): its run, or its final error."""
    answer = json.loads(replay.body)
    if 200 <= replay.status < 300:
        return {"idempotencyKey": key, "runId": answer["runId"], "status": answer["status"], "replayed": True}
    return _failed(key, replay.status, answer)


def _stored(status: int, content: Mapping[str, Any]) -> StoredAnswer:
    """An answer kept for replays, in the very bytes a single trigger's JSONResponse keeps."""
    return StoredAnswer(status, bytes(JSONResponse(content, status).body), dict(_JSON))
