from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_status import RunStatus

if TYPE_CHECKING:
    from ..models.json_object import JsonObject
    from ..models.run_error import RunError
    from ..models.run_waiting import RunWaiting


T = TypeVar("T", bound="Run")


@_attrs_define
class Run:
    """The Run row, one execution of an agent (snake_case, as the platform stores it)."""

    id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    agent_id: int
    """ The id of the agent that runs it. """
    status: RunStatus
    """ Where a run is in its life: `queued -> running -> completed | failed | cancelled`,
    `running <-> waiting`, and `queued | running | waiting -> cancelled`. A terminal run
    (`completed`, `failed`, `cancelled`) never changes again.
     """
    input_data: JsonObject
    """ Any JSON object. """
    output_data: Any
    """ The run's output, any JSON, or null before there is one. """
    outputs: int | None
    """ A count of output units, as reported with the output. """
    error: None | RunError
    """ Why the run failed, or null. """
    external_run_id: None | str
    """ The caller's own id for a registered or ingested run, or null. """
    waiting: None | RunWaiting
    """ The token the run is paused on while `waiting`, else null. """
    created_at: datetime.datetime
    """ When the run was created (RFC 3339). """
    started_at: datetime.datetime | None
    """ When the run started (RFC 3339), or null. """
    finished_at: datetime.datetime | None
    """ When the run ended (RFC 3339), or null. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.run_error import RunError  # noqa: PLC0415
        from ..models.run_waiting import RunWaiting  # noqa: PLC0415

        id = self.id

        agent_id = self.agent_id

        status = self.status.value

        input_data = self.input_data.to_dict()

        output_data = self.output_data

        outputs: int | None
        outputs = self.outputs

        error: dict[str, Any] | None
        if isinstance(self.error, RunError):
            error = self.error.to_dict()
        else:
            error = self.error

        external_run_id: None | str
        external_run_id = self.external_run_id

        waiting: dict[str, Any] | None
        if isinstance(self.waiting, RunWaiting):
            waiting = self.waiting.to_dict()
        else:
            waiting = self.waiting

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "agent_id": agent_id,
                "status": status,
                "input_data": input_data,
                "output_data": output_data,
                "outputs": outputs,
                "error": error,
                "external_run_id": external_run_id,
                "waiting": waiting,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415
        from ..models.run_error import RunError  # noqa: PLC0415
        from ..models.run_waiting import RunWaiting  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        agent_id = d.pop("agent_id")

        status = RunStatus(d.pop("status"))

        input_data = JsonObject.from_dict(d.pop("input_data"))

        output_data = d.pop("output_data")

        def _parse_outputs(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        outputs = _parse_outputs(d.pop("outputs"))

        def _parse_error(data: object) -> None | RunError:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = RunError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunError, data)

        error = _parse_error(d.pop("error"))

        def _parse_external_run_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_run_id = _parse_external_run_id(d.pop("external_run_id"))

        def _parse_waiting(data: object) -> None | RunWaiting:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                waiting_type_0 = RunWaiting.from_dict(data)

                return waiting_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunWaiting, data)

        waiting = _parse_waiting(d.pop("waiting"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        run = cls(
            id=id,
            agent_id=agent_id,
            status=status,
            input_data=input_data,
            output_data=output_data,
            outputs=outputs,
            error=error,
            external_run_id=external_run_id,
            waiting=waiting,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
        )

        run.additional_properties = d
        return run

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
