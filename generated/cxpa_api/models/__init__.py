"""Contains all the data models used in inputs/outputs"""

from .agent import Agent
from .agent_managed_by import AgentManagedBy
from .agent_output_kind import AgentOutputKind
from .blocking_trigger_request import BlockingTriggerRequest
from .callback_accepted import CallbackAccepted
from .cancel_payload import CancelPayload
from .cancel_payload_type import CancelPayloadType
from .credential import Credential
from .credential_values import CredentialValues
from .error import Error
from .error_detail import ErrorDetail
from .heartbeat_event import HeartbeatEvent
from .ingest_run_request import IngestRunRequest
from .ingested_run import IngestedRun
from .json_object import JsonObject
from .missing_run import MissingRun
from .output_event import OutputEvent
from .register_run_request import RegisterRunRequest
from .registered_run import RegisteredRun
from .resume_payload import ResumePayload
from .resume_payload_type import ResumePayloadType
from .resume_run_request import ResumeRunRequest
from .run import Run
from .run_error import RunError
from .run_event import RunEvent
from .run_event_type import RunEventType
from .run_events import RunEvents
from .run_ref import RunRef
from .run_status import RunStatus
from .run_waiting import RunWaiting
from .runs_waited import RunsWaited
from .started_event import StartedEvent
from .trigger_batch_answer import TriggerBatchAnswer
from .trigger_batch_item import TriggerBatchItem
from .trigger_batch_item_accepted import TriggerBatchItemAccepted
from .trigger_batch_item_failed import TriggerBatchItemFailed
from .trigger_batch_request import TriggerBatchRequest
from .trigger_payload import TriggerPayload
from .trigger_run_request import TriggerRunRequest
from .triggered_run import TriggeredRun
from .wait_for_runs_request import WaitForRunsRequest
from .wait_timed_out import WaitTimedOut
from .waiting_event import WaitingEvent

__all__ = (
    "Agent",
    "AgentManagedBy",
    "AgentOutputKind",
    "BlockingTriggerRequest",
    "CallbackAccepted",
    "CancelPayload",
    "CancelPayloadType",
    "Credential",
    "CredentialValues",
    "Error",
    "ErrorDetail",
    "HeartbeatEvent",
    "IngestedRun",
    "IngestRunRequest",
    "JsonObject",
    "MissingRun",
    "OutputEvent",
    "RegisteredRun",
    "RegisterRunRequest",
    "ResumePayload",
    "ResumePayloadType",
    "ResumeRunRequest",
    "Run",
    "RunError",
    "RunEvent",
    "RunEvents",
    "RunEventType",
    "RunRef",
    "RunStatus",
    "RunsWaited",
    "RunWaiting",
    "StartedEvent",
    "TriggerBatchAnswer",
    "TriggerBatchItem",
    "TriggerBatchItemAccepted",
    "TriggerBatchItemFailed",
    "TriggerBatchRequest",
    "TriggeredRun",
    "TriggerPayload",
    "TriggerRunRequest",
    "WaitForRunsRequest",
    "WaitingEvent",
    "WaitTimedOut",
)
