from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.ingest_run_request import IngestRunRequest
from ...models.ingested_run import IngestedRun
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    *,
    body: IngestRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agents/{agent_id}/runs/ingest".format(
            agent_id=quote(str(agent_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | IngestedRun | None:
    if response.status_code == 200:
        response_200 = IngestedRun.from_dict(response.json())

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
) -> Response[Error | IngestedRun]:
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
    body: IngestRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | IngestedRun]:
    """Report the status of a run of a standalone agent.

     For agents whose `managedBy` is `standalone` (else `409 agent_not_standalone`). Upserts the
    run by `externalRunId`; a terminal run can't be changed (`409 run_finished`).

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (IngestRunRequest): The body of `ingest_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | IngestedRun]
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
    body: IngestRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | IngestedRun | None:
    """Report the status of a run of a standalone agent.

     For agents whose `managedBy` is `standalone` (else `409 agent_not_standalone`). Upserts the
    run by `externalRunId`; a terminal run can't be changed (`409 run_finished`).

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (IngestRunRequest): The body of `ingest_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | IngestedRun
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
    body: IngestRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | IngestedRun]:
    """Report the status of a run of a standalone agent.

     For agents whose `managedBy` is `standalone` (else `409 agent_not_standalone`). Upserts the
    run by `externalRunId`; a terminal run can't be changed (`409 run_finished`).

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (IngestRunRequest): The body of `ingest_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | IngestedRun]
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
    body: IngestRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | IngestedRun | None:
    """Report the status of a run of a standalone agent.

     For agents whose `managedBy` is `standalone` (else `409 agent_not_standalone`). Upserts the
    run by `externalRunId`; a terminal run can't be changed (`409 run_finished`).

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (IngestRunRequest): The body of `ingest_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | IngestedRun
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
