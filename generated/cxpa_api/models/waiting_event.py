from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="WaitingEvent")


@_attrs_define
class WaitingEvent:
    """The run is paused until a token is resumed (`waiting()`)."""

    type_: Literal["waiting"]
    """ The event tag. """
    token_id: str
    """ A token a run waits on (`waiting`) and is resumed by (the id rule, at most 256 characters): 1 to
    256 visible ASCII characters, never `.` or `..`; refused from either side otherwise.
     """
    description: str
    """ What the run is waiting for, for a person. """
    output: Any | Unset = UNSET
    """ An output so far, any JSON. """

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        token_id = self.token_id

        description = self.description

        output = self.output

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "tokenId": token_id,
                "description": description,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = cast(Literal["waiting"], d.pop("type"))
        if type_ != "waiting":
            raise ValueError(f"type must match const 'waiting', got '{type_}'")

        token_id = d.pop("tokenId")

        description = d.pop("description")

        output = d.pop("output", UNSET)

        waiting_event = cls(
            type_=type_,
            token_id=token_id,
            description=description,
            output=output,
        )

        return waiting_event
