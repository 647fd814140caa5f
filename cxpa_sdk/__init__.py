"""cxpa-sdk: the Python SDK for the CXPA agent-runs platform.

Trigger agent runs, wait for them, stream the files they produce, register and report runs of
your own, and write agent runtimes that call back with progress; sync here, async in
`cxpa_sdk.aio` and `AsyncCxpa`. The low-level client generated from openapi.yaml is `cxpa_api`;
a local platform for tests is `cxpa_sdk.testing`.
"""

from ._async_client import AsyncCxpa
from ._async_handles import AsyncRunHandle
from ._client import Cxpa
from ._download._async_stream import AsyncDownload
from ._download._filenames import content_disposition
from ._download._stream import Download
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CxpaError,
    DeliveryVerificationError,
    DownloadConsumedError,
    DownloadTooLargeError,
    IncompleteDownloadError,
    InternalServerError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    InvalidResponseError,
    LocalFileError,
    MissingConfigError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    RunCancelledError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from ._functions import (
    create_agent_client,
    ingest_run,
    register_run,
    trigger_run,
    trigger_run_and_download,
    trigger_run_and_wait,
)
from ._runtime._agent import AgentClient, AsyncAgentClient
from ._runtime._delivery import parse_runtime_payload, verify_delivery
from ._runtime._seen import InMemorySeenDeliveries, SeenDeliveries
from ._sync_handles import RunHandle, as_completed, wait_all
from ._version import __version__
from .hooks import Hook
from .types import (
    CallbackAccepted,
    CancelPayload,
    Credential,
    IngestedRun,
    RegisteredRun,
    ResumePayload,
    Run,
    RunError,
    RunEvent,
    RunFailedError,
    RunStatus,
    RunWaiting,
    TriggeredRun,
    TriggerPayload,
    WaitTimedOut,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AgentClient",
    "AsyncAgentClient",
    "AsyncCxpa",
    "AsyncDownload",
    "AsyncRunHandle",
    "AuthenticationError",
    "BadRequestError",
    "CallbackAccepted",
    "CancelPayload",
    "ConflictError",
    "Credential",
    "Cxpa",
    "CxpaError",
    "DeliveryVerificationError",
    "Download",
    "DownloadConsumedError",
    "DownloadTooLargeError",
    "Hook",
    "InMemorySeenDeliveries",
    "IncompleteDownloadError",
    "IngestedRun",
    "InternalServerError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "InvalidResponseError",
    "LocalFileError",
    "MissingConfigError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RegisteredRun",
    "ResumePayload",
    "Run",
    "RunCancelledError",
    "RunError",
    "RunEvent",
    "RunFailedError",
    "RunHandle",
    "RunStatus",
    "RunWaiting",
    "SeenDeliveries",
    "TriggerPayload",
    "TriggeredRun",
    "UnprocessableEntityError",
    "WaitTimedOut",
    "WaitTimeoutError",
    "__version__",
    "as_completed",
    "content_disposition",
    "create_agent_client",
    "ingest_run",
    "parse_runtime_payload",
    "register_run",
    "trigger_run",
    "trigger_run_and_download",
    "trigger_run_and_wait",
    "verify_delivery",
    "wait_all",
]

# Exported names read `cxpa_sdk.Cxpa` in reprs and tracebacks, not the private module. The result
# types keep `cxpa_sdk.types`, a public module: typing.get_type_hints (and so pydantic and FastAPI)
# resolves a class's string annotations in the namespace of its `__module__`, which for those is
# the module that imports what they name. (tests/sdk/test_types_hints.py checks every class here.)
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith(f"{__name__}._"):
        _obj.__module__ = __name__
del _name, _obj
