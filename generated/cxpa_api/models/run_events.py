from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.run_event import RunEvent


T = TypeVar("T", bound="RunEvents")


@_attrs_define
class RunEvents:
    """A page of a run's events (an extension of the seed's contract; see `get_run_events`)."""

    events: list[RunEvent]
    """ The events after `after`, oldest first (empty when the window elapsed first). """
    cursor: str
    """ A position in a run's events (opaque): 1 to 256 visible ASCII characters; refused from either side
    otherwise.
     """
    ended: bool
    """ True once the run is terminal and these events include its last; read no further. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)

        cursor = self.cursor

        ended = self.ended

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "events": events,
                "cursor": cursor,
                "ended": ended,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_event import RunEvent  # noqa: PLC0415

        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = RunEvent.from_dict(events_item_data)

            events.append(events_item)

        cursor = d.pop("cursor")

        ended = d.pop("ended")

        run_events = cls(
            events=events,
            cursor=cursor,
            ended=ended,
        )

        run_events.additional_properties = d
        return run_events

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
