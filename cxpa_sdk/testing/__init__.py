"""A local CXPA platform for tests, demos and offline development: `LocalPlatform`.

It implements every endpoint of openapi.yaml over real HTTP on loopback, runs agent runtimes that
call back through the real callback endpoint, waits without polling, streams files in constant
memory, and injects faults. Needs the `testing` extra: `pip install "cxpa-sdk[testing]"`.

Examples:
    >>> from cxpa_sdk.testing import LocalPlatform                 # doctest: +SKIP
    >>> platform = LocalPlatform()                                 # doctest: +SKIP
    >>> with platform.serve() as base_url:                         # doctest: +SKIP
    ...     print(base_url, platform.ingest_key)
"""

from ._builtins import APPROVAL, ECHO, FAIL, REPORT, SLOW, STANDALONE, report_bytes
from ._faults import FaultRule, Faults
from ._platform import DEFAULT_INGEST_KEY, LocalPlatform
from ._runs import Agent
from ._runtime import RuntimeCall, RuntimeFile

__all__ = [
    "APPROVAL",
    "DEFAULT_INGEST_KEY",
    "ECHO",
    "FAIL",
    "REPORT",
    "SLOW",
    "STANDALONE",
    "Agent",
    "FaultRule",
    "Faults",
    "LocalPlatform",
    "RuntimeCall",
    "RuntimeFile",
    "report_bytes",
]
