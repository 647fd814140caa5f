from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.trigger_batch_answer import TriggerBatchAnswer
from ...models.trigger_batch_request import TriggerBatchRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    *,
    body: TriggerBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agents/{agent_id}/runs/trigger-batch".format(
            agent_id=quote(str(agent_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> Error | TriggerBatchAnswer | None:
    if response.status_code == 200:
        response_200 = TriggerBatchAnswer.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> Response[Error | TriggerBatchAnswer]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    agent_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TriggerBatchAnswer]:
    """Start many platform-managed runs of one agent on one request.

     An extension of the seed's contract, for callers that start many runs at once: one request
    carries 1 to 1000 items, and each item is exactly one `trigger_run` of this agent, as if sent
    on its own as `POST /api/agents/{agentId}/runs/trigger` with the header
    `Idempotency-Key: <idempotencyKey>` and the body `{"input": <input>}`. The item shares that
    trigger's idempotency record (the same caller, key, method, path and body), so for 24 hours
    an item replays an earlier `trigger_run` sent with the same key and input, and a later
    `trigger_run` (or batch item) with them replays the item. The keys of one batch must differ
    from each other (a repeat is `400 invalid_body`, naming the key).

    The answer is `200` with one entry per item, in the request's order: a
    `TriggerBatchItemAccepted` (the run's id and status as `trigger_run`'s `202` answer gives
    them, and `replayed: true` when the item replayed an earlier trigger or item), or a
    `TriggerBatchItemFailed` with the status and the error that `trigger_run` would have answered for
    it:
    `payload_too_large` when its `{"input": ...}` body, written as compact JSON in UTF-8, is over
    1 MiB (1048576 bytes); `idempotency_key_reused` when its key was used with another input;
    `idempotency_in_progress` while a request with its key is still being handled (retry the
    item); or any other error of `trigger_run`, a `rate_limited`, `unavailable` or
    `internal_error` among them (retry the item with the same key). One item's error never
    stops the others.

    Errors of the whole request, when no item was acted on: `400` for an invalid body (no
    items, more than 1000, an invalid key or input, a repeated key); `401` and `403` as for
    `trigger_run`; `404 agent_not_found`; `409 agent_not_platform_managed` for an agent that
    `trigger_run` refuses (a standalone one); `413 payload_too_large` when the whole body is over
    32 MiB (33554432 bytes: split such a batch); `429` and `503` as elsewhere.

    Like every POST it accepts an `Idempotency-Key` of its own, for the batch as a whole: the same
    key with the same body, for 24 hours, replays the whole first answer (marked
    `Idempotent-Replayed: true`); give it a key none of the items uses. Without it, sending the
    same batch again is safe all the same: every item replays its run.

    A platform without this extension answers `404` with another code (`not_found`: no such
    path, where an unknown agent is `agent_not_found`). Callers then send each item as its own
    `trigger_run`, with the item's key as its `Idempotency-Key` and `{"input": <input>}` as its
    body: safe even after a batch whose answer was lost, since an item and that trigger share
    their idempotency record.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerBatchRequest): The body of `trigger_runs_batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TriggerBatchAnswer]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    agent_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | TriggerBatchAnswer | None:
    """Start many platform-managed runs of one agent on one request.

     An extension of the seed's contract, for callers that start many runs at once: one request
    carries 1 to 1000 items, and each item is exactly one `trigger_run` of this agent, as if sent
    on its own as `POST /api/agents/{agentId}/runs/trigger` with the header
    `Idempotency-Key: <idempotencyKey>` and the body `{"input": <input>}`. The item shares that
    trigger's idempotency record (the same caller, key, method, path and body), so for 24 hours
    an item replays an earlier `trigger_run` sent with the same key and input, and a later
    `trigger_run` (or batch item) with them replays the item. The keys of one batch must differ
    from each other (a repeat is `400 invalid_body`, naming the key).

    The answer is `200` with one entry per item, in the request's order: a
    `TriggerBatchItemAccepted` (the run's id and status as `trigger_run`'s `202` answer gives
    them, and `replayed: true` when the item replayed an earlier trigger or item), or a
    `TriggerBatchItemFailed` with the status and the error that `trigger_run` would have answered for
    it:
    `payload_too_large` when its `{"input": ...}` body, written as compact JSON in UTF-8, is over
    1 MiB (1048576 bytes); `idempotency_key_reused` when its key was used with another input;
    `idempotency_in_progress` while a request with its key is still being handled (retry the
    item); or any other error of `trigger_run`, a `rate_limited`, `unavailable` or
    `internal_error` among them (retry the item with the same key). One item's error never
    stops the others.

    Errors of the whole request, when no item was acted on: `400` for an invalid body (no
    items, more than 1000, an invalid key or input, a repeated key); `401` and `403` as for
    `trigger_run`; `404 agent_not_found`; `409 agent_not_platform_managed` for an agent that
    `trigger_run` refuses (a standalone one); `413 payload_too_large` when the whole body is over
    32 MiB (33554432 bytes: split such a batch); `429` and `503` as elsewhere.

    Like every POST it accepts an `Idempotency-Key` of its own, for the batch as a whole: the same
    key with the same body, for 24 hours, replays the whole first answer (marked
    `Idempotent-Replayed: true`); give it a key none of the items uses. Without it, sending the
    same batch again is safe all the same: every item replays its run.

    A platform without this extension answers `404` with another code (`not_found`: no such
    path, where an unknown agent is `agent_not_found`). Callers then send each item as its own
    `trigger_run`, with the item's key as its `Idempotency-Key` and `{"input": <input>}` as its
    body: safe even after a batch whose answer was lost, since an item and that trigger share
    their idempotency record.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerBatchRequest): The body of `trigger_runs_batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TriggerBatchAnswer
    """

    return sync_detailed(
        agent_id=agent_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    agent_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TriggerBatchAnswer]:
    """Start many platform-managed runs of one agent on one request.

     An extension of the seed's contract, for callers that start many runs at once: one request
    carries 1 to 1000 items, and each item is exactly one `trigger_run` of this agent, as if sent
    on its own as `POST /api/agents/{agentId}/runs/trigger` with the header
    `Idempotency-Key: <idempotencyKey>` and the body `{"input": <input>}`. The item shares that
    trigger's idempotency record (the same caller, key, method, path and body), so for 24 hours
    an item replays an earlier `trigger_run` sent with the same key and input, and a later
    `trigger_run` (or batch item) with them replays the item. The keys of one batch must differ
    from each other (a repeat is `400 invalid_body`, naming the key).

    The answer is `200` with one entry per item, in the request's order: a
    `TriggerBatchItemAccepted` (the run's id and status as `trigger_run`'s `202` answer gives
    them, and `replayed: true` when the item replayed an earlier trigger or item), or a
    `TriggerBatchItemFailed` with the status and the error that `trigger_run` would have answered for
    it:
    `payload_too_large` when its `{"input": ...}` body, written as compact JSON in UTF-8, is over
    1 MiB (1048576 bytes); `idempotency_key_reused` when its key was used with another input;
    `idempotency_in_progress` while a request with its key is still being handled (retry the
    item); or any other error of `trigger_run`, a `rate_limited`, `unavailable` or
    `internal_error` among them (retry the item with the same key). One item's error never
    stops the others.

    Errors of the whole request, when no item was acted on: `400` for an invalid body (no
    items, more than 1000, an invalid key or input, a repeated key); `401` and `403` as for
    `trigger_run`; `404 agent_not_found`; `409 agent_not_platform_managed` for an agent that
    `trigger_run` refuses (a standalone one); `413 payload_too_large` when the whole body is over
    32 MiB (33554432 bytes: split such a batch); `429` and `503` as elsewhere.

    Like every POST it accepts an `Idempotency-Key` of its own, for the batch as a whole: the same
    key with the same body, for 24 hours, replays the whole first answer (marked
    `Idempotent-Replayed: true`); give it a key none of the items uses. Without it, sending the
    same batch again is safe all the same: every item replays its run.

    A platform without this extension answers `404` with another code (`not_found`: no such
    path, where an unknown agent is `agent_not_found`). Callers then send each item as its own
    `trigger_run`, with the item's key as its `Idempotency-Key` and `{"input": <input>}` as its
    body: safe even after a batch whose answer was lost, since an item and that trigger share
    their idempotency record.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerBatchRequest): The body of `trigger_runs_batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TriggerBatchAnswer]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    agent_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: TriggerBatchRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | TriggerBatchAnswer | None:
    """Start many platform-managed runs of one agent on one request.

     An extension of the seed's contract, for callers that start many runs at once: one request
    carries 1 to 1000 items, and each item is exactly one `trigger_run` of this agent, as if sent
    on its own as `POST /api/agents/{agentId}/runs/trigger` with the header
    `Idempotency-Key: <idempotencyKey>` and the body `{"input": <input>}`. The item shares that
    trigger's idempotency record (the same caller, key, method, path and body), so for 24 hours
    an item replays an earlier `trigger_run` sent with the same key and input, and a later
    `trigger_run` (or batch item) with them replays the item. The keys of one batch must differ
    from each other (a repeat is `400 invalid_body`, naming the key).

    The answer is `200` with one entry per item, in the request's order: a
    `TriggerBatchItemAccepted` (the run's id and status as `trigger_run`'s `202` answer gives
    them, and `replayed: true` when the item replayed an earlier trigger or item), or a
    `TriggerBatchItemFailed` with the status and the error that `trigger_run` would have answered for
    it:
    `payload_too_large` when its `{"input": ...}` body, written as compact JSON in UTF-8, is over
    1 MiB (1048576 bytes); `idempotency_key_reused` when its key was used with another input;
    `idempotency_in_progress` while a request with its key is still being handled (retry the
    item); or any other error of `trigger_run`, a `rate_limited`, `unavailable` or
    `internal_error` among them (retry the item with the same key). One item's error never
    stops the others.

    Errors of the whole request, when no item was acted on: `400` for an invalid body (no
    items, more than 1000, an invalid key or input, a repeated key); `401` and `403` as for
    `trigger_run`; `404 agent_not_found`; `409 agent_not_platform_managed` for an agent that
    `trigger_run` refuses (a standalone one); `413 payload_too_large` when the whole body is over
    32 MiB (33554432 bytes: split such a batch); `429` and `503` as elsewhere.

    Like every POST it accepts an `Idempotency-Key` of its own, for the batch as a whole: the same
    key with the same body, for 24 hours, replays the whole first answer (marked
    `Idempotent-Replayed: true`); give it a key none of the items uses. Without it, sending the
    same batch again is safe all the same: every item replays its run.

    A platform without this extension answers `404` with another code (`not_found`: no such
    path, where an unknown agent is `agent_not_found`). Callers then send each item as its own
    `trigger_run`, with the item's key as its `Idempotency-Key` and `{"input": <input>}` as its
    body: safe even after a batch whose answer was lost, since an item and that trigger share
    their idempotency record.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerBatchRequest): The body of `trigger_runs_batch`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TriggerBatchAnswer
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
