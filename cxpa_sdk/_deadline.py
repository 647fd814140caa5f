"""The call's wall-clock deadline, enforced on every connect, read and write of the SDK's own sockets.

httpx cuts nothing short between reads: a server that sends a byte every half second, or its
headers one byte at a time, or `103 Early Hints` without end, never trips a read timeout. So the
SDK's own pools wrap httpcore's network backend (`_sockets`): each socket operation waits at most
until the deadline of the call it serves, and one that starts after it fails at once with
httpcore's timeout, which httpx turns into its own and the engine into APITimeoutError.

The deadline travels in the request's extensions (`EXTENSION`, a `time.monotonic()` value); the
SDK's transport (`_gate`) puts it in `current` around each step that touches the network, for the
sync and async clients alike (a context variable is per thread and per task). This module imports
no httpcore, so `import cxpa_sdk` stays light.
"""

from __future__ import annotations

import contextvars
import time

EXTENSION = "cxpa_deadline"
current: contextvars.ContextVar[float | None] = contextvars.ContextVar("cxpa_deadline", default=None)


def clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` cut to the time left before the current deadline; `error` when it has passed."""
    deadline = current.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None else min(timeout, left)
