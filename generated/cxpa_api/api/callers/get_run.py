from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.run import Run
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    run_id: str,
    *,
    wait_ms: int | Unset = 0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["waitMs"] = wait_ms

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/agents/{agent_id}/runs/{run_id}".format(
            agent_id=quote(str(agent_id), safe=""),
            run_id=quote(str(run_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | Run | None:
    if response.status_code == 200:
        response_200 = Run.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Response[Error | Run]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    wait_ms: int | Unset = 0,
) -> Response[Error | Run]:
    """Read a run, optionally long-polling until it ends.

     With `waitMs` (0 to 60000, default 0) the request is a long poll: while the run is not
    terminal the server holds it until the run ends or the window elapses, then answers `200`
    with the row as it stands. Waiting in segments under 60 s keeps each request below common
    NAT idle timeouts.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Run]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        wait_ms=wait_ms,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    wait_ms: int | Unset = 0,
) -> Error | Run | None:
    """Read a run, optionally long-polling until it ends.

     With `waitMs` (0 to 60000, default 0) the request is a long poll: while the run is not
    terminal the server holds it until the run ends or the window elapses, then answers `200`
    with the row as it stands. Waiting in segments under 60 s keeps each request below common
    NAT idle timeouts.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Run
    """

    return sync_detailed(
        agent_id=agent_id,
        run_id=run_id,
        client=client,
        wait_ms=wait_ms,
    ).parsed


async def asyncio_detailed(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    wait_ms: int | Unset = 0,
) -> Response[Error | Run]:
    """Read a run, optionally long-polling until it ends.

     With `waitMs` (0 to 60000, default 0) the request is a long poll: while the run is not
    terminal the server holds it until the run ends or the window elapses, then answers `200`
    with the row as it stands. Waiting in segments under 60 s keeps each request below common
    NAT idle timeouts.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Run]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        wait_ms=wait_ms,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    wait_ms: int | Unset = 0,
) -> Error | Run | None:
    """Read a run, optionally long-polling until it ends.

     With `waitMs` (0 to 60000, default 0) the request is a long poll: while the run is not
    terminal the server holds it until the run ends or the window elapses, then answers `200`
    with the row as it stands. Waiting in segments under 60 s keeps each request below common
    NAT idle timeouts.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Run
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            run_id=run_id,
            client=client,
            wait_ms=wait_ms,
        )
    ).parsed
