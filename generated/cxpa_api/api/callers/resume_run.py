from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.resume_run_request import ResumeRunRequest
from ...models.run import Run
from ...types import UNSET, Response, Unset


def _get_kwargs(
    agent_id: int,
    run_id: str,
    *,
    body: ResumeRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/agents/{agent_id}/runs/{run_id}/resume".format(
            agent_id=quote(str(agent_id), safe=""),
            run_id=quote(str(run_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    body: ResumeRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | Run]:
    """Resume a run that waits on a token, with an output for its runtime.

     An extension of the seed's contract (see docs/runtimes.md, "Waiting and being resumed"): the
    run must be `waiting` on `tokenId` (the token of its last `waiting` callback). The platform
    takes the token (it resumes the run once: a second resume of it is `409 not_waiting`) and tells
    the runtime: a URL runtime is sent the ResumePayload (`output`, and the run's `input`), and
    its `started` callback moves the run back to `running`. The answer is the Run row as it
    stands: still `waiting` until the runtime reports `started`, with `waiting` null (its token
    was taken). An unknown run, or a token the run never waited on, is `404` (`run_not_found`,
    `token_not_found`); a run that is not waiting on the token now is `409 not_waiting`, an
    ended one `409 run_finished`. Idempotent by its Idempotency-Key. A platform without this
    endpoint answers `404` with another code (such as `not_found`): the run can then be resumed
    only that platform's own way.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (ResumeRunRequest): The body of `resume_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Run]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
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
    body: ResumeRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | Run | None:
    """Resume a run that waits on a token, with an output for its runtime.

     An extension of the seed's contract (see docs/runtimes.md, "Waiting and being resumed"): the
    run must be `waiting` on `tokenId` (the token of its last `waiting` callback). The platform
    takes the token (it resumes the run once: a second resume of it is `409 not_waiting`) and tells
    the runtime: a URL runtime is sent the ResumePayload (`output`, and the run's `input`), and
    its `started` callback moves the run back to `running`. The answer is the Run row as it
    stands: still `waiting` until the runtime reports `started`, with `waiting` null (its token
    was taken). An unknown run, or a token the run never waited on, is `404` (`run_not_found`,
    `token_not_found`); a run that is not waiting on the token now is `409 not_waiting`, an
    ended one `409 run_finished`. Idempotent by its Idempotency-Key. A platform without this
    endpoint answers `404` with another code (such as `not_found`): the run can then be resumed
    only that platform's own way.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (ResumeRunRequest): The body of `resume_run`.

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
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ResumeRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | Run]:
    """Resume a run that waits on a token, with an output for its runtime.

     An extension of the seed's contract (see docs/runtimes.md, "Waiting and being resumed"): the
    run must be `waiting` on `tokenId` (the token of its last `waiting` callback). The platform
    takes the token (it resumes the run once: a second resume of it is `409 not_waiting`) and tells
    the runtime: a URL runtime is sent the ResumePayload (`output`, and the run's `input`), and
    its `started` callback moves the run back to `running`. The answer is the Run row as it
    stands: still `waiting` until the runtime reports `started`, with `waiting` null (its token
    was taken). An unknown run, or a token the run never waited on, is `404` (`run_not_found`,
    `token_not_found`); a run that is not waiting on the token now is `409 not_waiting`, an
    ended one `409 run_finished`. Idempotent by its Idempotency-Key. A platform without this
    endpoint answers `404` with another code (such as `not_found`): the run can then be resumed
    only that platform's own way.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (ResumeRunRequest): The body of `resume_run`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Run]
    """

    kwargs = _get_kwargs(
        agent_id=agent_id,
        run_id=run_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    agent_id: int,
    run_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: ResumeRunRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | Run | None:
    """Resume a run that waits on a token, with an output for its runtime.

     An extension of the seed's contract (see docs/runtimes.md, "Waiting and being resumed"): the
    run must be `waiting` on `tokenId` (the token of its last `waiting` callback). The platform
    takes the token (it resumes the run once: a second resume of it is `409 not_waiting`) and tells
    the runtime: a URL runtime is sent the ResumePayload (`output`, and the run's `input`), and
    its `started` callback moves the run back to `running`. The answer is the Run row as it
    stands: still `waiting` until the runtime reports `started`, with `waiting` null (its token
    was taken). An unknown run, or a token the run never waited on, is `404` (`run_not_found`,
    `token_not_found`); a run that is not waiting on the token now is `409 not_waiting`, an
    ended one `409 run_finished`. Idempotent by its Idempotency-Key. A platform without this
    endpoint answers `404` with another code (such as `not_found`): the run can then be resumed
    only that platform's own way.

    Args:
        agent_id (int):
        run_id (str): A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or
            `..`; refused from either side otherwise.
        idempotency_key (str | Unset): An idempotency key (the `Idempotency-Key` header's rule,
            and a batch item's
            `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
        body (ResumeRunRequest): The body of `resume_run`.

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
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
