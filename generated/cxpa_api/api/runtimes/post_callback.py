from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.callback_accepted import CallbackAccepted
from ...models.error import Error
from ...models.output_event import OutputEvent
from ...models.started_event import StartedEvent
from ...models.waiting_event import WaitingEvent
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    body: OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/runs/{run_id}/callback".format(
            run_id=quote(str(run_id), safe=""),
        ),
    }

    if isinstance(body, StartedEvent):
        _kwargs["json"] = body.to_dict()
    elif isinstance(body, OutputEvent):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    body: OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> Response[CallbackAccepted | Error]:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (OutputEvent | StartedEvent | WaitingEvent): One progress event from a runtime,
            discriminated by `type`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallbackAccepted | Error]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    run_id: str,
    *,
    client: AuthenticatedClient,
    body: OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> CallbackAccepted | Error | None:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (OutputEvent | StartedEvent | WaitingEvent): One progress event from a runtime,
            discriminated by `type`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CallbackAccepted | Error
    """

    return sync_detailed(
        run_id=run_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    run_id: str,
    *,
    client: AuthenticatedClient,
    body: OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> Response[CallbackAccepted | Error]:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (OutputEvent | StartedEvent | WaitingEvent): One progress event from a runtime,
            discriminated by `type`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CallbackAccepted | Error]
    """

    kwargs = _get_kwargs(
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    run_id: str,
    *,
    client: AuthenticatedClient,
    body: OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> CallbackAccepted | Error | None:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (OutputEvent | StartedEvent | WaitingEvent): One progress event from a runtime,
            discriminated by `type`.

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
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
