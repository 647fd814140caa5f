from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.resume_payload_type import ResumePayloadType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.json_object import JsonObject


T = TypeVar("T", bound="ResumePayload")


@_attrs_define
class ResumePayload:
    """What the platform POSTs to a platform-managed runtime's URL when a run that reported `waiting`
    is resumed on its token (an extension of the seed's contract; see docs/runtimes.md). Sent to the
    same URL as the TriggerPayload; `type` tells them apart. The runtime answers 2xx at once, then
    sends `started` (waiting -> running) and goes on; any other answer, or none, ends the run failed.
    A runtime that never reports `waiting` never receives one.

        Example:
            {'type': 'resumed', 'runId': 'run_8f14e45fceea167a', 'agentId': 42, 'tokenId': 'tok_approval', 'output':
                {'approvedBy': 'dana'}, 'input': {'topic': 'Q3 financial summary'}, 'agentApiKey': 'cxpa_agent_example_key',
                'credentialsToken': 'ctok_example_token'}

    """

    type_: ResumePayloadType
    """ Always `resumed`; a TriggerPayload has no `type`. """
    run_id: str
    """ A run's id (the id rule): 1 to 128 visible ASCII characters, never `.` or `..`; refused from either side
    otherwise.
     """
    agent_id: int
    """ The agent the run belongs to. """
    token_id: str
    """ A token a run waits on (`waiting`) and is resumed by (the id rule, at most 256 characters): 1 to
    256 visible ASCII characters, never `.` or `..`; refused from either side otherwise.
     """
    output: JsonObject
    """ Any JSON object. """
    agent_api_key: str
    """ The key for this run's callbacks and credential resolves (secret). """
    input_: JsonObject | Unset = UNSET
    """ Any JSON object. """
    credentials_token: str | Unset = UNSET
    """ A fresh token for credential resolves (secret); the trigger's may have expired. """
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
        type_ = self.type_.value

        run_id = self.run_id

        agent_id = self.agent_id

        token_id = self.token_id

        output = self.output.to_dict()

        agent_api_key = self.agent_api_key

        input_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.input_, Unset):
            input_ = self.input_.to_dict()

        credentials_token = self.credentials_token

        traceparent = self.traceparent

        tracestate = self.tracestate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "runId": run_id,
                "agentId": agent_id,
                "tokenId": token_id,
                "output": output,
                "agentApiKey": agent_api_key,
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_
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
        type_ = ResumePayloadType(d.pop("type"))

        run_id = d.pop("runId")

        agent_id = d.pop("agentId")

        token_id = d.pop("tokenId")

        output = JsonObject.from_dict(d.pop("output"))

        agent_api_key = d.pop("agentApiKey")

        _input_ = d.pop("input", UNSET)
        input_: JsonObject | Unset
        if isinstance(_input_, Unset):
            input_ = UNSET
        else:
            input_ = JsonObject.from_dict(_input_)

        credentials_token = d.pop("credentialsToken", UNSET)

        traceparent = d.pop("traceparent", UNSET)

        tracestate = d.pop("tracestate", UNSET)

        resume_payload = cls(
            type_=type_,
            run_id=run_id,
            agent_id=agent_id,
            token_id=token_id,
            output=output,
            agent_api_key=agent_api_key,
            input_=input_,
            credentials_token=credentials_token,
            traceparent=traceparent,
            tracestate=tracestate,
        )

        resume_payload.additional_properties = d
        return resume_payload

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
