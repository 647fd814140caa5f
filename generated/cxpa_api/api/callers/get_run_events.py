from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.run_events import RunEvents
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    run_id: str,
    *,
    after: str | Unset = UNSET,
    wait_ms: int | Unset = 0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["after"] = after

    params["waitMs"] = wait_ms

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/agents/{agent_id}/runs/{run_id}/events".format(
            agent_id=quote(str(agent_id), safe=""),
            run_id=quote(str(run_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Error | RunEvents | None:
    if response.status_code == 200:
        response_200 = RunEvents.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx2.Response) -> Response[Error | RunEvents]:
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
    after: str | Unset = UNSET,
    wait_ms: int | Unset = 0,
) -> Response[Error | RunEvents]:
    """Read a run's progress events after a cursor, optionally long-polling for the next.

     An extension of the seed's contract (see docs/runs.md, "Progress events"): every change of a
    run in order, each with an opaque `cursor`. Pass the `cursor` of the answer as `after` on the
    next read to get exactly the events that followed (none repeated, none skipped), so a read that
    failed or a connection that dropped is simply asked again with the same `after`. With `waitMs`
    (0 to 60000, default 0) the server holds the request until at least one event after `after`
    exists or the window elapses, then answers `200` (with no events when none came). `ended` is
    true once the run is terminal and the answer includes its last event (`ended`, with the Run
    row). A read: it changes nothing and takes no `Idempotency-Key`. An `after` that is not a
    cursor of this run is `400` naming it; an unknown run `404 run_not_found`. A platform without
    this endpoint answers `404` with another code (such as `not_found`), or not in the Error
    envelope; callers then fall back to held run reads (`GET` the run with `waitMs`), where
    intermediate outputs may be coalesced.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        after (str | Unset): A position in a run's events (opaque): 1 to 256 visible ASCII
            characters; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RunEvents]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        after=after,
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
    after: str | Unset = UNSET,
    wait_ms: int | Unset = 0,
) -> Error | RunEvents | None:
    """Read a run's progress events after a cursor, optionally long-polling for the next.

     An extension of the seed's contract (see docs/runs.md, "Progress events"): every change of a
    run in order, each with an opaque `cursor`. Pass the `cursor` of the answer as `after` on the
    next read to get exactly the events that followed (none repeated, none skipped), so a read that
    failed or a connection that dropped is simply asked again with the same `after`. With `waitMs`
    (0 to 60000, default 0) the server holds the request until at least one event after `after`
    exists or the window elapses, then answers `200` (with no events when none came). `ended` is
    true once the run is terminal and the answer includes its last event (`ended`, with the Run
    row). A read: it changes nothing and takes no `Idempotency-Key`. An `after` that is not a
    cursor of this run is `400` naming it; an unknown run `404 run_not_found`. A platform without
    this endpoint answers `404` with another code (such as `not_found`), or not in the Error
    envelope; callers then fall back to held run reads (`GET` the run with `waitMs`), where
    intermediate outputs may be coalesced.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        after (str | Unset): A position in a run's events (opaque): 1 to 256 visible ASCII
            characters; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RunEvents
    """

    return sync_detailed(
        agent_id=agent_id,
        run_id=run_id,
        client=client,
        after=after,
        wait_ms=wait_ms,
    ).parsed


async def asyncio_detailed(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    wait_ms: int | Unset = 0,
) -> Response[Error | RunEvents]:
    """Read a run's progress events after a cursor, optionally long-polling for the next.

     An extension of the seed's contract (see docs/runs.md, "Progress events"): every change of a
    run in order, each with an opaque `cursor`. Pass the `cursor` of the answer as `after` on the
    next read to get exactly the events that followed (none repeated, none skipped), so a read that
    failed or a connection that dropped is simply asked again with the same `after`. With `waitMs`
    (0 to 60000, default 0) the server holds the request until at least one event after `after`
    exists or the window elapses, then answers `200` (with no events when none came). `ended` is
    true once the run is terminal and the answer includes its last event (`ended`, with the Run
    row). A read: it changes nothing and takes no `Idempotency-Key`. An `after` that is not a
    cursor of this run is `400` naming it; an unknown run `404 run_not_found`. A platform without
    this endpoint answers `404` with another code (such as `not_found`), or not in the Error
    envelope; callers then fall back to held run reads (`GET` the run with `waitMs`), where
    intermediate outputs may be coalesced.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        after (str | Unset): A position in a run's events (opaque): 1 to 256 visible ASCII
            characters; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RunEvents]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        after=after,
        wait_ms=wait_ms,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    after: str | Unset = UNSET,
    wait_ms: int | Unset = 0,
) -> Error | RunEvents | None:
    """Read a run's progress events after a cursor, optionally long-polling for the next.

     An extension of the seed's contract (see docs/runs.md, "Progress events"): every change of a
    run in order, each with an opaque `cursor`. Pass the `cursor` of the answer as `after` on the
    next read to get exactly the events that followed (none repeated, none skipped), so a read that
    failed or a connection that dropped is simply asked again with the same `after`. With `waitMs`
    (0 to 60000, default 0) the server holds the request until at least one event after `after`
    exists or the window elapses, then answers `200` (with no events when none came). `ended` is
    true once the run is terminal and the answer includes its last event (`ended`, with the Run
    row). A read: it changes nothing and takes no `Idempotency-Key`. An `after` that is not a
    cursor of this run is `400` naming it; an unknown run `404 run_not_found`. A platform without
    this endpoint answers `404` with another code (such as `not_found`), or not in the Error
    envelope; callers then fall back to held run reads (`GET` the run with `waitMs`), where
    intermediate outputs may be coalesced.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        after (str | Unset): A position in a run's events (opaque): 1 to 256 visible ASCII
            characters; refused from either side otherwise.
        wait_ms (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RunEvents
    """

    return (
        await asyncio_detailed(
            agent_id=agent_id,
            run_id=run_id,
            client=client,
            after=after,
            wait_ms=wait_ms,
        )
    ).parsed
