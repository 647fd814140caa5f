from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="TriggerPayload")


@_attrs_define
class TriggerPayload:
    """What the platform POSTs to a platform-managed runtime when it starts a run. It has no `type`:
    the ResumePayload and the CancelPayload, sent to the same URL, have one, and a runtime refuses a
    payload whose `type` it does not know (it is no trigger, and must not start the run's work again).

    """

    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    agent_id: int
    """ The agent the run belongs to. """
    input_: JsonObject
    """ Any JSON object. """
    agent_api_key: str
    """ The key for this run's callbacks and credential resolves (secret). """
    credentials_token: str | Unset = UNSET
    """ The token for credential resolves (secret), when the run has one. """
    traceparent: str | Unset = UNSET
    """ The W3C Trace Context `traceparent` of the request that triggered the run (trigger,
    trigger-and-wait or trigger-and-download), copied from its `traceparent` header, so that the
    runtime's callbacks and credential resolves continue the caller's trace (an extension of the
    seed's contract; see docs/observability.md). Absent when that request had none, or an invalid
    one: a runtime then starts a trace of its own.
     """
    tracestate: str | Unset = UNSET
    """ The W3C Trace Context `tracestate` of that request (its `tracestate` header; an extension of
    the seed's contract): vendor-specific trace data, passed on as received, and only beside a
    `traceparent`.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        run_id = self.run_id

        agent_id = self.agent_id

        input_ = self.input_.to_dict()

        agent_api_key = self.agent_api_key

        credentials_token = self.credentials_token

        traceparent = self.traceparent

        tracestate = self.tracestate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "runId": run_id,
                "agentId": agent_id,
                "input": input_,
                "agentApiKey": agent_api_key,
            }
        )
        if credentials_token is not UNSET:
            field_dict["credentialsToken"] = credentials_token
        if traceparent is not UNSET:
            field_dict["traceparent"] = traceparent
        if tracestate is not UNSET:
            field_dict["tracestate"] = tracestate

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.json_object import JsonObject  # noqa: PLC0415

        d = dict(src_dict)
        run_id = d.pop("runId")

        agent_id = d.pop("agentId")

        input_ = JsonObject.from_dict(d.pop("input"))

        agent_api_key = d.pop("agentApiKey")

        credentials_token = d.pop("credentialsToken", UNSET)

        traceparent = d.pop("traceparent", UNSET)

        tracestate = d.pop("tracestate", UNSET)

        trigger_payload = cls(
            run_id=run_id,
            agent_id=agent_id,
            input_=input_,
            agent_api_key=agent_api_key,
            credentials_token=credentials_token,
            traceparent=traceparent,
            tracestate=tracestate,
        )

        trigger_payload.additional_properties = d
        return trigger_payload

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
