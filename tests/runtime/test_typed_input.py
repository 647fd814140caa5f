"""Typed input: `run: RunContext[MyInput]` with a dataclass or a pydantic model, checked when the run arrives.

Over real HTTP: a good input reaches the function as the model's instance (async and sync, dataclass
and pydantic), a bad one fails the run with `InvalidInputError` naming the field, and the function
is never called. The check itself, field by field, against the inputs a hostile caller can send.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pydantic
import pytest
from runtime_support import runtime_for, serving, settled

from cxpa_sdk import Cxpa, InvalidArgumentTypeError
from cxpa_sdk.runtime import RunContext, Runtime, SyncRunContext
from cxpa_sdk.runtime._input import InvalidInputError, parse_input
from cxpa_sdk.testing import LocalPlatform


@dataclasses.dataclass
class Page:
    """A nested model."""

    number: int
    title: str | None = None


@dataclasses.dataclass
class Document:
    """The dataclass input of the tests."""

    text: str
    language: Literal["en", "fr"] = "en"
    weight: float = 1.0
    pages: list[Page] = dataclasses.field(default_factory=list)
    tags: dict[str, int] = dataclasses.field(default_factory=dict)


class Order(pydantic.BaseModel):
    """The pydantic input of the tests."""

    sku: str
    quantity: int


def test_dataclass_input_reaches_an_async_function_as_the_model(platform: LocalPlatform, client: Cxpa) -> None:
    """The function gets a Document, nested pages built, an int weight taken as a float."""
    runtime = runtime_for(platform)
    seen: list[Document] = []

    @runtime.agent("typed-doc")
    async def typed_doc(run: RunContext[Document]) -> dict[str, Any]:
        seen.append(run.input)
        return {"words": len(run.input.text.split()), "first": run.input.pages[0].number}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("typed-doc", f"{url}/agents/typed-doc")
        run_id = client.trigger_run(agent.id, {"text": "a b", "weight": 2, "pages": [{"number": 7}]}).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "completed", row
    assert row["output_data"] == {"words": 2, "first": 7}
    assert seen == [Document(text="a b", weight=2.0, pages=[Page(number=7)])]
    assert isinstance(seen[0].weight, float)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": 5}, "input.text: expected a string, got int"),
        ({}, "input.text: required by Document, missing"),
        ({"text": "x", "lang": "en"}, "input.lang: not a field of Document"),
        (
            {"text": "x", "pages": [{"number": 1}, {"number": "2"}]},
            "input.pages[1].number: expected an integer, got str",
        ),
        ({"text": "x", "language": "de"}, "input.language: expected 'en' or 'fr', got str"),
    ],
)
def test_bad_dataclass_input_fails_the_run_naming_the_field(
    platform: LocalPlatform, client: Cxpa, body: dict[str, Any], message: str
) -> None:
    """The run fails InvalidInputError with the field's path; the sync function is never called."""
    runtime = runtime_for(platform)
    called: list[bool] = []

    @runtime.agent("typed-sync")
    def typed_sync(run: SyncRunContext[Document]) -> dict[str, Any]:
        called.append(True)
        return {}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("typed-sync", f"{url}/agents/typed-sync")
        run_id = client.trigger_run(agent.id, body).run_id
        row = settled(platform, run_id, "completed", "failed")
    assert row["status"] == "failed"
    assert row["error"]["name"] == "InvalidInputError"
    assert row["error"]["message"] == message
    assert called == []


def test_pydantic_input_is_validated_by_the_model(platform: LocalPlatform, client: Cxpa) -> None:
    """A pydantic model validates (its coercions apply); its first error names the field."""
    runtime = runtime_for(platform)

    @runtime.agent("typed-order")
    async def typed_order(run: RunContext[Order]) -> dict[str, Any]:
        return {"total": run.input.quantity * 2, "sku": run.input.sku}

    with serving(runtime, platform) as url:
        agent = platform.add_agent("typed-order", f"{url}/agents/typed-order")
        good = client.trigger_run(agent.id, {"sku": "A1", "quantity": "3"}).run_id
        bad = client.trigger_run(agent.id, {"sku": "A1", "quantity": "many"}).run_id
        good_row = settled(platform, good, "completed", "failed")
        bad_row = settled(platform, bad, "completed", "failed")
    assert good_row["output_data"] == {"total": 6, "sku": "A1"}
    assert bad_row["status"] == "failed"
    assert bad_row["error"]["name"] == "InvalidInputError"
    assert bad_row["error"]["message"].startswith("input.quantity: ")


