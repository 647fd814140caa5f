"""The seed's six operations as async functions, one client per call: `from cxpa_sdk import aio`.

`base_url` and `ingest_api_key` fall back to `CXPA_API_URL` and `CXPA_INGEST_KEY`. For many calls,
create one `AsyncCxpa` and reuse its connection pool instead. `aio.as_completed` and
`aio.wait_all` wait for many `AsyncRunHandle`s at once.
"""

from . import _async_functions
from ._async_functions import *  # noqa: F403 - the six, named once in its __all__
from ._async_handles import as_completed, wait_all

__all__ = ["as_completed", "wait_all"]
__all__ += _async_functions.__all__

# The six read as `cxpa_sdk.aio.X` in help(), reprs and pickles, not as the private module.
for _name in _async_functions.__all__:
    globals()[_name].__module__ = __name__
del _name
