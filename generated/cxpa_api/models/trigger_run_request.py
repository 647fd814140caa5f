from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="TriggerRunRequest")


@_attrs_define
class TriggerRunRequest:
    """The body of `trigger_run`."""

    input_: JsonObject
    """ Any JSON object. """

    def to_dict(self) -> dict[str, Any]:
        input_ = self.input_.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "input": input_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415

        d = dict(src_dict)
        input_ = JsonObject.from_dict(d.pop("input"))

        trigger_run_request = cls(
            input_=input_,
        )

        return trigger_run_request