def test_an_untyped_or_dict_run_gets_the_dict() -> None:
    """A bare context or `RunContext[dict[str, Any]]` is no model: the input stays the payload's dict."""
    runtime = Runtime(base_url="http://127.0.0.1:9")

    @runtime.agent("bare")
    async def bare(run: RunContext) -> None: ...

    @runtime.agent("dict")
    async def as_dict(run: RunContext[dict[str, Any]]) -> None: ...

    runtime.asgi()
    assert bare.input_model is None
    assert as_dict.input_model is None


def test_a_model_that_is_no_dataclass_is_refused_when_served() -> None:
    """`asgi()` names the agent whose model is neither a dataclass nor a pydantic model."""
    runtime = Runtime(base_url="http://127.0.0.1:9")

    @runtime.agent("odd")
    async def odd(run: RunContext[int]) -> None: ...

    with pytest.raises(InvalidArgumentTypeError, match=r"agent 'odd'.*dataclass or a pydantic model"):
        runtime.asgi()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "x", "weight": True}, "input.weight: expected a number, got bool"),
        ({"text": "x", "pages": {"number": 1}}, "input.pages: expected a list, got dict"),
        ({"text": "x", "pages": [None]}, "input.pages[0]: expected an object (Page), got null"),
        (
            {"text": "x", "pages": [{"number": 1, "title": 3}]},
            "input.pages[0].title: expected a string or null, got int",
        ),
        ({"text": "x", "tags": {"a": "b"}}, "input.tags.a: expected an integer, got str"),
        ({"text": "x", "tags": {"\x1b[31mred": "b"}}, "input.tags['\\x1b[31mred']: expected an integer, got str"),
        ({"text": "x", "\u202eevil": 1}, "input['\\u202eevil']: not a field of Document"),
    ],
)
def test_the_check_names_the_field_in_printable_form(data: dict[str, Any], message: str) -> None:
    """Every wrong value is named by its path; a key that is no plain name is quoted, control characters escaped."""
    with pytest.raises(InvalidInputError) as caught:
        parse_input(Document, data)
    assert str(caught.value) == message


def test_a_huge_key_gives_a_bounded_message() -> None:
    """An unknown key of a megabyte does not make a megabyte of error message."""
    with pytest.raises(InvalidInputError) as caught:
        parse_input(Document, {"text": "x", "k" * 1_000_000: 1})
    assert len(str(caught.value)) <= 1000


@dataclasses.dataclass
class Tree:
    """A recursive model."""

    children: list[Tree] = dataclasses.field(default_factory=list)


def test_an_input_nested_past_recursion_is_refused_not_crashed() -> None:
    """A recursive model and an input nested deeper than Python recurses: InvalidInputError."""
    data: dict[str, Any] = {}
    for _ in range(5000):
        data = {"children": [data]}
    with pytest.raises(InvalidInputError, match="nested too deep"):
        parse_input(Tree, data)
    assert parse_input(Tree, {"children": [{"children": []}]}) == Tree([Tree()])


def test_only_the_run_parameter_is_resolved_and_a_bare_name_may_not_resolve() -> None:
    """Other annotations are not resolved; an unresolvable bare context is a dict input; `RunContext[Missing]` fails."""
    runtime = Runtime(base_url="http://127.0.0.1:9")

    @runtime.agent("other-annotations")
    async def other(run: RunContext[Document], extra: NotDefinedAnywhere = None) -> AlsoMissing:  # type: ignore[name-defined]  # noqa: F821
        return None

    @runtime.agent("checker-only")
    async def checker_only(run: TypeCheckingOnlyContext) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    runtime.asgi()
    assert other.input_model is Document
    assert checker_only.input_model is None

    broken = Runtime(base_url="http://127.0.0.1:9")

    @broken.agent("missing-model")
    async def missing(run: RunContext[MissingModel]) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(InvalidArgumentTypeError, match=r"missing-model.*does not resolve"):
        broken.asgi()
