from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus

T = TypeVar("T", bound="TriggeredRun")


@_attrs_define
class TriggeredRun:
    """The answer to `trigger_run`."""

    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    status: RunStatus
    """ Where a run is in its life: `queued -> running -> completed | failed | cancelled`,
    `running <-> waiting`, and `queued | running | waiting -> cancelled`. A terminal run
    (`completed`, `failed`, `cancelled`) never changes again.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "runId": run_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("runId")

        status = RunStatus(d.pop("status"))

        triggered_run = cls(
            run_id=run_id,
            status=status,
        )

        triggered_run.additional_properties = d
        return triggered_run

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
