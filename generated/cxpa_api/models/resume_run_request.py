from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="ResumeRunRequest")


@_attrs_define
class ResumeRunRequest:
    """The body of `resume_run`."""

    token_id: str
    """ A token a run waits on (`waiting`) and is resumed by (the id rule, at most 256 characters): 1 to
    256 visible ASCII characters, never `.` or `..`; refused from either side otherwise.
     """
    output: JsonObject | Unset = UNSET
    """ Any JSON object. """

    def to_dict(self) -> dict[str, Any]:
        token_id = self.token_id

        output: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output, Unset):
            output = self.output.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "tokenId": token_id,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415

        d = dict(src_dict)
        token_id = d.pop("tokenId")

        _output = d.pop("output", UNSET)
        output: JsonObject | Unset
        if isinstance(_output, Unset):
            output = UNSET
        else:
            output = JsonObject.from_dict(_output)

        resume_run_request = cls(
            token_id=token_id,
            output=output,
        )

        return resume_run_request
