from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="StartedEvent")


@_attrs_define
class StartedEvent:
    """The runtime began work (`started()`)."""

    type_: Literal["started"]
    """ The event tag. """

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = cast(Literal["started"], d.pop("type"))
        if type_ != "started":
            raise ValueError(f"type must match const 'started', got '{type_}'")

        started_event = cls(
            type_=type_,
        )

        return started_event
