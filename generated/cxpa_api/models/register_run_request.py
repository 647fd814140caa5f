from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="RegisterRunRequest")


@_attrs_define
class RegisterRunRequest:
    """The body of `register_run`."""

    external_run_id: str
    """ The caller's own id for the run; registering it again returns the same run. """

    def to_dict(self) -> dict[str, Any]:
        external_run_id = self.external_run_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "externalRunId": external_run_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        external_run_id = d.pop("externalRunId")

        register_run_request = cls(
            external_run_id=external_run_id,
        )

        return register_run_request
