from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.agent_managed_by import AgentManagedBy
from ..models.agent_output_kind import AgentOutputKind

T = TypeVar("T", bound="Agent")


@_attrs_define
class Agent:
    """An agent registered on the platform."""

    id: int
    """ The agent's id. """
    name: str
    """ A short name for people. """
    managed_by: AgentManagedBy
    """ `platform`: the platform triggers its runtime; `standalone`: it reports its runs through ingest. """
    output_kind: AgentOutputKind
    """ `json`: the output is a JSON payload; `file_download`: the output is a streamed file. """
    max_run_duration_ms: int
    """ How long one run may take, in milliseconds; waits are capped at it. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        managed_by = self.managed_by.value

        output_kind = self.output_kind.value

        max_run_duration_ms = self.max_run_duration_ms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "managedBy": managed_by,
                "outputKind": output_kind,
                "maxRunDurationMs": max_run_duration_ms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        managed_by = AgentManagedBy(d.pop("managedBy"))

        output_kind = AgentOutputKind(d.pop("outputKind"))

        max_run_duration_ms = d.pop("maxRunDurationMs")

        agent = cls(
            id=id,
            name=name,
            managed_by=managed_by,
            output_kind=output_kind,
            max_run_duration_ms=max_run_duration_ms,
        )

        agent.additional_properties = d
        return agent

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
