from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.blocking_trigger_request import BlockingTriggerRequest
from ...models.error import Error
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    agent_id: int,
    *,
    body: BlockingTriggerRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agents/{agent_id}/runs/trigger-and-download".format(
            agent_id=quote(str(agent_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | File | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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

    if response.status_code == 502:
        response_502 = Error.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Error.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Response[Error | File]:
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
    body: BlockingTriggerRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | File]:
    """Start a run of a file agent and stream the file it produces.

     Valid only for agents whose `outputKind` is `file_download` (else `409 not_a_file_agent`).
    The platform streams the runtime's response body straight through and never buffers it:
    `Content-Length` is present when the size is known, else the body is chunked. When the run
    fails before the first byte the answer is `502 run_failed`; when the window elapses before
    the first byte it is `504 wait_timeout`, both with the `runId`.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (BlockingTriggerRequest): The body of `trigger_run_and_wait` and
            `trigger_run_and_download`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
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
    body: BlockingTriggerRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | File | None:
    """Start a run of a file agent and stream the file it produces.

     Valid only for agents whose `outputKind` is `file_download` (else `409 not_a_file_agent`).
    The platform streams the runtime's response body straight through and never buffers it:
    `Content-Length` is present when the size is known, else the body is chunked. When the run
    fails before the first byte the answer is `502 run_failed`; when the window elapses before
    the first byte it is `504 wait_timeout`, both with the `runId`.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (BlockingTriggerRequest): The body of `trigger_run_and_wait` and
            `trigger_run_and_download`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
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
    body: BlockingTriggerRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | File]:
    """Start a run of a file agent and stream the file it produces.

     Valid only for agents whose `outputKind` is `file_download` (else `409 not_a_file_agent`).
    The platform streams the runtime's response body straight through and never buffers it:
    `Content-Length` is present when the size is known, else the body is chunked. When the run
    fails before the first byte the answer is `502 run_failed`; when the window elapses before
    the first byte it is `504 wait_timeout`, both with the `runId`.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (BlockingTriggerRequest): The body of `trigger_run_and_wait` and
            `trigger_run_and_download`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | File]
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
    body: BlockingTriggerRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | File | None:
    """Start a run of a file agent and stream the file it produces.

     Valid only for agents whose `outputKind` is `file_download` (else `409 not_a_file_agent`).
    The platform streams the runtime's response body straight through and never buffers it:
    `Content-Length` is present when the size is known, else the body is chunked. When the run
    fails before the first byte the answer is `502 run_failed`; when the window elapses before
    the first byte it is `504 wait_timeout`, both with the `runId`.

    Args:
        agent_id (int):
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (BlockingTriggerRequest): The body of `trigger_run_and_wait` and
            `trigger_run_and_download`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | File
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
