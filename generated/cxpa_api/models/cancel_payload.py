from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.cancel_payload_type import CancelPayloadType

T = TypeVar("T", bound="CancelPayload")


@_attrs_define
class CancelPayload:
    """What the platform POSTs to a platform-managed runtime's URL when one of its runs is cancelled
    (an extension of the seed's contract; see docs/runtimes.md, "Being cancelled"). Sent to the same
    URL as the TriggerPayload and the ResumePayload; `type` tells them apart. It carries no key:
    it only asks the runtime to stop the run's work (its callbacks are answered `409 run_cancelled`
    from now on). Its answer is ignored (any answer, or none, changes nothing: the run is already
    cancelled); a runtime that misses it learns of the cancel from its next callback or status read.

        Example:
            {'type': 'cancelled', 'runId': 'run_8f14e45fceea167a', 'agentId': 42}

    """

    type_: CancelPayloadType
    """ Always `cancelled`; a TriggerPayload has no `type`. """
    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    agent_id: int
    """ The agent the run belongs to. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        run_id = self.run_id

        agent_id = self.agent_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "runId": run_id,
                "agentId": agent_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = CancelPayloadType(d.pop("type"))

        run_id = d.pop("runId")

        agent_id = d.pop("agentId")

        cancel_payload = cls(
            type_=type_,
            run_id=run_id,
            agent_id=agent_id,
        )

        cancel_payload.additional_properties = d
        return cancel_payload

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
