from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.callback_accepted import CallbackAccepted
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    run_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/runs/{run_id}/status".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> CallbackAccepted | Error | None:
    if response.status_code == 200:
        response_200 = CallbackAccepted.from_dict(response.json())

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
) -> Response[CallbackAccepted | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[CallbackAccepted | Error]:
    """Read the status of a run from its runtime (a cheap check for a cancel).

     An extension of the seed's contract (see docs/runtimes.md, "Being cancelled"): a runtime that
    has no callback to send for a while asks whether its run was cancelled, with the agent API key
    of its trigger payload, and without changing the run. The answer is the run's id and status,
    at once (never held); a run of another agent is `403`, an unknown run `404 run_not_found`.
    A platform without this endpoint answers `404` with another code (such as `not_found`).

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallbackAccepted | Error]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient,
) -> CallbackAccepted | Error | None:
    """Read the status of a run from its runtime (a cheap check for a cancel).

     An extension of the seed's contract (see docs/runtimes.md, "Being cancelled"): a runtime that
    has no callback to send for a while asks whether its run was cancelled, with the agent API key
    of its trigger payload, and without changing the run. The answer is the run's id and status,
    at once (never held); a run of another agent is `403`, an unknown run `404 run_not_found`.
    A platform without this endpoint answers `404` with another code (such as `not_found`).

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CallbackAccepted | Error
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[CallbackAccepted | Error]:
    """Read the status of a run from its runtime (a cheap check for a cancel).

     An extension of the seed's contract (see docs/runtimes.md, "Being cancelled"): a runtime that
    has no callback to send for a while asks whether its run was cancelled, with the agent API key
    of its trigger payload, and without changing the run. The answer is the run's id and status,
    at once (never held); a run of another agent is `403`, an unknown run `404 run_not_found`.
    A platform without this endpoint answers `404` with another code (such as `not_found`).

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallbackAccepted | Error]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient,
) -> CallbackAccepted | Error | None:
    """Read the status of a run from its runtime (a cheap check for a cancel).

     An extension of the seed's contract (see docs/runtimes.md, "Being cancelled"): a runtime that
    has no callback to send for a while asks whether its run was cancelled, with the agent API key
    of its trigger payload, and without changing the run. The answer is the run's id and status,
    at once (never held); a run of another agent is `403`, an unknown run `404 run_not_found`.
    A platform without this endpoint answers `404` with another code (such as `not_found`).

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CallbackAccepted | Error
    """

    return (
        await asyncio_detailed(
            run_id=run_id,
            client=client,
        )
    ).parsed
