"""The call's wall-clock deadline, enforced on every connect, read and write of the SDK's own sockets.

httpx cuts nothing short between reads: a server that sends a byte every half second, or its
headers one byte at a time, or `103 Early Hints` without end, never trips a read timeout. So the
SDK's own pools wrap httpcore's network backend (`_sockets`): each socket operation waits at most
until the deadline of the call it serves, and one that starts after it fails at once with
httpcore's timeout, which httpx turns into its own and the engine into APITimeoutError.

The deadline travels in the request's extensions (`EXTENSION`, a `time.monotonic()` value); the
SDK's transport (`_carry`) puts it in `current` while a request is sent and its answer's headers are
read (a context variable is per thread and per task), then on the answer's socket stream (`bind`)
for the reads of its body. This module imports
no httpcore, so `import cxpa_sdk` stays light.
"""

from __future__ import annotations

import contextvars
import time

EXTENSION = "cxpa_deadline"
current: contextvars.ContextVar[float | None] = contextvars.ContextVar("cxpa_deadline", default=None)


class Bound:
    """A socket stream (`_sockets`) that keeps the deadline of the exchange whose body it is reading.

    Set by the SDK's transport once an answer's headers are in, cleared when its body is closed: the
    body's reads then need no context variable, whoever reads them and whenever.
    """

    deadline: float | None = None


def bind(extensions: dict[str, object], deadline: float | None) -> Bound | None:
    """Give the answer's socket stream (httpcore names it in the extensions) the call's deadline."""
    stream = extensions.get("network_stream")
    if not isinstance(stream, Bound):
        return None
    stream.deadline = deadline
    return stream


def clamp(timeout: float | None, error: type[Exception], deadline: float | None = None) -> float | None:
    """`timeout` cut to the time left before `deadline` (default: the current one); `error` once it passed."""
    if deadline is None:
        deadline = current.get()
        if deadline is None:
            return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)
