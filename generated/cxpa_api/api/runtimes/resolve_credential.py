from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.credential import Credential
from ...models.error import Error
from ...types import Response


def _get_kwargs(
    connection_id: str,
    *,
    x_credentials_token: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Credentials-Token"] = x_credentials_token

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/credentials/{connection_id}/resolve".format(
            connection_id=quote(str(connection_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Credential | Error | None:
    if response.status_code == 200:
        response_200 = Credential.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Response[Credential | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_credentials_token: str,
) -> Response[Credential | Error]:
    """Resolve the secret values of a credential connection for a run.

     Needs the agent API key and the run's credentials token. The token must belong to a run of
    the agent whose key is used (else `403`) and must not be expired (`401 token_expired`).

    Args:
        connection_id (str):
        x_credentials_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        x_credentials_token=x_credentials_token,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_credentials_token: str,
) -> Credential | Error | None:
    """Resolve the secret values of a credential connection for a run.

     Needs the agent API key and the run's credentials token. The token must belong to a run of
    the agent whose key is used (else `403`) and must not be expired (`401 token_expired`).

    Args:
        connection_id (str):
        x_credentials_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Error
    """

    return sync_detailed(
        connection_id=connection_id,
        client=client,
        x_credentials_token=x_credentials_token,
    ).parsed


async def asyncio_detailed(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_credentials_token: str,
) -> Response[Credential | Error]:
    """Resolve the secret values of a credential connection for a run.

     Needs the agent API key and the run's credentials token. The token must belong to a run of
    the agent whose key is used (else `403`) and must not be expired (`401 token_expired`).

    Args:
        connection_id (str):
        x_credentials_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Credential | Error]
    """

    kwargs = _get_kwargs(
        connection_id=connection_id,
        x_credentials_token=x_credentials_token,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    connection_id: str,
    *,
    client: AuthenticatedClient,
    x_credentials_token: str,
) -> Credential | Error | None:
    """Resolve the secret values of a credential connection for a run.

     Needs the agent API key and the run's credentials token. The token must belong to a run of
    the agent whose key is used (else `403`) and must not be expired (`401 token_expired`).

    Args:
        connection_id (str):
        x_credentials_token (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Credential | Error
    """

    return (
        await asyncio_detailed(
            connection_id=connection_id,
            client=client,
            x_credentials_token=x_credentials_token,
        )
    ).parsed
