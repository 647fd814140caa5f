from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus

T = TypeVar("T", bound="TriggerBatchItemAccepted")


@_attrs_define
class TriggerBatchItemAccepted:
    """An item of `trigger_runs_batch` that started its run, or replayed the trigger that did."""

    idempotency_key: str
    """ An idempotency key (the `Idempotency-Key` header's rule, and a batch item's
    `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
     """
    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    status: RunStatus
    """ Where a run is in its life: `queued -> running -> completed | failed | cancelled`,
    `running <-> waiting`, and `queued | running | waiting -> cancelled`. A terminal run
    (`completed`, `failed`, `cancelled`) never changes again.
     """
    replayed: bool
    """ True when the item replayed an earlier trigger or batch item with its key and input
    (the run is that one's; its status as that answer gave it), false when it started the run.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        idempotency_key = self.idempotency_key

        run_id = self.run_id

        status = self.status.value

        replayed = self.replayed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "idempotencyKey": idempotency_key,
                "runId": run_id,
                "status": status,
                "replayed": replayed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        idempotency_key = d.pop("idempotencyKey")

        run_id = d.pop("runId")

        status = RunStatus(d.pop("status"))

        replayed = d.pop("replayed")

        trigger_batch_item_accepted = cls(
            idempotency_key=idempotency_key,
            run_id=run_id,
            status=status,
            replayed=replayed,
        )

        trigger_batch_item_accepted.additional_properties = d
        return trigger_batch_item_accepted

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
