"""Errors cross processes (pickle, a process pool) whole and without secrets; clients refuse pickling clearly."""

# ruff: noqa: S301 - every pickle loaded here was made by this test, from this test's own objects

import asyncio
import inspect
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from pickling_support import child_call, child_init

import cxpa_sdk
from cxpa_sdk import (
    AgentClient,
    AsyncAgentClient,
    AsyncCxpa,
    ConflictError,
    Cxpa,
    CxpaError,
    Run,
    RunStatus,
    WaitTimeoutError,
)
from cxpa_sdk._errors import scrub
from cxpa_sdk.testing import APPROVAL, SLOW, LocalPlatform

EXPORTED_ERRORS = sorted(
    (obj for obj in vars(cxpa_sdk).values() if isinstance(obj, type) and issubclass(obj, CxpaError)),
    key=lambda cls: cls.__name__,
)
RUN = Run.from_json(
    {
        "id": "run_1",
        "agent_id": 3,
        "status": "failed",
        "input_data": {"a": 1},
        "output_data": None,
        "outputs": None,
        "error": {"message": "boom", "name": "ValueError"},
        "external_run_id": None,
        "waiting": None,
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "finished_at": "2026-01-01T00:00:01Z",
    }
)
# A value for every constructor argument of every exported error, by name: an error with an argument
# missing here fails its test, so a new error class can't slip past the round trip.
SAMPLES: dict[str, Any] = {
    "message": "something went wrong",
    "attempts": 3,
    "idempotency_key": "key-123",
    "applied": None,
    "status_code": 409,
    "code": "run_finished",
    "request_id": "req_abc",
    "run_id": "run_1",
    "retry_after": 1.5,
    "status": "running",
    "cursor": "42",
    "pending": ((1, "run_1"), (2, "run_2")),
    "run": RUN,
    "received": 10,
    "expected": 20,
    "max_bytes": 5,
    "path": "reports/out.pdf",
    "errno": 28,
    "argument": "base_url",
    "env_var": "CXPA_API_URL",
    "also": [("ingest_api_key", "CXPA_INGEST_KEY")],
    "check": "replayed",
    "delivery_id": "msg_1",
    "headers": {"content-type": "application/json", "x-request-id": "req_abc"},
    "body": b'{"error": {"code": "run_finished", "message": "ended"}}',
}


def sample(cls: type[CxpaError]) -> CxpaError:
    """An instance of `cls` with every argument its constructor (and its bases') takes."""
    arguments: dict[str, Any] = {}
    for klass in cls.__mro__:  # each __init__ that takes **kwargs passes them on to the next one up
        if "__init__" not in vars(klass) or not issubclass(klass, CxpaError):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        for parameter in parameters:
            if parameter.name != "self" and parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                arguments[parameter.name] = SAMPLES[parameter.name]
        if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
            break
    positional = [arguments.pop(name) for name in ("message", "argument", "env_var") if name in arguments]
    return cls(*positional, **arguments)


@pytest.mark.parametrize("cls", EXPORTED_ERRORS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL], ids=lambda p: f"protocol-{p}")
def test_every_exported_error_round_trips(cls: type[CxpaError], protocol: int) -> None:
    """Each exported error unpickles as its class with every attribute, the same str and args."""
    error = sample(cls)
    error.add_note("a note added on the way")
    copy = pickle.loads(pickle.dumps(error, protocol))
    assert type(copy) is cls
    assert vars(copy) == vars(error)
    assert copy.args == error.args
    assert str(copy) == str(error)
    assert copy.may_have_been_applied == error.may_have_been_applied


def test_the_round_trip_checks_real_attributes() -> None:
    """The samples reach the attributes that matter (the round-trip test compares something)."""
    conflict = vars(sample(ConflictError))
    assert {"message", "attempts", "idempotency_key", "applied", "status_code", "request_id", "run_id"} <= set(conflict)
    failed = pickle.loads(pickle.dumps(sample(cxpa_sdk.RunFailedError)))
    assert failed.run == RUN
    assert failed.run.status is RunStatus.FAILED
    missing = pickle.loads(pickle.dumps(sample(cxpa_sdk.MissingConfigError)))
    assert missing.env_vars == ("CXPA_API_URL", "CXPA_INGEST_KEY")


