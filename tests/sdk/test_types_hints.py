"""Every exported class works with typing.get_type_hints; the results with pydantic and FastAPI."""

import json
import typing
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import cxpa_sdk
from cxpa_sdk import types
from cxpa_sdk.testing import LocalPlatform

CLASSES = {
    f"{module.__name__}.{name}": getattr(module, name)
    for module in (cxpa_sdk, types)
    for name in module.__all__
    if isinstance(getattr(module, name), type)
}
RESULTS = ["Credential", "IngestedRun", "RegisteredRun", "Run", "TriggeredRun", "WaitTimedOut"]


@pytest.mark.parametrize("cls", CLASSES.values(), ids=list(CLASSES))
def test_get_type_hints_resolves(cls: type) -> None:
    """typing.get_type_hints on the class (and its methods) raises no NameError."""
    typing.get_type_hints(cls)
    for name, member in vars(cls).items():
        function = getattr(member, "__func__", member)
        if callable(function) and not name.startswith("__") and hasattr(function, "__annotations__"):
            typing.get_type_hints(function)


def test_private_module_classes_still_read_as_the_package() -> None:
    """Clients and errors keep `cxpa_sdk.X` in reprs; the result types read as their public module."""
    assert repr(cxpa_sdk.Cxpa) == "<class 'cxpa_sdk.Cxpa'>"
    assert repr(cxpa_sdk.Run) == "<class 'cxpa_sdk.types.Run'>"


@pytest.fixture
def run(cxpa_platform: LocalPlatform) -> cxpa_sdk.Run:
    """A completed run of the echo agent, from the served platform."""
    with cxpa_sdk.Cxpa(base_url=cxpa_platform.base_url, ingest_api_key=cxpa_platform.ingest_key) as client:
        result = client.trigger_run_and_wait(1, {"topic": "Q3"}, timeout_ms=10_000)
    assert isinstance(result, cxpa_sdk.Run)
    return result


@pytest.mark.parametrize("name", RESULTS)
def test_pydantic_type_adapter_builds(name: str) -> None:
    """pydantic.TypeAdapter accepts each result type."""
    pydantic = pytest.importorskip("pydantic")
    pydantic.TypeAdapter(getattr(cxpa_sdk, name))


def test_pydantic_validates_and_dumps_a_run(run: cxpa_sdk.Run) -> None:
    """A Run validates from the dataclass and dumps to JSON with the same content as to_dict()."""
    pydantic = pytest.importorskip("pydantic")
    adapter = pydantic.TypeAdapter(cxpa_sdk.Run)
    assert adapter.validate_python(run) == run
    dumped = json.loads(adapter.dump_json(run))
    expected = run.to_dict()
    for key in ("run_id", "status", "input_data", "output_data", "timed_out"):
        assert dumped[key] == expected[key]
    assert cxpa_sdk.Run.from_dict({k: dumped[k] for k in expected}) == run


def test_fastapi_response_model_run(run: cxpa_sdk.Run) -> None:
    """A FastAPI app with response_model=Run serves the run as JSON."""
    app = FastAPI()

    @app.get("/run", response_model=cxpa_sdk.Run)
    def read() -> Any:
        return run

    with TestClient(app) as http:
        answer = http.get("/run")
    assert answer.status_code == 200
    body = answer.json()
    assert body["run_id"] == run.run_id
    assert body["status"] == "completed"
    assert body["output_data"] == {"topic": "Q3"}
    assert cxpa_sdk.Run.from_dict({k: body[k] for k in run.to_dict()}) == run
