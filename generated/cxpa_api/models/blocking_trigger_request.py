from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="BlockingTriggerRequest")


@_attrs_define
class BlockingTriggerRequest:
    """The body of `trigger_run_and_wait` and `trigger_run_and_download`."""

    input_: JsonObject
    """ Any JSON object. """
    timeout_ms: int | Unset = UNSET
    """ How long to hold the request, in milliseconds (30000 when absent). The server caps it at
    the agent's `maxRunDurationMs` and at 300000.
     """

    def to_dict(self) -> dict[str, Any]:
        input_ = self.input_.to_dict()

        timeout_ms = self.timeout_ms

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "input": input_,
            }
        )
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415

        d = dict(src_dict)
        input_ = JsonObject.from_dict(d.pop("input"))

        timeout_ms = d.pop("timeoutMs", UNSET)

        blocking_trigger_request = cls(
            input_=input_,
            timeout_ms=timeout_ms,
        )

        return blocking_trigger_request
