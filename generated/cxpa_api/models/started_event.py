from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="StartedEvent")


@_attrs_define
class StartedEvent:
    """The runtime began work (`started()`)."""

    type_: Literal["started"]
    """ The event tag. """
    lease_seconds: int | Unset = UNSET
    """ Ask for a lease of this many seconds (an extension of the seed's contract; see
    `post_callback` and docs/runtimes.md, "The lease"): while the run is running, a callback
    (any event, `heartbeat` the lightest) must arrive within each such interval, or the
    platform fails the run `RuntimeLost`. Absent: no lease (the run is bounded by
    `maxRunDurationMs` only).
     """

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        lease_seconds = self.lease_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )
        if lease_seconds is not UNSET:
            field_dict["leaseSeconds"] = lease_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = cast(Literal["started"], d.pop("type"))
        if type_ != "started":
            raise ValueError(f"type must match const 'started', got '{type_}'")

        lease_seconds = d.pop("leaseSeconds", UNSET)

        started_event = cls(
            type_=type_,
            lease_seconds=lease_seconds,
        )

        return started_event
