from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.missing_run import MissingRun
    from ..models.run import Run


T = TypeVar("T", bound="RunsWaited")


@_attrs_define
class RunsWaited:
    """The answer of `wait_for_runs`."""

    ended: list[Run]
    """ Every listed run that is terminal, as its Run row. """
    missing: list[MissingRun]
    """ Every listed run that could not be read. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ended = []
        for ended_item_data in self.ended:
            ended_item = ended_item_data.to_dict()
            ended.append(ended_item)

        missing = []
        for missing_item_data in self.missing:
            missing_item = missing_item_data.to_dict()
            missing.append(missing_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ended": ended,
                "missing": missing,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.missing_run import MissingRun  # noqa: PLC0415
        from ..models.run import Run  # noqa: PLC0415

        d = dict(src_dict)
        ended = []
        _ended = d.pop("ended")
        for ended_item_data in _ended:
            ended_item = Run.from_dict(ended_item_data)

            ended.append(ended_item)

        missing = []
        _missing = d.pop("missing")
        for missing_item_data in _missing:
            missing_item = MissingRun.from_dict(missing_item_data)

            missing.append(missing_item)

        runs_waited = cls(
            ended=ended,
            missing=missing,
        )

        runs_waited.additional_properties = d
        return runs_waited

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
