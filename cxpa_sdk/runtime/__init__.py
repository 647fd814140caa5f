"""The runtime host: declare an agent as a function, serve it with one line (`pip install "cxpa-sdk[runtime]"`).

Examples:
    >>> from cxpa_sdk.runtime import Runtime, RunContext                      # doctest: +SKIP
    >>> runtime = Runtime()  # keys from CXPA_SIGNING_SECRET; platform URL from CXPA_API_URL
    >>> @runtime.agent("word-count", max_concurrency=8)
    ... async def word_count(run: RunContext) -> dict[str, int]:
    ...     await run.output({"progress": 0.5})
    ...     return {"words": len(run.input["text"].split())}
    >>> app = runtime.asgi()  # POST /agents/word-count; serve with uvicorn or `cxpa runtime serve`

`Runtime` holds the agents and serves them; `RunContext` is what an async agent function is given,
`SyncRunContext` what a sync one is; `HostedAgent` is what `@runtime.agent(...)` returns.
"""

from ._context import RunContext, SyncRunContext
from ._files import AgentFile
from ._host import HostedAgent, Runtime

__all__ = ["AgentFile", "HostedAgent", "RunContext", "Runtime", "SyncRunContext"]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
