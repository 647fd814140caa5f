from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.trigger_batch_item_accepted import TriggerBatchItemAccepted
    from ..models.trigger_batch_item_failed import TriggerBatchItemFailed


T = TypeVar("T", bound="TriggerBatchAnswer")


@_attrs_define
class TriggerBatchAnswer:
    """The answer of `trigger_runs_batch`."""

    items: list[TriggerBatchItemAccepted | TriggerBatchItemFailed]
    """ One entry per item of the request, in its order. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.trigger_batch_item_accepted import TriggerBatchItemAccepted  # noqa: PLC0415

        items = []
        for items_item_data in self.items:
            items_item: dict[str, Any]
            if isinstance(items_item_data, TriggerBatchItemAccepted):
                items_item = items_item_data.to_dict()
            else:
                items_item = items_item_data.to_dict()

            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.trigger_batch_item_accepted import TriggerBatchItemAccepted  # noqa: PLC0415
        from ..models.trigger_batch_item_failed import TriggerBatchItemFailed  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:

            def _parse_items_item(data: object) -> TriggerBatchItemAccepted | TriggerBatchItemFailed:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    items_item_type_0 = TriggerBatchItemAccepted.from_dict(data)

                    return items_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                items_item_type_1 = TriggerBatchItemFailed.from_dict(data)

                return items_item_type_1

            items_item = _parse_items_item(items_item_data)

            items.append(items_item)

        trigger_batch_answer = cls(
            items=items,
        )

        trigger_batch_answer.additional_properties = d
        return trigger_batch_answer

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
