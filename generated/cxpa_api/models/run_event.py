from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_event_type import RunEventType
from ..models.run_status import RunStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.run import Run
    from ..models.run_waiting import RunWaiting


T = TypeVar("T", bound="RunEvent")


@_attrs_define
class RunEvent:
    """One change of a run (an extension of the seed's contract): `status` (a transition with no
    more specific event: `queued` at creation, `running` when started or resumed, an ingested
    status), `output` (an output the runtime or an ingest sent, intermediate or final), `waiting`
    (the run paused on a token), `ended` (the run became terminal: always its last event). A
    platform may add types: a caller skips a type it does not know.

    """

    cursor: str
    """ A position in a run's events (opaque): 1 to 256 visible ASCII characters; refused from either side
    otherwise.
     """
    type_: RunEventType
    """ What changed. """
    at: datetime.datetime
    """ When it changed (RFC 3339). """
    status: RunStatus
    """ Where a run is in its life: `queued -> running -> completed | failed | cancelled`,
    `running <-> waiting`, and `queued | running | waiting -> cancelled`. A terminal run
    (`completed`, `failed`, `cancelled`) never changes again.
     """
    output: Any | Unset = UNSET
    """ For `output`, the output sent (any JSON). """
    waiting: RunWaiting | Unset = UNSET
    """ The token a waiting run is paused on. """
    run: Run | Unset = UNSET
    """ The Run row, one execution of an agent (snake_case, as the platform stores it). """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cursor = self.cursor

        type_ = self.type_.value

        at = self.at.isoformat()

        status = self.status.value

        output = self.output

        waiting: dict[str, Any] | Unset = UNSET
        if not isinstance(self.waiting, Unset):
            waiting = self.waiting.to_dict()

        run: dict[str, Any] | Unset = UNSET
        if not isinstance(self.run, Unset):
            run = self.run.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cursor": cursor,
                "type": type_,
                "at": at,
                "status": status,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output
        if waiting is not UNSET:
            field_dict["waiting"] = waiting
        if run is not UNSET:
            field_dict["run"] = run

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run import Run  # noqa: PLC0415
        from ..models.run_waiting import RunWaiting  # noqa: PLC0415

        d = dict(src_dict)
        cursor = d.pop("cursor")

        type_ = RunEventType(d.pop("type"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        status = RunStatus(d.pop("status"))

        output = d.pop("output", UNSET)

        _waiting = d.pop("waiting", UNSET)
        waiting: RunWaiting | Unset
        if isinstance(_waiting, Unset):
            waiting = UNSET
        else:
            waiting = RunWaiting.from_dict(_waiting)

        _run = d.pop("run", UNSET)
        run: Run | Unset
        if isinstance(_run, Unset):
            run = UNSET
        else:
            run = Run.from_dict(_run)

        run_event = cls(
            cursor=cursor,
            type_=type_,
            at=at,
            status=status,
            output=output,
            waiting=waiting,
            run=run,
        )

        run_event.additional_properties = d
        return run_event

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
