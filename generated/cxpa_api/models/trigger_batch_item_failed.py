from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="TriggerBatchItemFailed")


@_attrs_define
class TriggerBatchItemFailed:
    """An item of `trigger_runs_batch` that started no run: the error `trigger_run` would have
    answered for it (`payload_too_large`, `idempotency_key_reused`, `idempotency_in_progress`,
    ...). The other items are not affected.

    """

    idempotency_key: str
    """ An idempotency key (the `Idempotency-Key` header's rule, and a batch item's
    `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
     """
    status: int
    """ The HTTP status `trigger_run` would have answered for the item (413, 422, 409, 429, 503, ...). """
    error: ErrorDetail
    """ What went wrong. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        idempotency_key = self.idempotency_key

        status = self.status

        error = self.error.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "idempotencyKey": idempotency_key,
                "status": status,
                "error": error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_detail import ErrorDetail  # noqa: PLC0415

        d = dict(src_dict)
        idempotency_key = d.pop("idempotencyKey")

        status = d.pop("status")

        error = ErrorDetail.from_dict(d.pop("error"))

        trigger_batch_item_failed = cls(
            idempotency_key=idempotency_key,
            status=status,
            error=error,
        )

        trigger_batch_item_failed.additional_properties = d
        return trigger_batch_item_failed

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