def test_a_scrubbed_error_stays_scrubbed_in_its_pickle() -> None:
    """An error whose server text echoed the key is masked, and neither its pickle nor its copy holds the key."""
    key = "sk_live_pickle_secret"
    error = ConflictError(f"bad key {key}", status_code=409, code="run_finished", request_id=f"req_{key}")
    scrub(error, (key,))
    data = pickle.dumps(error)
    assert key.encode() not in data
    copy = pickle.loads(data)
    assert key not in str(copy)
    assert key not in repr(copy)
    assert copy.message == "bad key ***"


def test_errors_cross_a_process_pool(cxpa_platform: LocalPlatform, client: Cxpa) -> None:
    """A child's WaitTimeoutError and ConflictError from real calls arrive in the parent whole, without the key."""
    slow = client.trigger_run(SLOW, {"seconds": 30}).run_id
    finished = client.trigger_run(APPROVAL, {}).run_id
    client.cancel_run(APPROVAL, finished)
    key = cxpa_platform.ingest_key
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as Celery and Ray workers are
    with ProcessPoolExecutor(1, mp_context=context, initializer=child_init, initargs=(key,)) as pool:
        waited = pool.submit(child_call, cxpa_platform.base_url, "wait", slow)
        cancelled = pool.submit(child_call, cxpa_platform.base_url, "cancel", finished)
        with pytest.raises(WaitTimeoutError) as timed_out:
            waited.result(timeout=120)
        with pytest.raises(ConflictError) as conflict:
            cancelled.result(timeout=120)
    client.cancel_run(SLOW, slow)
    assert (timed_out.value.run_id, timed_out.value.status) == (slow, "running")
    assert "did not end within 0.2 s" in str(timed_out.value)
    error = conflict.value
    assert (error.status_code, error.code) == (409, "run_finished")
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert error.attempts == 1
    assert error.applied is False
    assert error.idempotency_key
    assert str(error).startswith("409 run_finished: ")
    assert "1 attempt; the request was not applied" in str(error)
    for received in (timed_out.value, error):
        assert key not in str(received)
        assert key not in repr(received)
        assert key.encode() not in pickle.dumps(received)


TOKEN = "ctok_pickle_secret"


def clients(platform: LocalPlatform) -> list[Any]:
    """One of each client, built on the platform."""
    agent_key = platform.agent_api_key(SLOW)

    async def build_async() -> tuple[AsyncCxpa, AsyncAgentClient]:
        return (
            AsyncCxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key),
            AsyncAgentClient(api_key=agent_key, run_id="run_1", base_url=platform.base_url, credentials_token=TOKEN),
        )

    async_client, async_agent = asyncio.run(build_async())
    return [
        Cxpa(base_url=platform.base_url, ingest_api_key=platform.ingest_key),
        async_client,
        AgentClient(api_key=agent_key, run_id="run_1", base_url=platform.base_url, credentials_token=TOKEN),
        async_agent,
    ]


@pytest.mark.parametrize("index", range(4), ids=["Cxpa", "AsyncCxpa", "AgentClient", "AsyncAgentClient"])
@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL], ids=lambda p: f"protocol-{p}")
def test_clients_refuse_pickling_clearly(cxpa_platform: LocalPlatform, index: int, protocol: int) -> None:
    """pickle.dumps(client) raises a CxpaError saying to create the client in the child; no key in it."""
    made = clients(cxpa_platform)
    target = made[index]
    with pytest.raises(CxpaError) as caught:
        pickle.dumps(target, protocol)
    message = str(caught.value)
    assert type(target).__name__ in message
    assert "in the child process" in message
    for secret in (cxpa_platform.ingest_key, cxpa_platform.agent_api_key(SLOW), TOKEN):
        assert secret not in message
        assert secret not in repr(caught.value)
    for other in made:
        if isinstance(other, Cxpa | AgentClient):
            other.close()
        else:
            asyncio.run(other.aclose())
