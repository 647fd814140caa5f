from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus

T = TypeVar("T", bound="WaitTimedOut")


@_attrs_define
class WaitTimedOut:
    """The `202` answer of `trigger_run_and_wait` when the window elapsed before the run ended."""

    timed_out: Literal[True]
    """ Always `true`; tells this answer from a Run row. """
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
        timed_out = self.timed_out

        run_id = self.run_id

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "timedOut": timed_out,
                "runId": run_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        timed_out = cast(Literal[True], d.pop("timedOut"))
        if timed_out != True:
            raise ValueError(f"timedOut must match const True, got '{timed_out}'")

        run_id = d.pop("runId")

        status = RunStatus(d.pop("status"))

        wait_timed_out = cls(
            timed_out=timed_out,
            run_id=run_id,
            status=status,
        )

        wait_timed_out.additional_properties = d
        return wait_timed_out

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
