"""What every result type shares: `extra`, the JSON-safe shape, and the mark of the call's fields.

The call's fields (`request_id`, `replayed`, `attempts`, declared once by `_answer.Answer`) describe
the request that returned a result, not the result: they take no part in equality and are not in
`to_dict()`. `extra` holds the wire properties this SDK does not know (a newer platform's): not
compared, never in repr, in `to_dict()`.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping
from dataclasses import field, fields
from typing import Any

# The metadata of the fields that describe the call that returned a result, not the result (`Answer`'s):
# as_dict leaves them out of to_dict().
CALL = {"call": True}


def parse_time(value: str | None) -> datetime.datetime | None:
    """An RFC 3339 time from the wire (or `to_dict()`), or None."""
    return None if value is None else datetime.datetime.fromisoformat(value)


def extra_field() -> Any:
    """The `extra` field: not compared (like `request_id`), never in repr, in `to_dict()`."""
    return field(default_factory=dict, compare=False, repr=False, kw_only=True)


def unknown_properties(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The properties of a wire object outside `known` (the ones its type reads), in wire order; usually none.

    On the hot path of every answer: the common case is one subset test against a frozenset.
    """
    if data.keys() <= known:
        return {}
    return {key: value for key, value in data.items() if key not in known}


def extra_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The `extra` of a `to_dict()` shape (absent in a dict stored before there was one)."""
    return dict(data.get("extra") or {})


def _plain(value: Any) -> Any:
    """A field's value as JSON-safe data: times as RFC 3339 strings, statuses as strings, results as dicts."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "to_dict"):  # a nested result (a Run in a RunEvent, its RunError or RunWaiting)
        return value.to_dict()
    if isinstance(value, Mapping):
        return dict(value)
    return value


def as_dict(result: Any) -> dict[str, Any]:
    """A result's `to_dict()`: its fields as JSON-safe data, the call's fields left out."""
    return {f.name: _plain(getattr(result, f.name)) for f in fields(result) if not f.metadata.get("call")}
