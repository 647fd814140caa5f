"""The items of a job: what `trigger_many` and `run_many` take, and what they give back per item.

This module does not postpone its annotations, so `typing.get_type_hints` resolves the result types'
fields from their public module (`cxpa_sdk`), where `H` is not a name.
"""

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from .. import _config as check
from .._errors import CxpaError, InvalidArgumentError, InvalidArgumentTypeError
from ..types import Run

H = TypeVar("H")

Items = Iterable[object]
"""What the sync `trigger_many` and `run_many` take: inputs, or `(item_key, input)` pairs."""

AsyncItems = Iterable[object] | AsyncIterable[object]
"""What the async ones take: the same, from an iterable or an async iterable."""

MAX_ITEM_KEY_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class TriggeredItem(Generic[H]):
    """One item of `trigger_many`: its place and key, and a handle on its run, or why it has none.

    Attributes:
        index: The item's place in the iterable (0 for the first).
        key: The item's key: the one given with it, else its index as text.
        handle: A handle on the item's run (None when `error` is set).
        error: Why the item has no run: its trigger's error, or a bad item (None when `handle` is set).
    """

    index: int
    key: str
    handle: H | None
    error: CxpaError | None = None

    @property
    def ok(self) -> bool:
        """Whether the item has a run."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class FinishedItem:
    """One item of `run_many`: its place and key, and its run's end, or what went wrong.

    Attributes:
        index: The item's place in the iterable (0 for the first).
        key: The item's key: the one given with it, else its index as text.
        run: The ended run (completed, failed or cancelled; None when `error` is set).
        error: What went wrong: the trigger's error, a bad item, or a wait that ran out
            (`WaitTimeoutError`, naming the run, which goes on). None when `run` is set.
        run_id: The item's run, once it was triggered (set with an error of its wait, too).
    """

    index: int
    key: str
    run: Run | None
    error: CxpaError | None = None
    run_id: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the item's run ended (completed, failed or cancelled: read `run.status`)."""
        return self.error is None


class Item(NamedTuple):
    """An item as the job reads it: its place, its key, and its input (and trigger body) or why it has none."""

    position: int
    key: str
    input: Mapping[str, Any]
    body: bytes
    error: CxpaError | None


def read_item(index: int, item: object) -> Item:
    """One element of the iterable: an input (a JSON object), or an `(item_key, input)` pair.

    A bad element is an item with an error (its result), not the end of the job.
    """
    key = str(index)
    try:
        if isinstance(item, Mapping):
            return Item(index, key, item, check.encode_body({"input": item}), None)
        if isinstance(item, tuple | list) and len(item) == 2:
            given, value = item
            if not isinstance(given, str):
                raise InvalidArgumentTypeError(f"item {index}: its key must be a str, not {type(given).__name__}")
            if not 1 <= len(given) <= MAX_ITEM_KEY_LENGTH:
                raise InvalidArgumentError(f"item {index}: its key must be 1 to {MAX_ITEM_KEY_LENGTH} characters")
            key = given
            value = check.json_object(value, "input")
            return Item(index, key, value, check.encode_body({"input": value}), None)
        raise InvalidArgumentTypeError(
            f"item {index}: expected an input (a mapping) or an (item_key, input) pair, not {type(item).__name__}"
        )
    except CxpaError as error:
        return Item(index, key, {}, b"", error)


async def async_items(items: AsyncItems) -> AsyncIterator[object]:
    """The elements of an iterable or an async iterable, as an async iterator (read lazily)."""
    if isinstance(items, AsyncIterable):
        async for element in items:
            yield element
    else:
        for element in items:
            yield element
