"""The seed's six operations as async functions, one client per call: `from cxpa_sdk import aio`.

`base_url` and `ingest_api_key` fall back to `CXPA_API_URL` and `CXPA_INGEST_KEY`. For many calls,
create one `AsyncCxpa` and reuse its connection pool instead. `aio.as_completed` and
`aio.wait_all` wait for many `AsyncRunHandle`s at once.
"""

from ._async_functions import (
    create_agent_client,
    ingest_run,
    register_run,
    trigger_run,
    trigger_run_and_download,
    trigger_run_and_wait,
)
from ._async_handles import as_completed, wait_all

__all__ = [
    "as_completed",
    "create_agent_client",
    "ingest_run",
    "register_run",
    "trigger_run",
    "trigger_run_and_download",
    "trigger_run_and_wait",
    "wait_all",
]

# The six read as `cxpa_sdk.aio.X` in help(), reprs and pickles, not as the private module.
_SEED = (create_agent_client, ingest_run, register_run, trigger_run, trigger_run_and_download, trigger_run_and_wait)
for _function in _SEED:
    _function.__module__ = __name__
del _function, _SEED
