"""cxpa-sdk: the Python SDK for the CXPA agent-runs platform.

Trigger agent runs, wait for them, stream the files they produce, register and report runs of
your own, and write agent runtimes that call back with progress; sync here, async in
`cxpa_sdk.aio` and `AsyncCxpa`. The low-level client generated from openapi.yaml is `cxpa_api`;
a local platform for tests is `cxpa_sdk.testing`.
"""

from . import _errors, _functions
from ._async_client import AsyncCxpa
from ._async_handles import AsyncRunHandle
from ._batch._items import FinishedItem, TriggeredItem
from ._client import Cxpa
from ._download._async_stream import AsyncDownload
from ._download._filenames import content_disposition
from ._download._stream import Download
from ._errors import *  # noqa: F403 - the error tree, named once in its __all__
from ._functions import *  # noqa: F403 - the six seed operations, named once in its __all__
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
    "AgentClient",
    "AsyncAgentClient",
    "AsyncCxpa",
    "AsyncDownload",
    "AsyncRunHandle",
    "CallbackAccepted",
    "CancelPayload",
    "Credential",
    "Cxpa",
    "Download",
    "FinishedItem",
    "Hook",
    "InMemorySeenDeliveries",
    "IngestedRun",
    "RegisteredRun",
    "ResumePayload",
    "Run",
    "RunError",
    "RunEvent",
    "RunFailedError",
    "RunHandle",
    "RunStatus",
    "RunWaiting",
    "SeenDeliveries",
    "TriggerPayload",
    "TriggeredItem",
    "TriggeredRun",
    "WaitTimedOut",
    "__version__",
    "as_completed",
    "content_disposition",
    "parse_runtime_payload",
    "verify_delivery",
    "wait_all",
]
# The error tree and the six seed operations are named once, in their modules' own __all__ (pyright
# and mypy read these `+=` as they read a literal list).
__all__ += _errors.__all__
__all__ += _functions.__all__

# Exported names read `cxpa_sdk.Cxpa` in reprs and tracebacks, not the private module. The result
# types keep `cxpa_sdk.types`, a public module: typing.get_type_hints (and so pydantic and FastAPI)
# resolves a class's string annotations in the namespace of its `__module__`, which for those is
# the module that imports what they name. (tests/sdk/test_types_hints.py checks every class here.)
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith(f"{__name__}._"):
        _obj.__module__ = __name__
del _name, _obj
