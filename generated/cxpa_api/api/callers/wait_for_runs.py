from http import HTTPStatus
from typing import Any

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.runs_waited import RunsWaited
from ...models.wait_for_runs_request import WaitForRunsRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: WaitForRunsRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/runs/wait",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | RunsWaited | None:
    if response.status_code == 200:
        response_200 = RunsWaited.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Response[Error | RunsWaited]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WaitForRunsRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | RunsWaited]:
    """Wait for any of many runs to end, on one request.

     An extension of the seed's contract, for callers that wait on many runs at once: one held
    request watches up to 1000 runs (of any agents the key may act on) instead of one request
    per run. With `waitMs` (0 to 60000) the server holds the request until at least one listed
    run is terminal, or the window elapses; it then answers `200` with every listed run that is
    terminal (`ended`, as Run rows) and every one it could not read (`missing`, with why). A run
    still going appears in neither: ask again with the rest. A read: it changes nothing and may
    be retried freely; like every POST it accepts an `Idempotency-Key` (a replay answers as the
    first request did, which stays true: an ended run never changes). A platform without it
    answers `404` for the route; callers then wait run by run (`GET` with `waitMs`).

    Args:
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (WaitForRunsRequest): The runs to wait for (each at most once), and how long to hold
            the request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RunsWaited]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: WaitForRunsRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | RunsWaited | None:
    """Wait for any of many runs to end, on one request.

     An extension of the seed's contract, for callers that wait on many runs at once: one held
    request watches up to 1000 runs (of any agents the key may act on) instead of one request
    per run. With `waitMs` (0 to 60000) the server holds the request until at least one listed
    run is terminal, or the window elapses; it then answers `200` with every listed run that is
    terminal (`ended`, as Run rows) and every one it could not read (`missing`, with why). A run
    still going appears in neither: ask again with the rest. A read: it changes nothing and may
    be retried freely; like every POST it accepts an `Idempotency-Key` (a replay answers as the
    first request did, which stays true: an ended run never changes). A platform without it
    answers `404` for the route; callers then wait run by run (`GET` with `waitMs`).

    Args:
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (WaitForRunsRequest): The runs to wait for (each at most once), and how long to hold
            the request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RunsWaited
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: WaitForRunsRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | RunsWaited]:
    """Wait for any of many runs to end, on one request.

     An extension of the seed's contract, for callers that wait on many runs at once: one held
    request watches up to 1000 runs (of any agents the key may act on) instead of one request
    per run. With `waitMs` (0 to 60000) the server holds the request until at least one listed
    run is terminal, or the window elapses; it then answers `200` with every listed run that is
    terminal (`ended`, as Run rows) and every one it could not read (`missing`, with why). A run
    still going appears in neither: ask again with the rest. A read: it changes nothing and may
    be retried freely; like every POST it accepts an `Idempotency-Key` (a replay answers as the
    first request did, which stays true: an ended run never changes). A platform without it
    answers `404` for the route; callers then wait run by run (`GET` with `waitMs`).

    Args:
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (WaitForRunsRequest): The runs to wait for (each at most once), and how long to hold
            the request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RunsWaited]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: WaitForRunsRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | RunsWaited | None:
    """Wait for any of many runs to end, on one request.

     An extension of the seed's contract, for callers that wait on many runs at once: one held
    request watches up to 1000 runs (of any agents the key may act on) instead of one request
    per run. With `waitMs` (0 to 60000) the server holds the request until at least one listed
    run is terminal, or the window elapses; it then answers `200` with every listed run that is
    terminal (`ended`, as Run rows) and every one it could not read (`missing`, with why). A run
    still going appears in neither: ask again with the rest. A read: it changes nothing and may
    be retried freely; like every POST it accepts an `Idempotency-Key` (a replay answers as the
    first request did, which stays true: an ended run never changes). A platform without it
    answers `404` for the route; callers then wait run by run (`GET` with `waitMs`).

    Args:
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (WaitForRunsRequest): The runs to wait for (each at most once), and how long to hold
            the request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RunsWaited
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
