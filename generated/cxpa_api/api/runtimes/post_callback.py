from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.callback_accepted import CallbackAccepted
from ...models.error import Error
from ...models.heartbeat_event import HeartbeatEvent
from ...models.output_event import OutputEvent
from ...models.started_event import StartedEvent
from ...models.waiting_event import WaitingEvent
from ...types import UNSET, Response, Unset


def _get_kwargs(
    run_id: str,
    *,
    body: HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent,
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
    elif isinstance(body, WaitingEvent):
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
    body: HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> Response[CallbackAccepted | Error]:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    The lease (an extension of the seed's contract; see docs/runtimes.md, "The lease"): a runtime
    may ask for one with its `started` (`leaseSeconds`, 2 to 3600). While the run holds it, every
    callback renews it, and a `heartbeat` event does nothing else (it changes no run and records
    no progress event; it is answered as any callback: the run's status, `409 run_cancelled` for
    a cancelled run, `409 run_finished` for an ended one). When no callback arrives within the
    lease, the platform fails the run with the error `RuntimeLost` ("the runtime stopped
    reporting: no callback for N s (its lease lapsed)"), so a runtime killed outright is noticed
    within its lease instead of at `maxRunDurationMs`. A runtime may also give a run its lease
    as soon as it takes the trigger's delivery (the `CXPA-Lease-Seconds` header of its answer;
    see the `runtimeDelivery` webhook): the run then holds it while still `queued`, and a
    `heartbeat` for a queued run renews it and leaves it `queued`. `waiting` ends the lease (a waiting
    run is
    not executing), and so does the end of the run; the `started` after a resume takes a new one
    when it asks again (a `started` without `leaseSeconds` holds none). A platform without this
    extension answers a `started` with `leaseSeconds`, and a `heartbeat`, with a `4xx` (`400
    invalid_body`): a runtime then sends `started` without it, sends no heartbeats to that
    platform, and its runs go on as without a lease.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent): One progress event from
            a runtime, discriminated by `type`.

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
    body: HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> CallbackAccepted | Error | None:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    The lease (an extension of the seed's contract; see docs/runtimes.md, "The lease"): a runtime
    may ask for one with its `started` (`leaseSeconds`, 2 to 3600). While the run holds it, every
    callback renews it, and a `heartbeat` event does nothing else (it changes no run and records
    no progress event; it is answered as any callback: the run's status, `409 run_cancelled` for
    a cancelled run, `409 run_finished` for an ended one). When no callback arrives within the
    lease, the platform fails the run with the error `RuntimeLost` ("the runtime stopped
    reporting: no callback for N s (its lease lapsed)"), so a runtime killed outright is noticed
    within its lease instead of at `maxRunDurationMs`. A runtime may also give a run its lease
    as soon as it takes the trigger's delivery (the `CXPA-Lease-Seconds` header of its answer;
    see the `runtimeDelivery` webhook): the run then holds it while still `queued`, and a
    `heartbeat` for a queued run renews it and leaves it `queued`. `waiting` ends the lease (a waiting
    run is
    not executing), and so does the end of the run; the `started` after a resume takes a new one
    when it asks again (a `started` without `leaseSeconds` holds none). A platform without this
    extension answers a `started` with `leaseSeconds`, and a `heartbeat`, with a `4xx` (`400
    invalid_body`): a runtime then sends `started` without it, sends no heartbeats to that
    platform, and its runs go on as without a lease.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent): One progress event from
            a runtime, discriminated by `type`.

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
    body: HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> Response[CallbackAccepted | Error]:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    The lease (an extension of the seed's contract; see docs/runtimes.md, "The lease"): a runtime
    may ask for one with its `started` (`leaseSeconds`, 2 to 3600). While the run holds it, every
    callback renews it, and a `heartbeat` event does nothing else (it changes no run and records
    no progress event; it is answered as any callback: the run's status, `409 run_cancelled` for
    a cancelled run, `409 run_finished` for an ended one). When no callback arrives within the
    lease, the platform fails the run with the error `RuntimeLost` ("the runtime stopped
    reporting: no callback for N s (its lease lapsed)"), so a runtime killed outright is noticed
    within its lease instead of at `maxRunDurationMs`. A runtime may also give a run its lease
    as soon as it takes the trigger's delivery (the `CXPA-Lease-Seconds` header of its answer;
    see the `runtimeDelivery` webhook): the run then holds it while still `queued`, and a
    `heartbeat` for a queued run renews it and leaves it `queued`. `waiting` ends the lease (a waiting
    run is
    not executing), and so does the end of the run; the `started` after a resume takes a new one
    when it asks again (a `started` without `leaseSeconds` holds none). A platform without this
    extension answers a `started` with `leaseSeconds`, and a `heartbeat`, with a `4xx` (`400
    invalid_body`): a runtime then sends `started` without it, sends no heartbeats to that
    platform, and its runs go on as without a lease.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent): One progress event from
            a runtime, discriminated by `type`.

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
    body: HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent,
    idempotency_key: str | Unset = UNSET,
) -> CallbackAccepted | Error | None:
    """Report progress of a run from its runtime.

     One event per request, discriminated by `type`: `started`; `output` (intermediate, or the
    end of the run with `complete: true` or `failed: true` and an `error`); `waiting` (paused on
    a token). An event for a cancelled run is `409 run_cancelled` (an extension of the seed's
    contract: the runtime should stop its work; see docs/runtimes.md, "Being cancelled"); an event
    for a completed or failed run is `409 run_finished`; an event the state machine does not allow
    is `409 invalid_transition`.

    The lease (an extension of the seed's contract; see docs/runtimes.md, "The lease"): a runtime
    may ask for one with its `started` (`leaseSeconds`, 2 to 3600). While the run holds it, every
    callback renews it, and a `heartbeat` event does nothing else (it changes no run and records
    no progress event; it is answered as any callback: the run's status, `409 run_cancelled` for
    a cancelled run, `409 run_finished` for an ended one). When no callback arrives within the
    lease, the platform fails the run with the error `RuntimeLost` ("the runtime stopped
    reporting: no callback for N s (its lease lapsed)"), so a runtime killed outright is noticed
    within its lease instead of at `maxRunDurationMs`. A runtime may also give a run its lease
    as soon as it takes the trigger's delivery (the `CXPA-Lease-Seconds` header of its answer;
    see the `runtimeDelivery` webhook): the run then holds it while still `queued`, and a
    `heartbeat` for a queued run renews it and leaves it `queued`. `waiting` ends the lease (a waiting
    run is
    not executing), and so does the end of the run; the `started` after a resume takes a new one
    when it asks again (a `started` without `leaseSeconds` holds none). A platform without this
    extension answers a `started` with `leaseSeconds`, and a `heartbeat`, with a `4xx` (`400
    invalid_body`): a runtime then sends `started` without it, sends no heartbeats to that
    platform, and its runs go on as without a lease.

    Args:
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (HeartbeatEvent | OutputEvent | StartedEvent | WaitingEvent): One progress event from
            a runtime, discriminated by `type`.

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
