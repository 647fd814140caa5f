from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RegisteredRun")


@_attrs_define
class RegisteredRun:
    """The answer to `register_run`."""

    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    credentials_token: str
    """ A secret that lets the run's runtime resolve credentials; pass it with the agent API key. """
    expires_in_seconds: int
    """ How long the credentials token stays valid, in seconds. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        credentials_token = self.credentials_token

        expires_in_seconds = self.expires_in_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "runId": run_id,
                "credentialsToken": credentials_token,
                "expiresInSeconds": expires_in_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        run_id = d.pop("runId")

        credentials_token = d.pop("credentialsToken")

        expires_in_seconds = d.pop("expiresInSeconds")

        registered_run = cls(
            run_id=run_id,
            credentials_token=credentials_token,
            expires_in_seconds=expires_in_seconds,
        )

        registered_run.additional_properties = d
        return registered_run

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
