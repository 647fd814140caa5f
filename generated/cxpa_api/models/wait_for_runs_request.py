from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.run_ref import RunRef


T = TypeVar("T", bound="WaitForRunsRequest")


@_attrs_define
class WaitForRunsRequest:
    """The runs to wait for (each at most once), and how long to hold the request."""

    runs: list[RunRef]
    """ The runs to watch. """
    wait_ms: int | Unset = 0
    """ How long to hold the request while none of the runs is terminal, in milliseconds. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        runs = []
        for runs_item_data in self.runs:
            runs_item = runs_item_data.to_dict()
            runs.append(runs_item)

        wait_ms = self.wait_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "runs": runs,
            }
        )
        if wait_ms is not UNSET:
            field_dict["waitMs"] = wait_ms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_ref import RunRef  # noqa: PLC0415

        d = dict(src_dict)
        runs = []
        _runs = d.pop("runs")
        for runs_item_data in _runs:
            runs_item = RunRef.from_dict(runs_item_data)

            runs.append(runs_item)

        wait_ms = d.pop("waitMs", UNSET)

        wait_for_runs_request = cls(
            runs=runs,
            wait_ms=wait_ms,
        )

        wait_for_runs_request.additional_properties = d
        return wait_for_runs_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
