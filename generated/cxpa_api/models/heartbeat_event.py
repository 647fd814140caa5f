from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="HeartbeatEvent")


@_attrs_define
class HeartbeatEvent:
    """The runtime still works on the run (`heartbeat()`): it renews the run's lease and changes
    nothing else (an extension of the seed's contract; see `post_callback`). Answered as any
    callback, so a runtime learns of a cancel from it.

    """

    type_: Literal["heartbeat"]
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
        type_ = cast(Literal["heartbeat"], d.pop("type"))
        if type_ != "heartbeat":
            raise ValueError(f"type must match const 'heartbeat', got '{type_}'")

        heartbeat_event = cls(
            type_=type_,
        )

        return heartbeat_event
