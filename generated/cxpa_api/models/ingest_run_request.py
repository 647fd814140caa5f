from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.run_status import RunStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.run_error import RunError


T = TypeVar("T", bound="IngestRunRequest")


@_attrs_define
class IngestRunRequest:
    """The body of `ingest_run`."""

    external_run_id: str
    """ The caller's own id for the run; the run is created or updated by it. """
    status: RunStatus
    """ Where a run is in its life: `queued -> running -> completed | failed | cancelled`,
    `running <-> waiting`, and `queued | running | waiting -> cancelled`. A terminal run
    (`completed`, `failed`, `cancelled`) never changes again.
     """
    output: Any | Unset = UNSET
    """ The run's output, any JSON. """
    outputs: int | Unset = UNSET
    """ A count of output units. """
    error: RunError | Unset = UNSET
    """ Why a run failed. """

    def to_dict(self) -> dict[str, Any]:
        external_run_id = self.external_run_id

        status = self.status.value

        output = self.output

        outputs = self.outputs

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "externalRunId": external_run_id,
                "status": status,
            }
        )
        if output is not UNSET:
            field_dict["output"] = output
        if outputs is not UNSET:
            field_dict["outputs"] = outputs
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_error import RunError  # noqa: PLC0415

        d = dict(src_dict)
        external_run_id = d.pop("externalRunId")

        status = RunStatus(d.pop("status"))

        output = d.pop("output", UNSET)

        outputs = d.pop("outputs", UNSET)

        _error = d.pop("error", UNSET)
        error: RunError | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = RunError.from_dict(_error)

        ingest_run_request = cls(
            external_run_id=external_run_id,
            status=status,
            output=output,
            outputs=outputs,
            error=error,
        )

        return ingest_run_request
