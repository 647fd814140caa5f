from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="TriggerBatchItem")


@_attrs_define
class TriggerBatchItem:
    """One run to start in `trigger_runs_batch`: exactly a `trigger_run` with this
    `Idempotency-Key` and the body `{"input": <input>}`.

    """

    idempotency_key: str
    """ An idempotency key (the `Idempotency-Key` header's rule, and a batch item's
    `idempotencyKey`): 1 to 255 visible ASCII characters; refused from either side otherwise.
     """
    input_: JsonObject
    """ Any JSON object. """

    def to_dict(self) -> dict[str, Any]:
        idempotency_key = self.idempotency_key

        input_ = self.input_.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "idempotencyKey": idempotency_key,
                "input": input_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415

        d = dict(src_dict)
        idempotency_key = d.pop("idempotencyKey")

        input_ = JsonObject.from_dict(d.pop("input"))

        trigger_batch_item = cls(
            idempotency_key=idempotency_key,
            input_=input_,
        )

        return trigger_batch_item
