"""What a spawned child process runs in tests/sdk/test_pickling.py.

A spawned child unpickles the functions it runs by module name; the test modules are imported by
pytest's importlib mode under names no child can import, while this module sits on the `tests`
path (pytest's `pythonpath`), which the child inherits.
"""

from __future__ import annotations

import os

from cxpa_sdk import Cxpa
from cxpa_sdk.testing import APPROVAL, SLOW


def child_call(base_url: str, which: str, run_id: str) -> None:
    """In the child process: a real call against the local platform that raises (WaitTimeoutError or ConflictError)."""
    with Cxpa(base_url=base_url, max_retries=0) as client:  # the key comes from the child's environment
        if which == "wait":
            client.wait_for_run(SLOW, run_id, timeout=0.2)
        else:
            client.cancel_run(APPROVAL, run_id)


def child_init(key: str) -> None:
    """The child's environment: the ingest key, as a worker would have it."""
    os.environ["CXPA_INGEST_KEY"] = key
