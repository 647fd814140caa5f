"""Results to and from JSON: `to_dict()` is JSON-safe snake_case and `from_dict` is its exact inverse."""

import dataclasses
import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from openapi_spec import json_schema

from cxpa_sdk import types
from cxpa_sdk.types import (
    CallbackAccepted,
    CancelPayload,
    Credential,
    IngestedRun,
    RegisteredRun,
    ResumePayload,
    Run,
    RunError,
    RunEvent,
    RunStatus,
    RunWaiting,
    TriggeredRun,
    TriggerPayload,
    WaitTimedOut,
)

T0 = datetime.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
RUN = Run(
    "run_1",
    1,
    RunStatus.FAILED,
    {"topic": "Q3"},
    {"pages": [1, 2]},
    3,
    RunError("boom", "ValueError", "Traceback ..."),
    "ext_1",
    RunWaiting("tok_1", "approve"),
    T0,
    T0 + datetime.timedelta(seconds=1),
    None,
)
EXAMPLES = {
    "Run": RUN,
    "TriggeredRun": TriggeredRun("run_1", RunStatus.QUEUED),
    "WaitTimedOut": WaitTimedOut("run_1", RunStatus.RUNNING),
    "RegisteredRun": RegisteredRun("run_1", "token-secret", 3600),
    "IngestedRun": IngestedRun("run_1", RunStatus("paused")),
    "Credential": Credential("conn_1", "api_key", {"apiKey": "s3cret"}, T0),
    "RunError": RunError("boom"),
    "RunWaiting": RunWaiting("tok_1", "approve"),
    "CallbackAccepted": CallbackAccepted("run_1", RunStatus.RUNNING),
    "TriggerPayload": TriggerPayload("run_1", 1, {"a": 1}, "agent-key", None),
    "RunEvent": RunEvent("7", "ended", T0, RunStatus.FAILED, output={"page": 3}, run=RUN),
    "ResumePayload": ResumePayload(
        "run_1",
        1,
        "tok_1",
        {"approvedBy": "dana"},
        "agent-key",
        "fresh-token",
        trace_context={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "a=1"},
    ),
    "CancelPayload": CancelPayload("run_1", 1),
}


def test_every_result_type_has_an_example() -> None:
    """Each dataclass in cxpa_sdk.types is covered below (a new one must be added here)."""
    dataclass_names = {n for n in types.__all__ if dataclasses.is_dataclass(getattr(types, n))}
    assert dataclass_names == set(EXAMPLES)


@pytest.mark.parametrize("result", EXAMPLES.values(), ids=list(EXAMPLES))
def test_to_dict_is_json_and_from_dict_inverts_it(result: Any) -> None:
    """json.dumps(x.to_dict()) works and from_dict(json.loads(...)) equals x."""
    text = json.dumps(result.to_dict())
    assert type(result).from_dict(json.loads(text)) == result


WITH_EXTRA = {name: r for name, r in EXAMPLES.items() if "extra" in {f.name for f in dataclasses.fields(r)}}


@pytest.mark.parametrize("result", WITH_EXTRA.values(), ids=list(WITH_EXTRA))
def test_extra_survives_to_dict_and_from_dict(result: Any) -> None:
    """A newer platform's properties in `extra` come back from from_dict(json.loads(json.dumps(to_dict())))."""
    kept = {"costUsd": 0.42, "tags": ["a", {"b": None}]}
    with_extra = dataclasses.replace(result, extra=kept)
    back = type(result).from_dict(json.loads(json.dumps(with_extra.to_dict())))
    assert back.extra == kept
    assert "costUsd" not in repr(with_extra)


def test_run_to_dict_shape() -> None:
    """A Run's dict: snake_case names, RFC 3339 strings, a plain status string, nested dicts."""
    data = RUN.to_dict()
    assert data["run_id"] == "run_1"
    assert data["status"] == "failed"
    assert type(data["status"]) is str
    assert data["created_at"] == "2025-01-02T03:04:05.678901+00:00"
    assert data["finished_at"] is None
    assert data["error"] == {"message": "boom", "name": "ValueError", "stack": "Traceback ...", "extra": {}}
    assert data["waiting"] == {"token_id": "tok_1", "description": "approve", "extra": {}}
    assert data["timed_out"] is False
    assert data["extra"] == {}
    assert WaitTimedOut("r", RunStatus.RUNNING).to_dict() == {
        "run_id": "r",
        "status": "running",
        "timed_out": True,
        "extra": {},
    }


def test_dataclasses_asdict_is_not_json_but_to_dict_is() -> None:
    """The documented way is to_dict(): asdict keeps datetimes, which json.dumps rejects."""
    with pytest.raises(TypeError):
        json.dumps(dataclasses.asdict(RUN))
    assert json.loads(json.dumps(RUN.to_dict()))["started_at"] == "2025-01-02T03:04:06.678901+00:00"


def test_call_fields_are_not_in_to_dict_nor_in_equality() -> None:
    """request_id, replayed and attempts describe the call: results compare and serialise by content."""
    replayed = dataclasses.replace(RUN, request_id="req_1", replayed=True, attempts=3)
    assert replayed == RUN
    assert replayed.to_dict() == RUN.to_dict()
    assert not {"request_id", "replayed", "attempts"} & set(replayed.to_dict())
    assert "req_1" not in repr(replayed)


def test_credential_values_are_a_copy_in_the_dict() -> None:
    """The dict's values are its own: changing it does not change the credential."""
    credential = EXAMPLES["Credential"]
    data = credential.to_dict()
    data["values"]["apiKey"] = "changed"
    assert credential.values["apiKey"] == "s3cret"


@given(from_schema(json_schema("Run")))
def test_generated_runs_round_trip(wire: dict[str, Any]) -> None:
    """For any Run row the spec allows: from_dict(to_dict(x)) == x, and json.dumps(to_dict(x)) works."""
    run = Run.from_json(wire)
    assert Run.from_dict(run.to_dict()) == run
    assert Run.from_dict(json.loads(json.dumps(run.to_dict()))) == run


@given(
    st.one_of(
        from_schema(json_schema("TriggeredRun")).map(TriggeredRun.from_json),
        from_schema(json_schema("RegisteredRun")).map(RegisteredRun.from_json),
        from_schema(json_schema("IngestedRun")).map(IngestedRun.from_json),
        from_schema(json_schema("Credential")).map(Credential.from_json),
        from_schema(json_schema("RunEvent")).map(RunEvent.from_json),
    )
)
def test_generated_results_round_trip(result: Any) -> None:
    """The other wire results round-trip through json.dumps(to_dict()) and from_dict too."""
    assert type(result).from_dict(json.loads(json.dumps(result.to_dict()))) == result
