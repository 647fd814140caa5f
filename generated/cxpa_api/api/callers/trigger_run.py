from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.trigger_run_request import TriggerRunRequest
from ...models.triggered_run import TriggeredRun
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    *,
    body: TriggerRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agents/{agent_id}/runs/trigger".format(
            agent_id=quote(str(agent_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | TriggeredRun | None:
    if response.status_code == 202:
        response_202 = TriggeredRun.from_dict(response.json())

        return response_202

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
) -> Response[Error | TriggeredRun]:
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
    body: TriggerRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TriggeredRun]:
    """Start a platform-managed run and return at once.

     Queues a run of a platform-managed agent and answers `202` with its id before the runtime
    has done anything. Poll it with `get_run` (long-polling with `waitMs`) or cancel it.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerRunRequest): The body of `trigger_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TriggeredRun]
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
    body: TriggerRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | TriggeredRun | None:
    """Start a platform-managed run and return at once.

     Queues a run of a platform-managed agent and answers `202` with its id before the runtime
    has done anything. Poll it with `get_run` (long-polling with `waitMs`) or cancel it.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerRunRequest): The body of `trigger_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TriggeredRun
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
    body: TriggerRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | TriggeredRun]:
    """Start a platform-managed run and return at once.

     Queues a run of a platform-managed agent and answers `202` with its id before the runtime
    has done anything. Poll it with `get_run` (long-polling with `waitMs`) or cancel it.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerRunRequest): The body of `trigger_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | TriggeredRun]
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
    body: TriggerRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | TriggeredRun | None:
    """Start a platform-managed run and return at once.

     Queues a run of a platform-managed agent and answers `202` with its id before the runtime
    has done anything. Poll it with `get_run` (long-polling with `waitMs`) or cancel it.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (TriggerRunRequest): The body of `trigger_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | TriggeredRun
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
