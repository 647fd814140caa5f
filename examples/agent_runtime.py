"""An agent runtime on the runtime host (`cxpa_sdk.runtime`): each agent is a function, the host does the HTTP.

The platform POSTs each delivery to `/agents/<name>`; the host verifies it (the keys in
CXPA_SIGNING_SECRET), answers at once and runs the function in the background: `started` on entry,
its return value is `complete`, an exception is `fail`, nothing after a cancel. Serve it with

    CXPA_API_URL=http://127.0.0.1:8787 cxpa runtime serve agent_runtime:runtime --port 9000

and point the platform's agents at http://127.0.0.1:9000/agents/word-count (JSON) and
.../agents/word-report (a file). tests/runtime/test_example_runtime.py runs it against the local platform.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from cxpa_sdk import ResumePayload
from cxpa_sdk.runtime import RunContext, Runtime

runtime = Runtime()  # signing keys from CXPA_SIGNING_SECRET; the platform URL from CXPA_API_URL


@dataclass
class Text:
    """A run's input, checked when the run arrives: a bad one fails the run, naming the field."""

    text: str
    seconds: float = 0.0  # how long to work: a cancel stops the run while it sleeps
    approval: bool = False  # wait for a person to approve the count


@runtime.agent("word-count", max_concurrency=8)
async def word_count(run: RunContext[Text]) -> dict[str, Any]:
    """Count the words, reporting progress; wait for an approval when asked to."""
    words = run.input.text.split()
    await run.output({"progress": 0.5, "words": len(words)})
    await asyncio.sleep(min(run.input.seconds, 60.0))
    if run.input.approval:
        approval = await run.wait_for_token(f"tok_{run.run_id}", "waiting for a person to approve the count")
        return {"words": len(words), "approved": True, **approval}
    run.outputs = len(words)
    return {"words": len(words)}


@word_count.on_resume
async def word_count_resumed(run: RunContext[Text], payload: ResumePayload) -> dict[str, Any]:
    """A resume that reached another (or a restarted) process: count again from the input the payload carries."""
    return {"words": len(run.input.text.split()), "approved": True, **payload.output}


@runtime.file_agent("word-report", filename="words.csv", content_type="text/csv")
async def word_report(run: RunContext[Text]) -> AsyncIterator[bytes]:
    """A CSV of the words and their lengths, streamed as it is made."""
    yield b"word,length\n"
    for word in run.input.text.split():
        yield f"{word},{len(word)}\n".encode()


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(runtime.asgi(), host="127.0.0.1", port=9000)
