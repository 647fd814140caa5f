from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.run_error import RunError


T = TypeVar("T", bound="OutputEvent")


@_attrs_define
class OutputEvent:
    """An output of the run (`output()`); with `complete: true` the run ends completed
    (`complete()`); with `failed: true` and an `error` it ends failed (`fail()`).

    """

    type_: Literal["output"]
    """ The event tag. """
    output: Any | Unset = UNSET
    """ The output, any JSON. """
    outputs: int | Unset = UNSET
    """ A count of output units. """
    complete: bool | Unset = UNSET
    """ `true` ends the run completed with this output. """
    failed: bool | Unset = UNSET
    """ `true` ends the run failed with `error`. """
    error: RunError | Unset = UNSET
    """ Why a run failed. """

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        output = self.output

        outputs = self.outputs

        complete = self.complete

        failed = self.failed

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output
        if outputs is not UNSET:
            field_dict["outputs"] = outputs
        if complete is not UNSET:
            field_dict["complete"] = complete
        if failed is not UNSET:
            field_dict["failed"] = failed
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_error import RunError  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["output"], d.pop("type"))
        if type_ != "output":
            raise ValueError(f"type must match const 'output', got '{type_}'")

        output = d.pop("output", UNSET)

        outputs = d.pop("outputs", UNSET)

        complete = d.pop("complete", UNSET)

        failed = d.pop("failed", UNSET)

        _error = d.pop("error", UNSET)
        error: RunError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = RunError.from_dict(_error)

        output_event = cls(
            type_=type_,
            output=output,
            outputs=outputs,
            complete=complete,
            failed=failed,
            error=error,
        )

        return output_event
